"""Figures from the summary table when they can be (汇总表取数), from the records otherwise.

``record_figures`` (``db.models.figures``) holds, per finest grouping key, how many records
have it, kept exact by triggers. A query is answered from it when everything it filters and
groups by is in that key (:func:`answerable`):

- filters on kind, source, category, status, risk level, region (a code prefix), withdrawn;
- a period made of whole Beijing days (``occurredFrom``/``occurredTo`` at 00:00 +08:00);
- grouping by any dimension, region at any level, any time bucket (built from the day).

A text search, a party name or a bound within a day needs the records themselves: those
queries fall back to counting records (``db.stats``), unchanged. The jurisdiction and kinds a
principal may read are applied to the summary's rows before anything is summed (region
prefixes are a prefix of the finest code; a record without a region is the ``''`` code), and
suppression happens after, on the settled figures, as before.

Two KPIs take their numerator from the links (重复信访率, 警情分流率); the summary gives their
denominators, and the few records the links name are counted from the records by the same
keys (:data:`LINKED_COUNTING`), the two added group by group.
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
    Integer,
    Table,
    func,
    literal,
    union,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles

from db.models import RecordFigure
from db.models.figures import NO_REGION
from db.queries import (
    RECORDS,
    RecordCriteria,
    RecordScope,
    record_conditions,
    scope_conditions,
    value_conditions,
)
from db.stats import (
    LINKED_KPIS,
    SQLITE_BUCKET_MODIFIERS,
    Counting,
    Group,
    StatQuery,
    grouped_counts_many,
)
from domain.calendar import SHANGHAI
from domain.stats import KpiId, TimeBucket, beijing_date

FIGURES: Table = RecordFigure.__table__  # type: ignore[assignment]  # declarative tables are Tables

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

    def conditions(self, criteria: RecordCriteria, scope: RecordScope) -> list[Any]:
        day = FIGURES.c.day
        conditions = scope_conditions(scope, FIGURES, no_region=NO_REGION)
        conditions += value_conditions(criteria, FIGURES)
        if criteria.occurred_from is not None:
            conditions.append(day >= beijing_date(criteria.occurred_from))
        if criteria.occurred_to is not None:
            conditions.append(day < beijing_date(criteria.occurred_to))
        return conditions

    def period(self, bucket: TimeBucket) -> ColumnElement[Any]:
        return day_bucket(FIGURES.c.day, bucket)

    def tally(self, condition: ColumnElement[bool] | None = None) -> ColumnElement[int]:
        total = func.sum(FIGURES.c.record_count)
        return func.coalesce(total if condition is None else total.filter(condition), 0)

    def kpi_tallies(self, kpi: KpiId) -> tuple[ColumnElement[int], ColumnElement[int]]:
        if kpi in LINKED_KPIS:  # the numerator is LINKED_COUNTING's
            denominator, _ = super().kpi_tallies(kpi)
            return denominator, _ZERO
        return super().kpi_tallies(kpi)


_ZERO: ColumnElement[int] = literal(0, Integer, literal_execute=True)


class LinkedCounting(Counting):
    """Counting only the records the links name, for the linked KPIs' numerators: nothing
    else (record counts and every other figure are zero here, the summary's)."""

    def conditions(self, criteria: RecordCriteria, scope: RecordScope) -> list[Any]:
        named = union(*(select_ids() for select_ids in LINKED_KPIS.values()))
        return [*record_conditions(criteria, scope), RECORDS.c.id.in_(named)]

    def tally(self, condition: ColumnElement[bool] | None = None) -> ColumnElement[int]:
        return _ZERO if condition is None else super().tally(condition)

    def kpi_tallies(self, kpi: KpiId) -> tuple[ColumnElement[int], ColumnElement[int]]:
        if kpi not in LINKED_KPIS:
            return _ZERO, _ZERO
        _, numerator = super().kpi_tallies(kpi)
        return _ZERO, numerator


SUMMARY_COUNTING = SummaryCounting()
LINKED_COUNTING = LinkedCounting()


def _added(groups: list[Group], more: list[Group]) -> list[Group]:
    """``groups`` with ``more``'s counts and KPI terms added, group by group."""
    by_key = {group.key: group for group in groups}
    for extra in more:
        group = by_key.setdefault(extra.key, Group(extra.key))
        group.count += extra.count
        for kpi, (numerator, denominator) in extra.kpis.items():
            mine, theirs = group.kpis.get(kpi, (0, 0))
            group.kpis[kpi] = (mine + numerator, (theirs or 0) + (denominator or 0))
    return list(by_key.values())


async def counted_groups(
    connection: AsyncConnection, queries: Sequence[StatQuery], scope: RecordScope
) -> list[list[Group]]:
    """The groups of each query (as ``db.stats.grouped_counts_many``), from the summary for
    every query it can answer and from the records for the rest."""
    summarised = [q for q in queries if use_summary.get() and answerable(q.criteria)]
    counted = [q for q in queries if q not in summarised]
    results: dict[StatQuery, list[Group]] = {}
    if counted:
        results.update(
            zip(counted, await grouped_counts_many(connection, counted, scope), strict=True)
        )
    if summarised:
        found = await grouped_counts_many(connection, summarised, scope, SUMMARY_COUNTING)
        results.update(zip(summarised, found, strict=True))
        linked = [q for q in summarised if any(kpi in LINKED_KPIS for kpi in q.kpis)]
        if linked:
            named = await grouped_counts_many(connection, linked, scope, LINKED_COUNTING)
            for query, more in zip(linked, named, strict=True):
                results[query] = _added(results[query], more)
    return [results[query] for query in queries]
