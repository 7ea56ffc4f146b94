"""Grouped counts over records (统计查询): one GROUP BY per request, inside the scope rule.

The filter and the scope are those of a record list (``db.queries.record_conditions``, hence
``scope_conditions``), applied before anything is counted. Time buckets are Beijing calendar
periods computed in SQL per dialect (``date_trunc`` at ``Asia/Shanghai`` on PostgreSQL,
``date(…, '+8 hours', …)`` on SQLite, China having kept UTC+8 without daylight saving since
1991) and settled in Python (:func:`domain.stats.bucket_start`), which also turns SQLite's
months into quarters. KPI numerators and denominators are conditional counts in the same
scan; 万人起诉率's denominator is the regions' population.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    FromClause,
    FunctionElement,
    Integer,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import Label

from db.queries import (
    KIND_TABLES,
    LINKS,
    RECORDS,
    RecordCriteria,
    RecordScope,
    record_conditions,
)
from domain.enums import (
    CaseStatus,
    DisputeCategory,
    RecordKind,
    RegionLevel,
    RiskLevel,
    SourceSystem,
)
from domain.stats import (
    REGION_PREFIX_LENGTH,
    KpiClass,
    KpiId,
    StatDimension,
    TimeBucket,
    bucket_start,
    region_padding,
)

_ENUM_DIMENSIONS: dict[StatDimension, tuple[str, type[Any]]] = {
    StatDimension.KIND: ("kind", RecordKind),
    StatDimension.SOURCE: ("source", SourceSystem),
    StatDimension.CATEGORY: ("category", DisputeCategory),
    StatDimension.STATUS: ("status", CaseStatus),
    StatDimension.RISK_LEVEL: ("risk_level", RiskLevel),
}


class beijing_bucket(FunctionElement[Any]):
    """The start of the Beijing calendar bucket an instant falls in (dialect-specific SQL)."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], bucket: TimeBucket) -> None:
        super().__init__(column)
        self.bucket = bucket


