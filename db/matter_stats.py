"""Grouped counts and KPIs over matters (事项统计查询), inside the matter scope rule.

One inner select gives each matter in scope and filter its facts (whether a handling or an
acceptance clock ran late, the due instant of its first overdue handling clock, the level it
was resolved at); the outer GROUP BY counts them by the requested keys. The time buckets and
the region roll-up are the record figures' own (``db.stats.beijing_bucket``,
``region_expression``). Each KPI counts a matter on its own date (``domain.matter_stats``), so
KPIs are counted in one GROUP BY per date basis. The handling-duration percentiles are
``percentile_cont`` on PostgreSQL and the same interpolation in Python on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FunctionElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import Label

from db.matter_queries import MatterCriteria, criteria_conditions
from db.matters import matter_scope_conditions
from db.models import ClockRow, Matter
from db.stats import beijing_bucket, region_expression
from domain.enums import CaseStatus, DisputeCategory, RegionLevel, RiskLevel
from domain.matter_stats import (
    ACCEPTANCE_RULES,
    HANDLING_RULES,
    KPI_ANCHOR,
    RESOLUTION_LEVEL_OF_TRACK,
    RESOLUTION_SHARE,
    SOURCE_TRACK,
    KpiAnchor,
    MatterDateBasis,
    MatterDimension,
    percentile,
)
from domain.stats import KpiId, TimeBucket, bucket_start, missing_periods
from domain.workflow.visibility import MatterScope
from domain.workflow.vocabulary import (
    OPEN_STEPS,
    DispatchTrack,
    MatterOrigin,
    MatterOutcome,
    MatterStep,
    Satisfaction,
)

_ENUM_DIMENSIONS: dict[MatterDimension, tuple[str, type[Any]]] = {
    MatterDimension.STEP: ("step", MatterStep),
    MatterDimension.STATUS: ("status", CaseStatus),
    MatterDimension.CATEGORY: ("category", DisputeCategory),
    MatterDimension.RISK_LEVEL: ("risk", RiskLevel),
    MatterDimension.ORIGIN: ("origin", MatterOrigin),
    MatterDimension.TRACK: ("track", DispatchTrack),
}


@dataclass(frozen=True, slots=True)
class MatterStatQuery:
    """What to count over matters (事项统计请求): a matter filter, dimensions, a region level,
    a bucket, the period (``since`` ≤ date < ``until``, by ``basis`` for counts and by each
    KPI's own date for KPIs) and ``now`` (what is overdue)."""

    criteria: MatterCriteria
    now: datetime
    dimensions: tuple[MatterDimension, ...] = ()
    region_level: RegionLevel = RegionLevel.COUNTY
    bucket: TimeBucket | None = None
    basis: MatterDateBasis = MatterDateBasis.OPENED
    since: datetime | None = None
    until: datetime | None = None
    kpis: tuple[KpiId, ...] = ()
    durations: bool = False


@dataclass(frozen=True, slots=True)
class MatterKey:
    """One group's values; ``None`` where the figures are not grouped by that dimension."""

    step: MatterStep | None = None
    status: CaseStatus | None = None
    category: DisputeCategory | None = None
    risk: RiskLevel | None = None
    origin: MatterOrigin | None = None
    track: DispatchTrack | None = None
    region_code: str | None = None
    period: date | None = None


@dataclass(frozen=True, slots=True)
class Durations:
    """Handling durations of a group's closed matters, in seconds (办理时长)."""

    count: int = 0
    p50: float | None = None
    p90: float | None = None


@dataclass(slots=True)
class MatterGroup:
    """A group's matter count, KPI numerators and denominators, and durations."""

    key: MatterKey
    count: int = 0
    kpis: dict[KpiId, tuple[int, int | None]] = field(default_factory=dict)
    durations: Durations = field(default_factory=Durations)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _clock_late(rules: frozenset[str], now: datetime) -> ColumnElement[bool]:
    """Whether one of the matter's clocks of ``rules`` stopped after its due instant, or runs
    with its due instant come."""
    clock = ClockRow
    return exists().where(
        clock.matter_id == Matter.id,
        clock.rule_id.in_(sorted(rules)),
        clock.due_at.is_not(None),
        or_(
            and_(clock.stopped_at.is_not(None), clock.stopped_at > clock.due_at),
            and_(clock.stopped_at.is_(None), clock.due_at <= now),
        ),
    )


def _acceptance_settled(now: datetime) -> ColumnElement[bool]:
    """Whether an acceptance clock of the matter has stopped or run out (受理时限已届满)."""
    clock = ClockRow
    return exists().where(
        clock.matter_id == Matter.id,
        clock.rule_id.in_(sorted(ACCEPTANCE_RULES)),
        or_(clock.stopped_at.is_not(None), clock.due_at <= now),
    )


def _first_late(now: datetime) -> Any:
    """The due instant of the open matter's first late handling clock: one running past its
    due instant, or stopped after it (a source that concluded late, the centre not yet
    closing the matter); None: none."""
    clock = ClockRow
    return (
        select(func.min(clock.due_at))
        .where(
            clock.matter_id == Matter.id,
            clock.rule_id.in_(sorted(HANDLING_RULES)),
            clock.due_at <= now,
            or_(clock.stopped_at.is_(None), clock.stopped_at > clock.due_at),
        )
        .correlate(Matter)
        .scalar_subquery()
    )


def _resolution_level() -> ColumnElement[str]:
    """The level a matter was resolved at (``domain.matter_stats.resolution_level``): by its
    track, or undispatched by the track of the system its origin was concluded in."""
    length = func.length(Matter.region_code)
    track = case(
        (Matter.track.is_not(None), Matter.track),
        *((Matter.origin == origin, literal(t.value)) for origin, t in SOURCE_TRACK.items()),
        else_=None,
    )
    whens: list[tuple[ColumnElement[bool], str]] = []
    for each, level in RESOLUTION_LEVEL_OF_TRACK.items():
        if level is not None:
            whens.append((track == each, level.value))
            continue
        whens.append((and_(track == each, length >= 12), RegionLevel.VILLAGE.value))
        whens.append((and_(track == each, length >= 9), RegionLevel.TOWNSHIP.value))
    return case(*whens, else_=RegionLevel.COUNTY.value)


def matter_facts(criteria: MatterCriteria, scope: MatterScope, now: datetime) -> Subquery:
    """Each matter in scope and filter with the facts its figures need (one row a matter)."""
    in_open_step = Matter.step.in_(sorted(OPEN_STEPS))
    return (
        select(
            Matter.id,
            Matter.step,
            Matter.status,
            Matter.category,
            Matter.risk,
            Matter.origin,
            Matter.track,
            Matter.region_code,
            Matter.opened_at,
            Matter.closed_at,
            Matter.satisfaction,
            Matter.outcome,
            _flag(_clock_late(HANDLING_RULES, now)).label("handling_late"),
            _flag(_clock_late(ACCEPTANCE_RULES, now)).label("acceptance_late"),
            _flag(_acceptance_settled(now)).label("acceptance_settled"),
            case((in_open_step, _first_late(now)), else_=None).label("late_due_at"),
            _resolution_level().label("resolution_level"),
        )
        .where(*matter_scope_conditions(scope), *criteria_conditions(criteria))
        .subquery("matter_facts")
    )


def _anchor(facts: Subquery, anchor: KpiAnchor | MatterDateBasis) -> ColumnElement[Any]:
    c = facts.c
    match anchor:
        case KpiAnchor.OPENED | MatterDateBasis.OPENED:
            return c.opened_at
        case KpiAnchor.CLOSED | MatterDateBasis.CLOSED:
            return c.closed_at
    # an open matter already late is due in the period of its last allowed day (届满日): its
    # due instant is 24:00 of that day, the next day's midnight, so the second before it counts
    return func.coalesce(c.closed_at, second_before(c.late_due_at))


class second_before(FunctionElement[Any]):
    """The instant one second before ``column`` (dialect-specific SQL)."""

    inherit_cache = True


@compiles(second_before)
def _second_before_postgresql(element: second_before, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - interval '1 second')"


@compiles(second_before, "sqlite")
def _second_before_sqlite(element: second_before, compiler: Any, **kw: Any) -> str:
    # in the stored text form (microseconds too), so it compares with bound instants
    column = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m-%d %H:%M:%S.000000', {column}, '-1 seconds')"


def kpi_conditions(kpi: KpiId, facts: Subquery) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """``(denominator, numerator)`` of a matter KPI as conditions on a matter's facts (the
    numerator within the denominator), its date already bounded."""
    c = facts.c
    live = c.step != MatterStep.WITHDRAWN
    closed = and_(live, c.closed_at.is_not(None))
    match kpi:
        case KpiId.ON_TIME_CLOSURE_RATE:
            return live, and_(c.closed_at.is_not(None), c.handling_late == 0)
        case KpiId.TIMELY_ACCEPTANCE_RATE:
            return and_(live, c.acceptance_settled == 1), c.acceptance_late == 0
        case KpiId.REVISIT_RATE:
            return closed, c.satisfaction.is_not(None)
        case KpiId.REVISIT_SATISFACTION_RATE:
            return (
                and_(closed, c.satisfaction.is_not(None)),
                c.satisfaction.in_([Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED]),
            )
    level = RESOLUTION_SHARE.get(kpi)
    if level is None:
        raise ValueError(f"{kpi} is not a KPI over matters")
    return and_(closed, c.outcome == MatterOutcome.RESOLVED), c.resolution_level == level.value


def _keys(query: MatterStatQuery, facts: Subquery, anchor: ColumnElement[Any]) -> list[Label[Any]]:
    keys: list[Label[Any]] = []
    for dimension in query.dimensions:
        if dimension is MatterDimension.REGION:
            keys.append(region_expression(query.region_level, facts).label("region"))
        else:
            name, _ = _ENUM_DIMENSIONS[dimension]
            keys.append(facts.c[name].label(name))
    if query.bucket is not None:
        keys.append(beijing_bucket(anchor, query.bucket).label("period"))
    return keys


def _bounded(query: MatterStatQuery, anchor: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [anchor.is_not(None)]
    if query.since is not None:
        conditions.append(anchor >= query.since)
    if query.until is not None:
        conditions.append(anchor < query.until)
    return conditions


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])


