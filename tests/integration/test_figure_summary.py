"""The figures summary (record_figures) is the records counted, exactly, after inserts, updates,
deletes and a real sync batch; its answers are the records' answers for a grid of groupings,
filters and scopes; and what it cannot answer is counted from the records. On SQLite and
PostgreSQL.

The expected summary is computed in plain Python from the records' own columns (zoneinfo for
the Beijing day), never through the triggers' SQL.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.engine import session_factory
from db.figure_summary import (
    FIGURES,
    MONTHLY,
    answerable,
    answerable_monthly,
    counted_groups,
    use_summary,
)
from db.models import Record
from db.models.figure_triggers import backfill_statements
from db.queries import RECORDS, RecordCriteria, RecordScope
from db.regions import seed_regions
from db.stats import Group, StatQuery, grouped_counts_many
from domain.enums import (
    CaseStatus,
    DisputeCategory,
    RecordKind,
    RegionLevel,
    RiskLevel,
    SourceSystem,
)
from domain.kinds import KIND_SPECS
from domain.scope import EVERYTHING
from domain.stats import RECORD_KPIS, KpiClass, StatDimension, TimeBucket
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_support import control, sources_for
from tests.integration.security_world import wipe
from tests.integration.stats_world import seed_stats_world

SHANGHAI = ZoneInfo("Asia/Shanghai")
Key = tuple[Any, ...]


def _beijing(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def _summary(connection: AsyncConnection) -> dict[Key, int]:
    c = FIGURES.c
    rows = await connection.execute(
        select(c.region_code, c.day, c.kind, c.source, c.category, c.status, c.risk_level,
               c.kpi_class, c.deleted, c.record_count)
    )  # fmt: skip
    return {tuple(_plain(v) for v in row[:-1]): row[-1] for row in rows}


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value  # enums as their stored text


async def _expected(connection: AsyncConnection) -> dict[Key, int]:
    """A GROUP BY over the records, done in Python from their columns."""
    c = RECORDS.c
    rows = await connection.execute(
        select(c.region_code, c.occurred_at, c.kind, c.source, c.category, c.status,
               c.risk_level, c.kpi_class, c.deleted)
    )  # fmt: skip
    counts: Counter[Key] = Counter()
    for region, occurred, kind, source, category, status, risk, kpi, deleted in rows:
        day = occurred.astimezone(SHANGHAI).date()
        key = (region or "", day, kind, source, category, status, risk, kpi or "", deleted)
        counts[tuple(_plain(v) for v in key)] += 1
    return dict(counts)


async def _monthly(connection: AsyncConnection) -> dict[Key, tuple[int, int, int]]:
    c = MONTHLY.c
    rows = await connection.execute(
        select(c.region_code, c.month, c.kind, c.source, c.category, c.kpi_class, c.deleted,
               c.record_count, c.concluded_count, c.resolved_count)
    )  # fmt: skip
    return {tuple(_plain(v) for v in row[:-3]): tuple(row[-3:]) for row in rows}


async def _expected_monthly(connection: AsyncConnection) -> dict[Key, tuple[int, int, int]]:
    """The same by county and Beijing month, with the concluded and the resolved counted."""
    found: dict[Key, tuple[int, int, int]] = {}
    for key, count in (await _expected(connection)).items():
        region, day, kind, source, category, status, _, kpi, deleted = key
        month_key = (region[:6], day.replace(day=1), kind, source, category, kpi, deleted)
        concluded = count if status in ("RESOLVED", "FAILED", "CLOSED") else 0
        resolved = count if status == "RESOLVED" else 0
        total, done, good = found.get(month_key, (0, 0, 0))
        found[month_key] = (total + count, done + concluded, good + resolved)
    return found


async def _assert_exact(connection: AsyncConnection) -> None:
    summary = await _summary(connection)
    assert summary == await _expected(connection)
    assert all(count > 0 for count in summary.values())
    monthly = await _monthly(connection)
    assert monthly == await _expected_monthly(connection)
    assert all(counts[0] > 0 for counts in monthly.values())


def _record(pk: int, **values: Any) -> dict[str, Any]:
    kind = values.pop("kind", RecordKind.DISPUTE)
    occurred = values.pop("occurred_at", _beijing(2026, 3, 1, 10))
    return {
        "id": pk, "kind": kind, "source": KIND_SPECS[kind].sources[0], "source_key": f"F{pk}",
        "category": DisputeCategory.NEIGHBOUR, "title": f"记录{pk}", "occurred_at": occurred,
        "region_code": "411202001", "status": CaseStatus.ACCEPTED, "risk_level": RiskLevel.NONE,
        "source_updated_at": occurred, "deleted": False, "kpi_class": None,
    } | values  # fmt: skip


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction rolled back afterwards (the triggers run inside it)."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


async def test_inserts_updates_and_deletes_keep_the_summary_exact(
    connection: AsyncConnection,
) -> None:
    # given records on both sides of a Beijing midnight (same UTC day), one without a region,
    # one withdrawn, one with a KPI class, several sharing a key — inserted in one statement
    records = [
        _record(1, occurred_at=_beijing(2026, 3, 31, 23, 30)),
        _record(2, occurred_at=_beijing(2026, 4, 1, 0, 30)),
        _record(3, occurred_at=_beijing(2026, 4, 1, 0, 40)),
        _record(4, region_code=None, kind=RecordKind.PETITION),
        _record(5, deleted=True),
        _record(6, kind=RecordKind.COURT_FILING, kpi_class=KpiClass.FIRST_INSTANCE),
        *(_record(n, region_code="411221", risk_level=RiskLevel.RED) for n in range(7, 17)),
    ]
    await connection.execute(insert(Record.__table__), records)
    await _assert_exact(connection)
    assert len(await _summary(connection)) < len(records)  # cells shared are counted once
    # when statuses, risks and regions change, one record and many per statement
    await connection.execute(
        update(Record.__table__).where(RECORDS.c.id == 2).values(status=CaseStatus.RESOLVED)
    )
    await connection.execute(
        update(Record.__table__)
        .where(RECORDS.c.id.in_(range(7, 13)))
        .values(risk_level=RiskLevel.YELLOW)
    )
    await connection.execute(
        update(Record.__table__).where(RECORDS.c.id == 4).values(region_code="411202")
    )
    await connection.execute(
        update(Record.__table__).where(RECORDS.c.id == 1).values(region_code=None)
    )
    await connection.execute(
        update(Record.__table__)
        .where(RECORDS.c.id == 3)
        .values(occurred_at=_beijing(2026, 3, 31, 23, 59))
    )
    await connection.execute(
        update(Record.__table__).where(RECORDS.c.id.in_((5, 6))).values(deleted=True)
    )
    # an update touching no key column changes nothing
    before = await _summary(connection)
    await connection.execute(update(Record.__table__).values(title="改过的标题"))
    assert await _summary(connection) == before
    # then the summary is still the records grouped, exactly
    await _assert_exact(connection)
    # and after deletes (of some, then of the rest) too; no zero count is left behind
    await connection.execute(delete(Record.__table__).where(RECORDS.c.id.in_((1, 7, 8))))
    await _assert_exact(connection)
    await connection.execute(delete(Record.__table__))
    assert await _summary(connection) == {}
    assert await _monthly(connection) == {}


async def test_a_summary_emptied_by_hand_stays_positive(connection: AsyncConnection) -> None:
    # given a summary emptied behind the triggers' back (a test's cleanup does this)
    await connection.execute(insert(Record.__table__), [_record(1), _record(2)])
    await connection.execute(delete(FIGURES))
    await connection.execute(delete(MONTHLY))
    # when the records go too, then no negative count is left behind
    await connection.execute(delete(Record.__table__))
    assert await _summary(connection) == {}
    assert await _monthly(connection) == {}


@pytest.mark.slow
async def test_a_sandbox_sync_leaves_the_summary_exact(committing_engine: AsyncEngine) -> None:
    # given the five sandbox systems, changing between two sync rounds
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        await seed_regions(session)
    async with Sandbox(SandboxConfig(base_port=0, scale=120, seed=16)) as sb:
        configs = sources_for(sb)
        for round_ in range(2):
            async with open_connectors(configs) as connectors:
                for connector in connectors.values():
                    result = await sync_source(committing_engine, sessions, connector)
                    assert result.ok, result
                    # then after every source's batches the summary is the records counted
                    async with committing_engine.connect() as connection:
                        await _assert_exact(connection)
            if round_ == 0:
                for source in SourceSystem:
                    await control(sb, source, mutate={"interval_ms": 1, "count": 20})
                for source in SourceSystem:
                    await control(sb, source, mutate=None)
    async with committing_engine.connect() as connection:
        assert await _summary(connection)


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    await wipe(engine)
    await seed_stats_world(engine)
    yield engine
    await wipe(engine)


WHOLE_DAYS = {
    "occurred_from": datetime(2026, 2, 1, tzinfo=SHANGHAI),
    "occurred_to": datetime(2026, 4, 1, tzinfo=SHANGHAI),
}
CRITERIA = [
    RecordCriteria(),
    RecordCriteria(region_code="411200", **WHOLE_DAYS),
    RecordCriteria(region_code="411202001"),
    RecordCriteria(
        region_code="411202",
        occurred_from=datetime(2026, 2, 3, tzinfo=SHANGHAI),
        occurred_to=datetime(2026, 3, 17, tzinfo=SHANGHAI),
    ),
    RecordCriteria(kinds=(RecordKind.PETITION, RecordKind.POLICE_ALERT), **WHOLE_DAYS),
    RecordCriteria(statuses=(CaseStatus.RESOLVED,), risk_levels=(RiskLevel.RED, RiskLevel.NONE)),
    RecordCriteria(sources=(SourceSystem.COURT,), include_deleted=True),
    RecordCriteria(categories=(DisputeCategory.NEIGHBOUR,), region_code="411202"),
]
SCOPES = [
    EVERYTHING,
    RecordScope.of(["411202"], [RecordKind.PETITION, RecordKind.POLICE_ALERT, RecordKind.DISPUTE]),
    RecordScope.of(["4112"], None, unplaced=True),
    RecordScope.of([], None, unplaced=True),
]
GROUPINGS: list[tuple[tuple[StatDimension, ...], RegionLevel, TimeBucket | None]] = [
    ((), RegionLevel.COUNTY, None),
    ((StatDimension.KIND,), RegionLevel.COUNTY, TimeBucket.MONTH),
    ((StatDimension.SOURCE, StatDimension.STATUS), RegionLevel.COUNTY, None),
    ((StatDimension.CATEGORY, StatDimension.RISK_LEVEL), RegionLevel.COUNTY, TimeBucket.WEEK),
    ((StatDimension.REGION,), RegionLevel.COUNTY, None),
    ((StatDimension.REGION,), RegionLevel.TOWNSHIP, TimeBucket.QUARTER),
    ((StatDimension.REGION,), RegionLevel.GRID, TimeBucket.DAY),
    ((), RegionLevel.COUNTY, TimeBucket.YEAR),
]


def _comparable(groups: list[Group]) -> list[tuple[Any, ...]]:
    return sorted((repr(group.key), group.count, sorted(group.kpis.items())) for group in groups)


async def test_the_summary_answers_as_the_records_do(world: AsyncEngine) -> None:
    # given the stats world, a grid of groupings, filters and scopes (KPIs included)
    for criteria, scope in itertools.product(CRITERIA, SCOPES):
        queries = [
            StatQuery(criteria, dimensions, level, bucket, RECORD_KPIS)
            for dimensions, level, bucket in GROUPINGS
        ]
        assert answerable(criteria)
        async with world.connect() as connection:
            # when counted from the summary and from the records (several at once: on
            # PostgreSQL as one GROUPING SETS scan of each)
            summarised = await counted_groups(connection, queries, scope)
            counted = await grouped_counts_many(connection, queries, scope)
        # then every group, count, numerator and denominator is the same
        for query, mine, theirs in zip(queries, summarised, counted, strict=True):
            assert _comparable(mine) == _comparable(theirs), (query, scope)


def _statements() -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    return seen, record


@pytest.mark.parametrize(
    "criteria",
    [
        RecordCriteria(search="漏水"),
        RecordCriteria(party_name="张"),
        RecordCriteria(occurred_from=datetime(2026, 2, 1, 10, tzinfo=SHANGHAI)),
        RecordCriteria(occurred_to=datetime(2026, 3, 31, 16, tzinfo=UTC)),  # 00:00 +08:00
    ],
    ids=["search", "party", "from-10-00", "to-utc-midnight-is-beijing-08-00"],
)
async def test_what_the_summary_cannot_answer_is_counted_from_the_records(
    world: AsyncEngine, criteria: RecordCriteria
) -> None:
    # given a filter the summary has no column for (or a bound within a Beijing day) ...
    whole_day = criteria.occurred_to is not None
    query = StatQuery(criteria, (StatDimension.KIND,), kpis=RECORD_KPIS)
    seen, record = _statements()
    event.listen(world.sync_engine, "before_cursor_execute", record)
    try:
        async with world.connect() as connection:
            (groups,) = await counted_groups(connection, [query], EVERYTHING)
            (counted,) = await grouped_counts_many(connection, [query], EVERYTHING)
    finally:
        event.remove(world.sync_engine, "before_cursor_execute", record)
    # then it is counted from the records (16:00 UTC is 00:00 Beijing: that one is a whole day)
    assert answerable(criteria) is whole_day
    assert any("FROM record_figures" in s for s in seen) is whole_day
    assert _comparable(groups) == _comparable(counted)


async def test_with_the_summary_switched_off_everything_is_counted_from_records(
    world: AsyncEngine,
) -> None:
    query = StatQuery(RecordCriteria(), (StatDimension.REGION,), kpis=RECORD_KPIS)
    seen, record = _statements()
    event.listen(world.sync_engine, "before_cursor_execute", record)
    token = use_summary.set(False)
    try:
        async with world.connect() as connection:
            (off,) = await counted_groups(connection, [query], EVERYTHING)
    finally:
        use_summary.reset(token)
        event.remove(world.sync_engine, "before_cursor_execute", record)
    assert not any("record_figures" in s for s in seen)
    async with world.connect() as connection:
        (on,) = await counted_groups(connection, [query], EVERYTHING)
    assert _comparable(on) == _comparable(off)


async def test_the_migration_fills_the_summary_from_stored_records(world: AsyncEngine) -> None:
    # given the world's records, with the summary rebuilt the way migration 0009 fills it
    async with world.connect() as connection:
        transaction = await connection.begin()
        try:
            await connection.execute(delete(FIGURES))
            await connection.execute(delete(MONTHLY))
            for statement in backfill_statements(world.dialect.name):
                await connection.execute(text(statement))
            # then it is the records grouped, exactly
            await _assert_exact(connection)
        finally:
            await transaction.rollback()


DASHBOARD_CRITERIA = RecordCriteria(region_code="411200", **WHOLE_DAYS)
CITY = RecordScope.of(["4112"], None)


@pytest.mark.parametrize(
    ("query", "scope", "table"),
    [
        (StatQuery(DASHBOARD_CRITERIA, kpis=RECORD_KPIS), CITY, "record_figures_monthly"),
        (StatQuery(DASHBOARD_CRITERIA, bucket=TimeBucket.MONTH), CITY, "record_figures_monthly"),
        (StatQuery(DASHBOARD_CRITERIA, (StatDimension.REGION,)), CITY, "record_figures_monthly"),
        (StatQuery(DASHBOARD_CRITERIA, (StatDimension.CATEGORY,)), CITY, "record_figures_monthly"),
        (StatQuery(DASHBOARD_CRITERIA, bucket=TimeBucket.WEEK), CITY, "record_figures"),
        (StatQuery(DASHBOARD_CRITERIA, (StatDimension.STATUS,)), CITY, "record_figures"),
        (
            StatQuery(DASHBOARD_CRITERIA, (StatDimension.REGION,), RegionLevel.TOWNSHIP),
            CITY,
            "record_figures",
        ),
        (StatQuery(DASHBOARD_CRITERIA), RecordScope.of(["411202001"], None), "record_figures"),
        (StatQuery(CRITERIA[4]), CITY, "record_figures_monthly"),  # kinds, whole months
        (StatQuery(CRITERIA[5]), CITY, "record_figures"),  # a status filter
        (StatQuery(CRITERIA[3]), CITY, "record_figures"),  # whole days, not whole months
    ],
    ids=lambda value: "" if not isinstance(value, str) else value,
)
async def test_each_query_reads_the_smallest_summary_that_holds_it(
    world: AsyncEngine, query: StatQuery, scope: RecordScope, table: str
) -> None:
    # given a query and a jurisdiction
    seen, record = _statements()
    event.listen(world.sync_engine, "before_cursor_execute", record)
    try:
        async with world.connect() as connection:
            (groups,) = await counted_groups(connection, [query], scope)
    finally:
        event.remove(world.sync_engine, "before_cursor_execute", record)
    # then it is counted from that summary alone, and answers as the records do
    assert answerable_monthly(query, scope) is (table == "record_figures_monthly")
    read = {
        name
        for name, pattern in (("record_figures_monthly", r"FROM record_figures_monthly\b"),
                              ("record_figures", r"FROM record_figures\b(?!_)"))
        if any(re.search(pattern, statement) for statement in seen)
    }  # fmt: skip
    assert read == {table}
    async with world.connect() as connection:
        (counted,) = await grouped_counts_many(connection, [query], scope)
    assert _comparable(groups) == _comparable(counted)
