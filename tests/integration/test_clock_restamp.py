"""Stored deadlines follow the calendar in force: a clock computed under another calendar (new
holiday data, an edited override table) has its stored due and next rung derived again, so
the overdue filter, the due-before filter and 按期办结率, which read them, agree with the
clock itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import db.clock_restamp
from db.clock_restamp import restamp_clocks
from db.deadline_scanner import SCANNER, hold_lease, scan
from db.matter_queries import MatterCriteria, criteria_conditions
from db.matter_workflow import MatterWorkflow, NewMatter
from db.matters import clock_of
from db.models import ClockRow, Lease, Matter
from domain.calendar import CalendarOverride, ChineseWorkingCalendar
from domain.deadlines import ClockState
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import MatterAction, MatterOrigin
from hub.matters import deadline_scanner
from hub.settings import Settings
from tests.integration.clock_support import SettableClock, clocked_workflow

SH = ZoneInfo("Asia/Shanghai")
A = MatterAction
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("411202",)))
START = datetime(2025, 3, 3, 10, tzinfo=SH)  # a Monday
TYPHOON = CalendarOverride(date(2025, 3, 5), False, "台风停工")  # Wednesday


@pytest.fixture
async def flow(committing_engine: AsyncEngine) -> AsyncIterator[MatterWorkflow]:
    yield clocked_workflow(committing_engine, SettableClock(START))


def _under(flow: MatterWorkflow, calendar: ChineseWorkingCalendar) -> MatterWorkflow:
    """The same database, rules and time under another calendar."""
    return MatterWorkflow(flow.sessions, flow.rules, calendar, now=flow.now)


async def _dispatched(flow: MatterWorkflow) -> int:
    """Dispatched on Monday 3 March 2025: 签收 (dispatch.accept) within 3 working days."""
    matter = await flow.open(STAFF, NewMatter(OpenPayload(
        origin=MatterOrigin.WALK_IN, region_code="411202001", title="邻里纠纷"
    )))
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "BLUE", "tier": "COMPLEX", "lead_org": "司法所"
    })
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": "org:tjw", "track": "PEOPLES_MEDIATION"})
    return matter


async def _overdue(flow: MatterWorkflow, at: datetime) -> list[int]:
    async with flow.sessions() as session:
        return list(await session.scalars(
            select(Matter.id).where(*criteria_conditions(MatterCriteria(overdue_at=at)))
        ))


async def _accept_clock(flow: MatterWorkflow, matter: int) -> ClockRow:
    async with flow.sessions() as session:
        row = await session.scalar(select(ClockRow).where(
            ClockRow.matter_id == matter, ClockRow.rule_id == "dispatch.accept"
        ))
    assert row is not None
    return row


async def test_a_closure_day_added_later_moves_the_stored_due_and_the_overdue_filter(
    flow: MatterWorkflow,
) -> None:
    matter = await _dispatched(flow)
    # under the published calendar: Tue 4, Wed 5, Thu 6 March → due Thu 6 March 24:00
    assert (await _accept_clock(flow, matter)).due_at == datetime(2025, 3, 7, tzinfo=SH)

    # the centre then records Wednesday as a typhoon closure: Tue 4, Thu 6, Fri 7 March
    closed = ChineseWorkingCalendar([TYPHOON])
    moved = _under(flow, closed)
    assert await restamp_clocks(moved) == 2  # dispatch.accept and matter.tier.complex

    row = await _accept_clock(moved, matter)
    assert row.due_at == datetime(2025, 3, 8, tzinfo=SH)
    assert row.calendar_version == closed.version
    friday = datetime(2025, 3, 7, 9, tzinfo=SH)
    assert clock_of(row).read(closed, friday).state is not ClockState.OVERDUE
    assert await _overdue(moved, friday) == []  # as the clock says: not yet late
    assert await restamp_clocks(moved) == 0  # nothing left computed under the old calendar

    # the scanner breaches it when the moved limit has passed, not before
    assert (await scan(moved, friday)).breaches == 0
    saturday = datetime(2025, 3, 8, 0, 30, tzinfo=SH)
    assert (await scan(moved, saturday)).breaches == 1
    assert await _overdue(moved, saturday) == [matter]


async def test_a_stopped_clock_is_judged_late_or_on_time_by_the_calendar_in_force(
    flow: MatterWorkflow,
) -> None:
    matter = await _dispatched(flow)
    # 签收 on Friday 7 March 09:00: late under the published calendar
    clock = flow.now
    assert isinstance(clock, SettableClock)
    clock.now = datetime(2025, 3, 7, 9, tzinfo=SH)
    partner = Actor.of(Principal("m-1", Role.MEDIATOR, org="org:tjw", regions=("411202",)))
    await flow.apply(matter, A.ACCEPT, partner, {})
    row = await _accept_clock(flow, matter)
    assert row.stopped_at is not None and row.stopped_at > row.due_at

    closed = ChineseWorkingCalendar([TYPHOON])
    moved = _under(flow, closed)
    await restamp_clocks(moved)
    row = await _accept_clock(moved, matter)
    # with Wednesday closed the limit ends Friday 24:00: 按期 reads the same as the clock's met
    assert row.due_at == datetime(2025, 3, 8, tzinfo=SH)
    assert row.stopped_at is not None and row.stopped_at <= row.due_at
    assert clock_of(row).read(closed, flow.now()).met is True


async def test_the_scanner_in_serve_restamps_the_stored_deadlines_when_it_starts(
    flow: MatterWorkflow,
) -> None:
    matter = await _dispatched(flow)
    closed = ChineseWorkingCalendar([TYPHOON])
    moved = _under(flow, closed)
    settings = Settings(_env_file=None, scan_deadlines=True, scan_interval_seconds=60)
    async with deadline_scanner(settings, moved):
        for _ in range(100):
            if (await _accept_clock(moved, matter)).calendar_version == closed.version:
                break
            await asyncio.sleep(0.05)
    assert (await _accept_clock(moved, matter)).due_at == datetime(2025, 3, 8, tzinfo=SH)


async def test_a_start_with_every_clock_under_the_calendar_in_force_reads_no_clock(
    flow: MatterWorkflow, committing_engine: AsyncEngine
) -> None:
    """Every start of the scanner asks which clocks another calendar computed; at a million
    clocks that must be a look-up in an index, not a walk through every clock."""
    await _dispatched(flow)
    statements: list[tuple[str, object]] = []

    def seen(conn: Connection, cursor: object, statement: str, parameters: object,
             context: object, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "clocks" in statement:
            statements.append((statement, parameters))

    event.listen(committing_engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await restamp_clocks(flow) == 0
    finally:
        event.remove(committing_engine.sync_engine, "before_cursor_execute", seen)

    assert statements
    postgres = committing_engine.dialect.name == "postgresql"
    async with committing_engine.begin() as connection:
        if postgres:  # a table this small is read whole when allowed: ask for the plan at scale
            await connection.execute(text("SET LOCAL enable_seqscan = off"))
        for statement, parameters in statements:
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = "\n".join(
                str(row[-1]) for row in await connection.exec_driver_sql(
                    explain + statement, parameters  # type: ignore[arg-type]
                )
            )  # fmt: skip
            assert "ix_clocks_calendar_version" in plan, plan


async def test_a_long_restamp_keeps_the_scanner_lease_from_another_replica(
    flow: MatterWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restamp of many clocks outlasts the lease's 30 s: it renews the lease as it goes, so
    no other replica starts restamping and scanning beside it."""
    for _ in range(3):
        await _dispatched(flow)  # two clocks each
    clock = flow.now
    assert isinstance(clock, SettableClock)
    monkeypatch.setattr(db.clock_restamp, "BATCH", 1)
    fired_rungs = db.clock_restamp.fired_rungs
    taken_over: list[bool] = []

    async def slow_batch(session: object, clock_ids: list[int]) -> dict[int, set[str]]:
        clock.now += timedelta(seconds=20)  # each batch takes 20 s of a 30 s lease
        taken_over.append(
            await hold_lease(flow.sessions, SCANNER, "other-replica:1", clock.now,
                             timedelta(seconds=30))
        )  # fmt: skip
        return await fired_rungs(session, clock_ids)  # type: ignore[arg-type]

    monkeypatch.setattr(db.clock_restamp, "fired_rungs", slow_batch)
    closed = ChineseWorkingCalendar([TYPHOON])
    moved = _under(flow, closed)
    settings = Settings(_env_file=None, scan_deadlines=True, scan_interval_seconds=1)
    async with deadline_scanner(settings, moved):
        for _ in range(200):
            if len(taken_over) >= 6:
                break
            await asyncio.sleep(0.05)
    assert len(taken_over) >= 6
    assert not any(taken_over)  # the restamping replica held the lease throughout
    async with flow.sessions() as session:
        assert await session.get(Lease, SCANNER) is None  # released on stop


async def test_a_clock_stored_later_under_another_calendar_is_restamped_by_the_next_scan(
    flow: MatterWorkflow,
) -> None:
    """A replica of the release before (during a rolling deploy), or a sync process under
    another override table, stores clocks under its calendar after the scanner started: the
    scanner's next pass derives them again, not its next start."""
    first = await _dispatched(flow)
    closed = ChineseWorkingCalendar([TYPHOON])
    moved = _under(flow, closed)
    settings = Settings(_env_file=None, scan_deadlines=True, scan_interval_seconds=0.2)
    async with deadline_scanner(settings, moved):
        for _ in range(100):
            if (await _accept_clock(moved, first)).calendar_version == closed.version:
                break
            await asyncio.sleep(0.05)
        later = await _dispatched(flow)  # stored under the published calendar
        for _ in range(100):
            if (await _accept_clock(moved, later)).calendar_version == closed.version:
                break
            await asyncio.sleep(0.05)
    row = await _accept_clock(moved, later)
    assert row.calendar_version == closed.version
    assert row.due_at == datetime(2025, 3, 8, tzinfo=SH)