@compiles(beijing_bucket)
def _bucket_postgresql(element: beijing_bucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    unit = element.bucket.value.lower()
    return f"date_trunc('{unit}', {column} AT TIME ZONE 'Asia/Shanghai')"


SQLITE_BUCKET_MODIFIERS: dict[TimeBucket, str] = {
    TimeBucket.DAY: "",
    # 'weekday 0' moves forward to Sunday (or stays on one); six days back is that week's Monday.
    TimeBucket.WEEK: ", 'weekday 0', '-6 days'",
    TimeBucket.MONTH: ", 'start of month'",
    TimeBucket.QUARTER: ", 'start of month'",  # months, gathered into quarters in Python
    TimeBucket.YEAR: ", 'start of year'",
}


@compiles(beijing_bucket, "sqlite")
def _bucket_sqlite(element: beijing_bucket, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"date({column}, '+8 hours'{SQLITE_BUCKET_MODIFIERS[element.bucket]})"


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def region_expression(level: RegionLevel, records: FromClause = RECORDS) -> ColumnElement[Any]:
    """A record's region code rolled up to ``level``; a coarser code stays as it is."""
    code = records.c.region_code
    length = REGION_PREFIX_LENGTH[level]
    rolled: ColumnElement[Any] = func.substr(
        code, 1, literal(length, Integer, literal_execute=True)
    )
    padding = region_padding(level)
    if padding:
        rolled = rolled.concat(literal(padding, literal_execute=True))
    return case((func.length(code) > length, rolled), else_=code)


@dataclass(frozen=True, slots=True)
class StatQuery:
    """What to count (统计请求): a record filter, the dimensions, a region level, a bucket."""

    criteria: RecordCriteria
    dimensions: tuple[StatDimension, ...] = ()
    region_level: RegionLevel = RegionLevel.COUNTY
    bucket: TimeBucket | None = None
    kpis: tuple[KpiId, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupKey:
    """One group's values; ``None`` where the figures are not grouped by that dimension."""

    kind: RecordKind | None = None
    source: SourceSystem | None = None
    category: DisputeCategory | None = None
    status: CaseStatus | None = None
    risk_level: RiskLevel | None = None
    region_code: str | None = None
    period: date | None = None


@dataclass(slots=True)
class Group:
    """A group's record count and, per KPI asked for, its numerator and denominator."""

    key: GroupKey
    count: int = 0
    kpis: dict[KpiId, tuple[int, int | None]] = field(default_factory=dict)
    """``(numerator, denominator)``; the denominator is ``None`` when unknown (a population)."""


def _not_rejected(links: FromClause) -> ColumnElement[bool]:
    return or_(links.c.decision.is_(None), links.c.decision != "REJECTED")


def repeat_petitions() -> CompoundSelect[tuple[int]]:
    """重复信访 (one set, hashed once): the petitions the petition system itself counts as
    repeated (重复信访次数 ≥ 1), and the later of every two petitions linked as the same matter
    or the same parties (not rejected by staff), the earlier one not withdrawn."""
    petitions = KIND_TABLES[RecordKind.PETITION].c
    by_source = select(petitions.id).where(petitions.repeat_count >= 1)
    return union(by_source, _repeats_by_links())


def _repeats_by_links() -> Select[tuple[int]]:
    """The later petition of each not rejected same-matter/same-parties pair."""
    links = LINKS.c
    a, b = RECORDS.alias("petition_a"), RECORDS.alias("petition_b")
    a_later = or_(
        a.c.occurred_at > b.c.occurred_at,
        and_(a.c.occurred_at == b.c.occurred_at, a.c.id > b.c.id),
    )
    later = case((a_later, a.c.id), else_=b.c.id)
    earlier_withdrawn = case((a_later, b.c.deleted), else_=a.c.deleted)
    return (
        select(later)
        .select_from(
            LINKS.join(a, a.c.id == links.from_record_id).join(b, b.c.id == links.to_record_id)
        )
        .where(
            links.link_kind.in_(("SAME_MATTER", "SAME_PARTIES")),
            _not_rejected(LINKS),
            a.c.kind == RecordKind.PETITION,
            b.c.kind == RecordKind.PETITION,
            earlier_withdrawn == false(),
        )
    )


def referred_alerts() -> Select[tuple[int]]:
    """110 alerts some mediation case names as its source (转人民调解), not rejected."""
    links = LINKS.c
    return select(links.to_record_id).where(
        links.link_kind == "REFERRED_FROM", _not_rejected(LINKS)
    )


_CONCLUDED = (CaseStatus.RESOLVED, CaseStatus.FAILED, CaseStatus.CLOSED)


LINKED_KPIS: dict[KpiId, Any] = {
    KpiId.REPEAT_PETITION_RATE: repeat_petitions,
    KpiId.POLICE_DIVERSION_RATE: referred_alerts,
}
"""The KPIs whose numerator is read from the links (which record was repeated, referred; a
repeat also from the petition system's own count), each with the select of the records that
count."""

LINKED_FLAGS: dict[KpiId, str] = {
    KpiId.REPEAT_PETITION_RATE: "repeat_petition",
    KpiId.POLICE_DIVERSION_RATE: "referred",
}
"""The same sets as the records' flags the triggers keep from the links and the petitions'
repeat counts (and the summaries key by): what ``db.figure_summary`` counts those numerators
from."""


def kpi_conditions(
    kpi: KpiId, records: FromClause = RECORDS
) -> tuple[ColumnElement[bool], ColumnElement[bool] | None]:
    """``(denominator, numerator)`` of a KPI as conditions on a record (the numerator within
    the denominator); ``None`` numerator-side for none. 万人起诉率 counts its numerator here
    and takes its denominator from the population (``db.figures``). Everything but the links
    is on the record itself (``kpi_class``), so the figures read the covering index alone;
    the denominators read only columns the figures summary has too (``records``)."""
    c = records.c
    match kpi:
        case KpiId.MEDIATION_SUCCESS_RATE:
            return (
                and_(c.kind == RecordKind.DISPUTE, c.status.in_(_CONCLUDED)),
                c.status == CaseStatus.RESOLVED,
            )
        case KpiId.PRE_SUIT_MEDIATION_SUCCESS_RATE:
            return (
                and_(c.kpi_class == KpiClass.PRE_SUIT_MEDIATION, c.status.in_(_CONCLUDED)),
                c.status == CaseStatus.RESOLVED,
            )
        case KpiId.LITIGATION_PER_10K:
            return c.kpi_class == KpiClass.FIRST_INSTANCE, None
        case KpiId.REPEAT_PETITION_RATE:
            return c.kind == RecordKind.PETITION, RECORDS.c.id.in_(repeat_petitions())
        case KpiId.POLICE_DIVERSION_RATE:
            return c.kpi_class == KpiClass.NON_POLICE_ALERT, RECORDS.c.id.in_(referred_alerts())
        case _:  # matter KPIs are counted over matters (db.matter_stats)
            raise ValueError(f"{kpi} is not a KPI over records")


class Counting:
    """What one GROUP BY reads (计数来源): here the records, one row per record, filtered as a
    record list is. ``db.figure_summary`` counts from the figures summary instead, with the
    same keys and measures, so either answers a query the same way."""

    table: FromClause = RECORDS

    def conditions(self, criteria: RecordCriteria, scope: RecordScope) -> list[Any]:
        return record_conditions(criteria, scope)

    def period(self, bucket: TimeBucket) -> ColumnElement[Any]:
        return beijing_bucket(self.table.c.occurred_at, bucket)

    def tally(self, condition: ColumnElement[bool] | None = None) -> ColumnElement[int]:
        # count(*) FILTER (WHERE …): cheaper per row than sum(CASE …), and 0 (not NULL) if none
        return func.count() if condition is None else func.count().filter(condition)

    def kpi_tallies(self, kpi: KpiId) -> tuple[ColumnElement[int], ColumnElement[int]]:
        """``(denominator, numerator)`` counts of a KPI."""
        denominator, numerator = kpi_conditions(kpi, self.table)
        counted = denominator if numerator is None else and_(denominator, numerator)
        return self.tally(denominator), self.tally(counted)

    def keys(self, query: StatQuery) -> list[Label[Any]]:
        """The labelled key expressions of a query (a region per level, a period per bucket)."""
        keys: list[Label[Any]] = []
        for dimension in query.dimensions:
            if dimension is StatDimension.REGION:
                label = f"region_{query.region_level.value.lower()}"
                keys.append(region_expression(query.region_level, self.table).label(label))
            else:
                name, _ = _ENUM_DIMENSIONS[dimension]
                keys.append(self.table.c[name].label(name))
        if query.bucket is not None:
            label = f"period_{query.bucket.value.lower()}"
            keys.append(self.period(query.bucket).label(label))
        return keys

    def measures(self, kpis: Sequence[KpiId]) -> list[ColumnElement[Any]]:
        """``count``, then a denominator and a numerator column per KPI."""
        measures: list[ColumnElement[Any]] = [self.tally().label("count")]
        for kpi in kpis:
            denominator, numerator = self.kpi_tallies(kpi)
            measures += [denominator.label(f"{kpi.value}_d"), numerator.label(f"{kpi.value}_n")]
        return measures


RECORD_COUNTING = Counting()


def stat_select(query: StatQuery, scope: RecordScope, counting: Counting = RECORD_COUNTING) -> Any:
    """The one GROUP BY of a query: its key columns and measures."""
    keys = counting.keys(query)
    statement = (
        select(*keys, *counting.measures(query.kpis))
        .select_from(counting.table)
        .where(*counting.conditions(query.criteria, scope))
    )
    return statement.group_by(*(key.element for key in keys)) if keys else statement


_GROUPING = "grouping__"


def batch_select(
    queries: Sequence[StatQuery], scope: RecordScope, counting: Counting = RECORD_COUNTING
) -> Any:
    """One scan for several queries over the same criteria (PostgreSQL ``GROUPING SETS``):
    every query's keys, a ``grouping__<key>`` flag per key (1 where a row is not grouped by
    it), and the measures of every KPI any of them asks for."""
    keys: dict[str, Label[Any]] = {}
    for query in queries:
        for key in counting.keys(query):
            keys.setdefault(key.name, key)
    flags = [func.grouping(key.element).label(_GROUPING + name) for name, key in keys.items()]
    sets = dict.fromkeys(tuple(key.name for key in counting.keys(query)) for query in queries)
    grouping_sets = func.grouping_sets(
        *(tuple_(*(keys[name].element for name in names)) for names in sets)
    )
    kpis = tuple(dict.fromkeys(kpi for query in queries for kpi in query.kpis))
    return (
        select(*keys.values(), *flags, *counting.measures(kpis))
        .select_from(counting.table)
        .where(*counting.conditions(queries[0].criteria, scope))
        .group_by(grouping_sets)
    )


def _key(row: Any, query: StatQuery) -> GroupKey:
    values: dict[str, Any] = {}
    for dimension, key in zip(query.dimensions, RECORD_COUNTING.keys(query), strict=False):
        if dimension is StatDimension.REGION:
            values["region_code"] = row[key.name] or None  # the summary's '' is no region
        else:
            name, enum = _ENUM_DIMENSIONS[dimension]
            values[name] = enum(row[key.name])
    if query.bucket is not None:
        period = row[f"period_{query.bucket.value.lower()}"]
        if period is not None:
            values["period"] = bucket_start(_as_date(period), query.bucket)
    return GroupKey(**values)


def _merged(rows: Iterable[Any], query: StatQuery) -> list[Group]:
    """Groups from rows, merged by key (SQLite's months into quarters)."""
    groups: dict[GroupKey, Group] = {}
    for row in rows:
        key = _key(row, query)
        group = groups.setdefault(key, Group(key))
        group.count += int(row["count"])
        for kpi in query.kpis:
            numerator, denominator = group.kpis.get(kpi, (0, 0))
            group.kpis[kpi] = (
                numerator + int(row[f"{kpi.value}_n"]),
                (denominator or 0) + int(row[f"{kpi.value}_d"]),
            )
    return list(groups.values())


async def grouped_counts(
    connection: AsyncConnection,
    query: StatQuery,
    scope: RecordScope,
    counting: Counting = RECORD_COUNTING,
) -> list[Group]:
    """The groups of one query with at least one record."""
    statement = stat_select(query, scope, counting)
    return _merged((await connection.execute(statement)).mappings(), query)


async def grouped_counts_many(
    connection: AsyncConnection,
    queries: Sequence[StatQuery],
    scope: RecordScope,
    counting: Counting = RECORD_COUNTING,
) -> list[list[Group]]:
    """The groups of each query; on PostgreSQL, one scan per distinct filter for them all
    (a dashboard's trend, breakdowns and KPIs over one region and period read the index
    once), elsewhere one statement each."""
    results: dict[StatQuery, list[Group]] = {}
    by_criteria: dict[RecordCriteria, list[StatQuery]] = {}
    for query in dict.fromkeys(queries):
        by_criteria.setdefault(query.criteria, []).append(query)
    for same in by_criteria.values():
        if connection.dialect.name != "postgresql" or len(same) == 1:
            for query in same:
                results[query] = await grouped_counts(connection, query, scope, counting)
            continue
        statement = batch_select(same, scope, counting)
        rows = (await connection.execute(statement)).mappings().all()
        for query in same:
            mine = {key.name for key in counting.keys(query)}
            flags = [name for name in rows[0] if name.startswith(_GROUPING)] if rows else []
            results[query] = _merged(
                (
                    row
                    for row in rows
                    if all((row[flag] == 0) == (flag[len(_GROUPING) :] in mine) for flag in flags)
                ),
                query,
            )
    return [results[query] for query in queries]
