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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.decisions import reject_link
from db.engine import session_factory
from db.figure_summary import (
    FIGURES,
    MONTHLY,
    answerable,
    answerable_monthly,
    counted_groups,
    use_summary,
)
from db.ingest import ingest_records
from db.models import Link, Record
from db.models.figure_triggers import backfill_statements
from db.queries import RECORDS, RecordCriteria, RecordScope
from db.regions import seed_regions
from db.resolution import resolve_all
from db.stats import (
    Group,
    StatQuery,
    grouped_counts_many,
    referred_alerts,
    repeat_petitions,
)
from domain.enums import (
    CaseStatus,
    DisputeCategory,
    PartyRole,
    RecordKind,
    RegionLevel,
    RiskLevel,
    SourceSystem,
)
from domain.kinds import KIND_SPECS
from domain.records import ParsedParty, ParsedRecord
from domain.scope import EVERYTHING
from domain.stats import RECORD_KPIS, KpiClass, KpiId, StatDimension, TimeBucket
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_support import control, sources_for
from tests.integration.stats_world import stats_world
from tests.integration.test_linking_storage import ID_A, T0, VILLAGE, alert, mediation

SHANGHAI = ZoneInfo("Asia/Shanghai")
Key = tuple[Any, ...]


def _beijing(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def _summary(connection: AsyncConnection) -> dict[Key, int]:
    c = FIGURES.c
    rows = await connection.execute(
        select(c.region_code, c.day, c.kind, c.source, c.category, c.status, c.risk_level,
               c.kpi_class, c.deleted, c.repeat_petition, c.referred, c.record_count)
    )  # fmt: skip
    return {tuple(_plain(v) for v in row[:-1]): row[-1] for row in rows}


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value  # enums as their stored text


async def _expected(connection: AsyncConnection) -> dict[Key, int]:
    """A GROUP BY over the records, done in Python from their columns."""
    c = RECORDS.c
    rows = await connection.execute(
        select(c.region_code, c.occurred_at, c.kind, c.source, c.category, c.status,
               c.risk_level, c.kpi_class, c.deleted, c.repeat_petition, c.referred)
    )  # fmt: skip
    counts: Counter[Key] = Counter()
    for region, occurred, kind, source, category, status, risk, kpi, *flags in rows:
        day = occurred.astimezone(SHANGHAI).date()
        key = (region or "", day, kind, source, category, status, risk, kpi or "", *flags)
        counts[tuple(_plain(v) for v in key)] += 1
    return dict(counts)


async def _monthly(connection: AsyncConnection) -> dict[Key, tuple[int, int, int]]:
    c = MONTHLY.c
    rows = await connection.execute(
        select(c.region_code, c.month, c.kind, c.source, c.category, c.kpi_class, c.deleted,
               c.repeat_petition, c.referred, c.record_count, c.concluded_count,
               c.resolved_count)
    )  # fmt: skip
    return {tuple(_plain(v) for v in row[:-3]): tuple(row[-3:]) for row in rows}


async def _expected_monthly(connection: AsyncConnection) -> dict[Key, tuple[int, int, int]]:
    """The same by county and Beijing month, with the concluded and the resolved counted."""
    found: dict[Key, tuple[int, int, int]] = {}
    for key, count in (await _expected(connection)).items():
        region, day, kind, source, category, status, _, kpi, *flags = key
        month_key = (region[:6], day.replace(day=1), kind, source, category, kpi, *flags)
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


LINKED_QUERIES = [
    StatQuery(RecordCriteria(), dimensions, RegionLevel.COUNTY, bucket, RECORD_KPIS)
    for dimensions, bucket in (
        ((), None),
        ((StatDimension.KIND,), TimeBucket.MONTH),
        ((StatDimension.REGION,), TimeBucket.DAY),
        ((StatDimension.STATUS,), None),  # the finest summary, not the monthly one
    )
]


def _petition(key: str, days: int) -> ParsedRecord:
    return ParsedRecord(
        source=SourceSystem.PETITION, source_key=key, source_updated_at=T0, raw={},
        category=DisputeCategory.NEIGHBOUR, occurred_at=T0 + timedelta(days=days),
        region_code=VILLAGE, address="河南省三门峡市湖滨区车站街道黄龙社区建设路12号",
        parties=[ParsedParty(role=PartyRole.APPLICANT, name="張偉", id_number=ID_A,
                             phone="13800000001")],
    )  # fmt: skip


def _non_police(record: ParsedRecord) -> ParsedRecord:
    return replace(record, fields=record.fields | {"category_code_l1": "030000"})


async def _flagged(session: AsyncSession) -> tuple[set[int], set[int]]:
    """The records flagged by the triggers, and the records the links make so (db.stats)."""
    c = RECORDS.c
    flags = (await session.execute(select(c.id, c.repeat_petition, c.referred))).all()
    by_links = (
        set(await session.scalars(repeat_petitions())),
        set(await session.scalars(referred_alerts())),
    )
    flagged = ({i for i, repeat, _ in flags if repeat}, {i for i, _, referred in flags if referred})
    assert flagged == by_links
    return flagged


async def _assert_linked_exact(session: AsyncSession) -> tuple[set[int], set[int]]:
    """The summaries are the records grouped (flags included), their answers to the linked
    KPIs are the links' (the records path), and the flags are what the links make."""
    connection = await session.connection()
    await _assert_exact(connection)
    summarised = await counted_groups(connection, LINKED_QUERIES, EVERYTHING)
    counted = await grouped_counts_many(connection, LINKED_QUERIES, EVERYTHING)
    for query, mine, theirs in zip(LINKED_QUERIES, summarised, counted, strict=True):
        assert _comparable(mine) == _comparable(theirs), query
    return await _flagged(session)


async def _id(session: AsyncSession, key: str) -> int:
    found = await session.scalar(select(RECORDS.c.id).where(RECORDS.c.source_key == key))
    assert found is not None
    return found


async def test_a_batch_of_changed_records_keeps_the_summaries_and_flags_exact(
    session: AsyncSession,
) -> None:
    # given ten petitions by one person on one matter, linked by a real resolution run
    first = [_petition(f"B{n}", n) for n in range(10)]
    await ingest_records(session, first)
    await resolve_all(session)
    await _assert_linked_exact(session)
    # when the source delivers all of them again in one batch, concluded and their order in
    # time reversed (more records than write_updates writes itself on PostgreSQL)
    later = [
        replace(p, source_updated_at=T0 + timedelta(days=30), status=CaseStatus.RESOLVED,
                occurred_at=T0 + timedelta(days=20 - n))
        for n, p in enumerate(first)
    ]  # fmt: skip
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    connection = (await session.connection()).sync_connection
    assert connection is not None
    event.listen(connection, "before_cursor_execute", record)
    try:
        counts = await ingest_records(session, later)
    finally:
        event.remove(connection, "before_cursor_execute", record)
    # then each record holds its new values, the summaries count them under their new keys and
    # the link flags follow the new order (the triggers ran for the batch)
    assert counts.updated == 10
    rows = await session.execute(
        select(RECORDS.c.status, RECORDS.c.occurred_at).where(RECORDS.c.source_key.like("B%"))
    )
    assert {(status, occurred.date()) for status, occurred in rows} == {
        (CaseStatus.RESOLVED, (T0 + timedelta(days=20 - n)).date()) for n in range(10)
    }
    await _assert_linked_exact(session)
    if session.get_bind().dialect.name == "postgresql":  # one statement for the records
        assert sum(s.lstrip().startswith("UPDATE records") for s in statements) == 1


async def test_link_changes_keep_the_linked_numerators_exact(session: AsyncSession) -> None:
    # given a non-police alert taken over by a mediation case, and three petitions by one
    # person on one matter, linked by a real resolution run (the sync's linking)
    await ingest_records(session, [_non_police(alert("J1", "张伟", "13800000001"))])
    await ingest_records(session, [mediation("TJ1", "J1")])
    await ingest_records(session, [_petition("X1", 1), _petition("X2", 5), _petition("X3", 9)])
    await resolve_all(session)
    alert_id, first, second, third = [
        await _id(session, key) for key in ("J1", "X1", "X2", "X3")
    ]
    repeats, referred = await _assert_linked_exact(session)
    assert referred == {alert_id}  # (this test runs before the module's stats world exists)
    assert repeats == {second, third}
    # when staff reject the referral, then the alert no longer counts as diverted
    link = await session.scalar(select(Link).where(Link.link_kind == "REFERRED_FROM"))
    assert link is not None
    await reject_link(session, link.id, "staff-1")
    assert (await _assert_linked_exact(session))[1] == set()
    # when staff reject the links of the second petition, then only the third is a repeat
    for link in await session.scalars(
        select(Link).where(or_(Link.from_record_id == second, Link.to_record_id == second))
    ):
        await reject_link(session, link.id, "staff-1")
    assert (await _assert_linked_exact(session))[0] == {third}
    # when the first petition is withdrawn, then what followed it alone is no repeat
    await session.execute(
        update(Record.__table__).where(RECORDS.c.id == first).values(deleted=True)
    )
    await _assert_linked_exact(session)
    # when the first petition's time moves after the others, then the order (and so which
    # one is the repeat) follows it
    await session.execute(
        update(Record.__table__)
        .where(RECORDS.c.id.in_((first,)))
        .values(deleted=False, occurred_at=T0 + timedelta(days=30))
    )
    repeats, _ = await _assert_linked_exact(session)
    assert first in repeats
    # when a link is removed (as a run removes a stale automatic link) and a record deleted
    await session.execute(
        delete(Link).where(Link.decision.is_(None), Link.from_record_id.in_((first, third)))
    )
    await _assert_linked_exact(session)
    await session.execute(delete(Record.__table__).where(RECORDS.c.id == third))
    await _assert_linked_exact(session)
    # and when the links are all computed again from scratch, still exact
    await resolve_all(session)
    await _assert_linked_exact(session)


def _counted_petition(key: str, days: int, repeat_count: int | None) -> ParsedRecord:
    """A petition whose source says how often it was petitioned before (重复信访次数)."""
    petition = _petition(key, days)
    return replace(petition, fields=petition.fields | {"repeat_count": repeat_count})


REPEAT_RATE = StatQuery(RecordCriteria(), kpis=(KpiId.REPEAT_PETITION_RATE,))


async def _repeat_rate(session: AsyncSession) -> tuple[int, int | None]:
    """重复信访率's numerator and denominator as the dashboards get them (from a summary),
    after checking the records path gives the same."""
    connection = await session.connection()
    (summarised,) = await counted_groups(connection, [REPEAT_RATE], EVERYTHING)
    (counted,) = await grouped_counts_many(connection, [REPEAT_RATE], EVERYTHING)
    assert _comparable(summarised) == _comparable(counted)
    ((group,),) = (summarised,)
    return group.kpis[KpiId.REPEAT_PETITION_RATE]


FIRST_COUNTS = [0, 1, 2, 0, 1, 2, 0, 1, 2, None]
RESYNC_COUNTS = [1, 0, 2, 0, 0, 3, None, 1, 0, 0]


async def test_the_petition_systems_repeat_count_makes_a_repeat_petition(
    session: AsyncSession,
) -> None:
    # given ten petitions, not linked (yet), the petition system counting some of them as
    # petitioned before (重复信访次数 ≥ 1), inserted in bulk as a first sync inserts them
    await ingest_records(
        session, [_counted_petition(f"R{n}", n, c) for n, c in enumerate(FIRST_COUNTS)]
    )
    ids = [await _id(session, f"R{n}") for n in range(10)]
    # then they are repeat petitions in the flags, the summaries and 重复信访率, the records
    # path agreeing, though no link pairs them with anything
    repeats, _ = await _assert_linked_exact(session)
    assert repeats == {ids[n] for n, c in enumerate(FIRST_COUNTS) if c}
    assert await _repeat_rate(session) == (6, 10)
    # when a re-sync delivers all of them again (one batch, as many as write_updates writes
    # itself on PostgreSQL), counts dropping to 0 or none, rising from 0, or staying above it
    await ingest_records(
        session,
        [
            replace(_counted_petition(f"R{n}", n, c), source_updated_at=T0 + timedelta(days=30))
            for n, c in enumerate(RESYNC_COUNTS)
        ],
    )
    # then those dropped to 0 stop counting, those risen count, the rest are as they were
    repeats, _ = await _assert_linked_exact(session)
    assert repeats == {ids[n] for n, c in enumerate(RESYNC_COUNTS) if c}
    assert await _repeat_rate(session) == (4, 10)
    # when one of them drops to 0 on its own (a statement the ORM writes for one record)
    await ingest_records(
        session, [replace(_counted_petition("R5", 5, 0), source_updated_at=T0 + timedelta(40))]
    )
    repeats, _ = await _assert_linked_exact(session)
    assert ids[5] not in repeats
    assert await _repeat_rate(session) == (3, 10)
    # when a repeated one is withdrawn by its source, then it leaves both sides of the rate
    withdrawn = replace(
        _counted_petition("R0", 0, 1), deleted=True, source_updated_at=T0 + timedelta(days=50)
    )
    await ingest_records(session, [withdrawn])
    await _assert_linked_exact(session)
    assert await _repeat_rate(session) == (2, 9)
    # when the linking pairs them all (one person, one matter), then the petitions the links
    # make repeats count as well: every live one after the earliest live one, or repeated
    await resolve_all(session)
    repeats, _ = await _assert_linked_exact(session)
    assert ids[1] not in repeats  # the earliest not withdrawn, repeated by no source
    assert set(ids[2:]) <= repeats
    assert await _repeat_rate(session) == (8, 9)


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
    async with stats_world(engine):
        yield engine


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
