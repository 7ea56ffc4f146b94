"""Figures from the summary tables when they can be (汇总表取数), from the records otherwise.

Two summaries (``db.models.figures``), kept exact by triggers, hold how many records share a
grouping key. A query is answered from the smallest that holds everything it filters and
groups by:

- ``record_figures_monthly`` (:func:`answerable_monthly`): whole Beijing months, regions no
  finer than a county (filter, jurisdiction and grouping), kind, source, category; no status
  or risk filter or grouping (the success rates read its concluded/resolved counts);
- ``record_figures`` (:func:`answerable`): whole Beijing days (``occurredFrom``/``occurredTo``
  at 00:00 +08:00), any filter on kind, source, category, status, risk, region, withdrawn, any
  grouping, level and bucket;
- else the records (``db.stats``), unchanged: a text search, a party name, a bound within a day.

The jurisdiction and kinds a principal may read are applied to the summary's rows before
anything is summed (region prefixes are a prefix of the summary's code; a record without a
region is the ``''`` code), and suppression happens after, on the settled figures, as before.

Two KPIs take their numerator from the links (重复信访率, 警情分流率): the triggers keep what
the links (and, for 重复信访, the petition system's own 重复信访次数) make of each record as
two flags on it (``repeat_petition``, ``referred``; ``db.models.figure_triggers.LINK_FLAGS``),
which are summary key columns too, so those numerators are summed from the same cells as
everything else (:data:`db.stats.LINKED_FLAGS`). The records path still reads the links and
the petitions' counts themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    FunctionElement,
    Table,
    and_,
    func,
    true,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles

from db.models import RecordFigure, RecordFigureMonthly
from db.models.figures import NO_REGION
from db.queries import (
    RecordCriteria,
    RecordScope,
    region_prefix,
    scope_conditions,
    value_conditions,
)
from db.stats import (
    LINKED_FLAGS,
    RECORD_COUNTING,
    SQLITE_BUCKET_MODIFIERS,
    Counting,
    Group,
    StatQuery,
    grouped_counts_many,
    kpi_conditions,
)
from domain.calendar import SHANGHAI
from domain.enums import RecordKind, RegionLevel
from domain.stats import KpiClass, KpiId, StatDimension, TimeBucket, beijing_date

FIGURES: Table = RecordFigure.__table__  # type: ignore[assignment]  # declarative tables are Tables
MONTHLY: Table = RecordFigureMonthly.__table__  # type: ignore[assignment]

use_summary: ContextVar[bool] = ContextVar("use_summary", default=True)
"""Off: every figure is counted from the records (the benchmark's comparison)."""


class day_bucket(FunctionElement[Any]):
    """The start of the Beijing calendar bucket a Beijing day falls in (dialect-specific)."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], bucket: TimeBucket) -> None:
        super().__init__(column)
        self.bucket = bucket


@compiles(day_bucket)
def _day_bucket_postgresql(element: day_bucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    if element.bucket is TimeBucket.DAY:
        return str(column)
    return f"date_trunc('{element.bucket.value.lower()}', CAST({column} AS timestamp))"


@compiles(day_bucket, "sqlite")
def _day_bucket_sqlite(element: day_bucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"date({column}{SQLITE_BUCKET_MODIFIERS[element.bucket]})"


def _whole_day(moment: datetime | None) -> bool:
    return moment is None or moment.astimezone(SHANGHAI).time() == time(0)


def answerable(criteria: RecordCriteria) -> bool:
    """Whether the summary holds everything this filter needs (else: count records)."""
    return (
        not criteria.search
        and not criteria.party_name
        and _whole_day(criteria.occurred_from)
        and _whole_day(criteria.occurred_to)
    )


class SummaryCounting(Counting):
    """Counting the summary's cells: each stands for ``record_count`` records."""

    table: FromClause = FIGURES
    date_column = "day"
    """The cells' Beijing date: the day, or the first day of the month."""

    def conditions(self, criteria: RecordCriteria, scope: RecordScope) -> list[Any]:
        date = self.table.c[self.date_column]
        conditions = scope_conditions(scope, self.table, no_region=NO_REGION)
        conditions += value_conditions(criteria, self.table)
        if criteria.occurred_from is not None:
            conditions.append(date >= beijing_date(criteria.occurred_from))
        if criteria.occurred_to is not None:
            conditions.append(date < beijing_date(criteria.occurred_to))
        return conditions

    def period(self, bucket: TimeBucket) -> ColumnElement[Any]:
        return day_bucket(self.table.c[self.date_column], bucket)

    def tally(self, condition: ColumnElement[bool] | None = None) -> ColumnElement[int]:
        total = func.sum(FIGURES.c.record_count)
        return func.coalesce(total if condition is None else total.filter(condition), 0)

    def kpi_tallies(self, kpi: KpiId) -> tuple[ColumnElement[int], ColumnElement[int]]:
        if kpi in LINKED_FLAGS:  # the numerator: the cells of the records the links flag
            denominator, _ = kpi_conditions(kpi, self.table)
            flagged = self.table.c[LINKED_FLAGS[kpi]] == true()
            return self.tally(denominator), self.tally(and_(denominator, flagged))
        return super().kpi_tallies(kpi)


def _month_start(moment: datetime | None) -> bool:
    return moment is None or (_whole_day(moment) and beijing_date(moment).day == 1)


_MONTHLY_DIMENSIONS = frozenset(
    {StatDimension.KIND, StatDimension.SOURCE, StatDimension.CATEGORY, StatDimension.REGION}
)
_MONTHLY_LEVELS = frozenset({RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY})
_MONTHLY_BUCKETS = frozenset({None, TimeBucket.MONTH, TimeBucket.QUARTER, TimeBucket.YEAR})
_COUNTY_CODE = 6


def answerable_monthly(query: StatQuery, scope: RecordScope) -> bool:
    """Whether the monthly summary holds everything ``query`` needs within ``scope``: whole
    Beijing months, regions no finer than a county (filter, jurisdiction, grouping), no status
    or risk filter or grouping (status only through the KPIs that count concluded/resolved)."""
    criteria = query.criteria
    prefixes = [*scope.region_prefixes]
    if criteria.region_code is not None:
        prefixes.append(region_prefix(criteria.region_code))
    return (
        answerable(criteria)
        and _month_start(criteria.occurred_from)
        and _month_start(criteria.occurred_to)
        and not criteria.statuses
        and not criteria.risk_levels
        and set(query.dimensions) <= _MONTHLY_DIMENSIONS
        and (StatDimension.REGION not in query.dimensions or query.region_level in _MONTHLY_LEVELS)
        and query.bucket in _MONTHLY_BUCKETS
        and all(len(prefix) <= _COUNTY_CODE for prefix in prefixes)
    )


class MonthlyCounting(SummaryCounting):
    """Counting the monthly summary's cells (county, Beijing month, kind, source, category)."""

    table: FromClause = MONTHLY
    date_column = "month"

    def kpi_tallies(self, kpi: KpiId) -> tuple[ColumnElement[int], ColumnElement[int]]:
        # the two success rates count concluded and resolved records (status is a measure
        # here); the rest are over kind and KPI class, as in the finest summary
        c = MONTHLY.c
        match kpi:
            case KpiId.MEDIATION_SUCCESS_RATE:
                among = c.kind == RecordKind.DISPUTE
            case KpiId.PRE_SUIT_MEDIATION_SUCCESS_RATE:
                among = c.kpi_class == KpiClass.PRE_SUIT_MEDIATION
            case _:
                return super().kpi_tallies(kpi)
        return (
            func.coalesce(func.sum(c.concluded_count).filter(among), 0),
            func.coalesce(func.sum(c.resolved_count).filter(among), 0),
        )

    def tally(self, condition: ColumnElement[bool] | None = None) -> ColumnElement[int]:
        total = func.sum(MONTHLY.c.record_count)
        return func.coalesce(total if condition is None else total.filter(condition), 0)


SUMMARY_COUNTING = SummaryCounting()
MONTHLY_COUNTING = MonthlyCounting()


async def counted_groups(
    connection: AsyncConnection, queries: Sequence[StatQuery], scope: RecordScope
) -> list[list[Group]]:
    """The groups of each query (as ``db.stats.grouped_counts_many``), each from the smallest
    source that holds what it needs: the monthly summary, the finest one, else the records."""
    by_counting: dict[Counting, list[StatQuery]] = {}
    for query in dict.fromkeys(queries):
        if not use_summary.get() or not answerable(query.criteria):
            counting: Counting = RECORD_COUNTING
        elif answerable_monthly(query, scope):
            counting = MONTHLY_COUNTING
        else:
            counting = SUMMARY_COUNTING
        by_counting.setdefault(counting, []).append(query)
    results: dict[StatQuery, list[Group]] = {}
    for counting, chosen in by_counting.items():
        found = await grouped_counts_many(connection, chosen, scope, counting)
        results.update(zip(chosen, found, strict=True))
    return [results[query] for query in queries]