def _key(row: Any, query: MatterStatQuery) -> MatterKey:
    values: dict[str, Any] = {}
    for dimension in query.dimensions:
        if dimension is MatterDimension.REGION:
            values["region_code"] = row["region"]
        else:
            name, enum = _ENUM_DIMENSIONS[dimension]
            values[name] = enum(row[name]) if row[name] is not None else None
    if query.bucket is not None and row["period"] is not None:
        values["period"] = bucket_start(_as_date(row["period"]), query.bucket)
    return MatterKey(**values)


async def _durations(
    connection: AsyncConnection, query: MatterStatQuery, facts: Subquery
) -> dict[MatterKey, Durations]:
    """p50/p90 of the handling duration of each group's closed matters (by closure date)."""
    anchor = _anchor(facts, KpiAnchor.CLOSED)
    keys = _keys(query, facts, anchor)
    where = [*_bounded(query, anchor), facts.c.step != MatterStep.WITHDRAWN]
    if connection.dialect.name == "postgresql":
        seconds = func.extract("epoch", facts.c.closed_at - facts.c.opened_at)
        statement: Select[Any] = select(
            *keys,
            func.count().label("n"),
            func.percentile_cont(0.5).within_group(seconds).label("p50"),
            func.percentile_cont(0.9).within_group(seconds).label("p90"),
        ).where(*where)
        if keys:
            statement = statement.group_by(*(key.element for key in keys))
        rows = (await connection.execute(statement)).mappings()
        return {
            _key(row, query): Durations(int(row["n"]), row["p50"], row["p90"])
            for row in rows
            if row["n"]
        }
    statement = select(*keys, facts.c.opened_at, facts.c.closed_at).where(*where)
    found: dict[MatterKey, list[float]] = {}
    for row in (await connection.execute(statement)).mappings():
        opened, closed = _utc(row["opened_at"]), _utc(row["closed_at"])
        found.setdefault(_key(row, query), []).append((closed - opened).total_seconds())
    return {
        key: Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))
        for key, values in found.items()
    }


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def matter_counts(
    connection: AsyncConnection, query: MatterStatQuery, scope: MatterScope
) -> list[MatterGroup]:
    """The groups of matters counted by ``query.basis`` (those with at least one matter)."""
    facts = matter_facts(query.criteria, scope, query.now)
    anchor = _anchor(facts, query.basis)
    keys = _keys(query, facts, anchor)
    statement = select(*keys, func.count().label("count")).where(*_bounded(query, anchor))
    if keys:
        statement = statement.group_by(*(key.element for key in keys))
    groups: dict[MatterKey, MatterGroup] = {}
    for row in (await connection.execute(statement)).mappings():
        group = groups.setdefault(_key(row, query), MatterGroup(_key(row, query)))
        group.count += int(row["count"])  # SQLite's months gathered into quarters
    return list(groups.values())


async def matter_kpis(
    connection: AsyncConnection, query: MatterStatQuery, scope: MatterScope
) -> list[MatterGroup]:
    """The groups of matters with each KPI of ``query`` counted on its own date (one GROUP BY
    per date basis) and, if asked, the handling durations; ``count`` stays 0."""
    facts = matter_facts(query.criteria, scope, query.now)
    groups: dict[MatterKey, MatterGroup] = {}
    by_anchor: dict[KpiAnchor, list[KpiId]] = {}
    for kpi in query.kpis:
        by_anchor.setdefault(KPI_ANCHOR[kpi], []).append(kpi)
    for anchor_kind, kpis in by_anchor.items():
        anchor = _anchor(facts, anchor_kind)
        keys = _keys(query, facts, anchor)
        measures: list[ColumnElement[Any]] = []
        for kpi in kpis:
            denominator, numerator = kpi_conditions(kpi, facts)
            measures.append(func.count().filter(denominator).label(f"{kpi.value}_d"))
            measures.append(
                func.count().filter(and_(denominator, numerator)).label(f"{kpi.value}_n")
            )
        statement = select(*keys, *measures).where(*_bounded(query, anchor))
        if keys:
            statement = statement.group_by(*(key.element for key in keys))
        for row in (await connection.execute(statement)).mappings():
            key = _key(row, query)
            group = groups.setdefault(key, MatterGroup(key))
            for kpi in kpis:
                numerator_so_far, denominator_so_far = group.kpis.get(kpi, (0, 0))
                group.kpis[kpi] = (
                    numerator_so_far + int(row[f"{kpi.value}_n"]),
                    (denominator_so_far or 0) + int(row[f"{kpi.value}_d"]),
                )
    if query.durations:
        for key, durations in (await _durations(connection, query, facts)).items():
            groups.setdefault(key, MatterGroup(key)).durations = durations
    return list(groups.values())


def with_empty_periods(
    groups: list[MatterGroup], bucket: TimeBucket, first: date | None, last: date | None
) -> list[MatterGroup]:
    """``groups`` plus a zero group for every bucket from ``first`` to ``last`` a series
    lacks (``domain.stats.missing_periods``), so a chart has no holes."""
    present = {group.key for group in groups}
    missing = missing_periods(present, bucket, first, last, MatterKey())
    return [*groups, *(MatterGroup(key) for key in missing)]


def key_order(group: MatterGroup) -> tuple[str, ...]:
    key = group.key
    values: Iterable[Any] = (key.step, key.status, key.category, key.risk, key.origin, key.track)
    return (
        key.period.isoformat() if key.period else "",
        key.region_code or "",
        *(str(value or "") for value in values),
    )


def first_overdue_select(
    criteria: MatterCriteria, scope: MatterScope, now: datetime, limit: int
) -> Select[Any]:
    """Open matters with a running clock past due (逾期清单), longest overdue first: what a
    screen may show of them (no title, no party)."""
    clock = ClockRow
    due = (
        select(func.min(clock.due_at))
        .where(clock.matter_id == Matter.id, clock.stopped_at.is_(None), clock.due_at <= now)
        .correlate(Matter)
        .scalar_subquery()
        .label("overdue_since")
    )
    inner = (
        select(
            Matter.number,
            Matter.category,
            Matter.step,
            Matter.status,
            Matter.risk,
            Matter.region_code,
            Matter.track,
            Matter.lead_org,
            Matter.assigned_org,
            Matter.opened_at,
            due,
        )
        .where(
            *matter_scope_conditions(scope),
            *criteria_conditions(replace(criteria, overdue_at=now)),
            Matter.step.in_(sorted(OPEN_STEPS)),
        )
        .subquery("overdue")
    )
    return (
        select(inner)
        .order_by(inner.c.overdue_since.asc(), inner.c.number.asc())
        .limit(literal(int(limit), Integer(), literal_execute=True))
    )


def ranked(groups: Sequence[MatterGroup], top: int) -> list[MatterGroup]:
    """The ``top`` largest groups by count, largest first."""
    return sorted(groups, key=lambda group: (-group.count, key_order(group)))[:top]
