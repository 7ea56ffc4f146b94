"""The deadline scanner on both databases: each rung fires once (two scanners at once too),
a breach supervises the organisation on duty once, a late 督办 reply escalates, one lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db import deadline_scanner
from db.deadline_scanner import hold_lease, release_lease, scan
from db.engine import create_engine, session_factory
from db.matter_workflow import MatterWorkflow, NewMatter, automatic_orders
from db.models import ClockRow, Matter, MatterEvent, Supervision
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import MatterAction, MatterOrigin, MatterStep

SH = ZoneInfo("Asia/Shanghai")
A = MatterAction
REGION = "411202001"
ORG = "org:tjw-huibin-001"
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("411202",)))
PROVINCE_STAFF = Actor.of(Principal("staff-p", Role.CENTER_STAFF, org="省综治中心",
                                   regions=("41",)))
START = datetime(2025, 3, 3, 10, tzinfo=SH)  # a Monday


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def flow(committing_engine: AsyncEngine) -> AsyncIterator[MatterWorkflow]:
    yield MatterWorkflow(
        session_factory(committing_engine), load_rules(), ChineseWorkingCalendar(),
        now=FakeClock(START),
    )


async def _dispatched(flow: MatterWorkflow) -> int:
    """A matter assessed as ORDINARY (7 calendar days) and dispatched on Monday 3 March."""
    matter = await flow.open(STAFF, NewMatter(OpenPayload(
        origin=MatterOrigin.WALK_IN, region_code=REGION, title="邻里纠纷"
    )))
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "BLUE", "tier": "ORDINARY", "lead_org": "司法所"
    })
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    return matter


async def _timeline(flow: MatterWorkflow, matter: int) -> list[tuple[str, str]]:
    async with flow.sessions() as session:
        rows = await session.execute(
            select(MatterEvent.action, MatterEvent.details).where(MatterEvent.matter_id == matter)
            .where(MatterEvent.action.in_(["WARNING", "OVERDUE"])).order_by(MatterEvent.id)
        )
        return [(action, f"{d['rule_id']}:{d['rung']}") for action, d in rows]


async def test_rungs_fire_in_time_and_once(flow: MatterWorkflow) -> None:
    matter = await _dispatched(flow)
    # dispatch.accept: 3 working days from Tue 4 March → due Thu 6 March 24:00;
    # warn50 after 2 days (Wed 5 March 24:00), warn80 after 3 → equal to due, left out
    early = await scan(flow, datetime(2025, 3, 5, 12, tzinfo=SH))
    assert early.warnings == 0 and early.breaches == 0
    mid = await scan(flow, datetime(2025, 3, 6, 1, tzinfo=SH))
    assert (mid.warnings, mid.breaches) == (1, 0)
    assert await _timeline(flow, matter) == [("WARNING", "dispatch.accept:warn50")]
    again = await scan(flow, datetime(2025, 3, 6, 2, tzinfo=SH))
    assert (again.warnings, again.breaches) == (0, 0)


async def test_two_scanners_at_once_breach_and_supervise_once(flow: MatterWorkflow) -> None:
    matter = await _dispatched(flow)
    later = datetime(2025, 3, 12, 9, tzinfo=SH)  # past both dispatch.accept and the tier clock
    results = await asyncio.gather(scan(flow, later, by="replica-a"), scan(flow, later, by="b"))
    assert sum(r.breaches for r in results) == 2  # dispatch.accept and matter.tier.ordinary
    assert sum(r.supervised for r in results) == 2
    timeline = await _timeline(flow, matter)
    assert sorted(timeline) == sorted([
        ("WARNING", "dispatch.accept:warn50"), ("OVERDUE", "dispatch.accept:due"),
        ("WARNING", "matter.tier.ordinary:warn50"), ("WARNING", "matter.tier.ordinary:warn80"),
        ("OVERDUE", "matter.tier.ordinary:due"),
    ])
    async with flow.sessions() as session:
        orders = (await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter).order_by(Supervision.rung)
        )).all()
    # repeated breach climbs: 提醒 then 督办, both at the partner on duty
    assert [(o.level.value, o.target_org, o.automatic) for o in orders] == [
        ("REMINDER", ORG, True), ("SUPERVISE", ORG, True)
    ]
    assert (await scan(flow, later + timedelta(hours=1))).breaches == 0


async def test_a_late_supervision_reply_escalates_the_order(flow: MatterWorkflow) -> None:
    matter = await _dispatched(flow)
    order = await flow.supervise(
        matter, STAFF, {"level": "REMINDER", "target_org": ORG, "reason": "请加快"}
    )
    # supervision.reply: 5 working days from Tue 4 March → due Mon 10 March 24:00
    await scan(flow, datetime(2025, 3, 11, 9, tzinfo=SH))
    async with flow.sessions() as session:
        orders = {o.id: o for o in await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter)
        )}
    assert orders[order].status == "ESCALATED"
    successors = [o for o in orders.values() if o.rung == 1 and not o.breach_clock_id]
    assert [(o.level.value, o.status) for o in successors] == [("SUPERVISE", "OPEN")]
    assert successors[0].reason == "升级：逾期未回复：督办回复"  # as staff read it, in Chinese


async def test_a_late_reply_to_a_listed_order_from_the_province_leaves_it_open(
    flow: MatterWorkflow,
) -> None:
    """挂牌督办 from 河南省 has no level nor region above it: its late reply is a breach on the
    timeline, and the order stays open, its clock run out — no copy restarts the clock."""
    matter = await _dispatched(flow)
    order = await flow.supervise(matter, PROVINCE_STAFF, {
        "level": "LISTED", "target_org": ORG, "reason": "挂牌督办", "issuing_region": "410000",
    })  # fmt: skip
    # supervision.reply: 5 working days from Tue 4 March → due Mon 10 March 24:00
    result = await scan(flow, datetime(2025, 3, 11, 9, tzinfo=SH))
    async with flow.sessions() as session:
        pressed = await session.get(Supervision, order)
        by_staff = (await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter,
                                      Supervision.breach_clock_id.is_(None))
        )).all()  # fmt: skip
        reply_clock = await session.scalar(
            select(ClockRow).where(ClockRow.supervision_id == order)
        )
    assert pressed is not None and (pressed.status, pressed.version) == ("OPEN", 1)
    assert [o.id for o in by_staff] == [order]  # no successor
    assert reply_clock is not None and reply_clock.stopped_at is None
    assert ("OVERDUE", "supervision.reply:due") in await _timeline(flow, matter)
    # only the matter's own breached clocks were supervised, not the late reply
    assert result.supervised == result.breaches - 1
    again = await scan(flow, datetime(2025, 3, 20, 9, tzinfo=SH))
    assert again.supervised == again.breaches  # the reply's breach fired once, not again


async def test_an_order_left_running_on_a_finished_matter_is_not_escalated(
    flow: MatterWorkflow,
) -> None:
    """Data written before a matter's end closed its orders: the late reply is recorded as
    overdue, but nobody is pressed about a finished matter."""
    matter = await _dispatched(flow)
    order = await flow.supervise(
        matter, STAFF, {"level": "REMINDER", "target_org": ORG, "reason": "请加快"}
    )
    async with flow.sessions.begin() as session:  # as a matter closed before the fix was left
        await session.execute(
            update(Matter).where(Matter.id == matter).values(step=MatterStep.CLOSED)
        )
    await scan(flow, datetime(2025, 3, 11, 9, tzinfo=SH))
    async with flow.sessions() as session:
        orders = (await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter)
        )).all()
    # the late reply is on the timeline, but the order is not escalated
    assert [(o.id, o.status) for o in orders if o.id == order] == [(order, "OPEN")]
    assert not [o for o in orders if o.status == "ESCALATED" or o.reason.startswith("升级")]
    assert ("OVERDUE", "supervision.reply:due") in await _timeline(flow, matter)


async def test_a_missed_revisit_after_closing_still_presses_the_centre(
    flow: MatterWorkflow,
) -> None:
    """回访 runs after 结案 by design: its breach is a 督办 on the centre all the same."""
    matter = await _dispatched(flow)
    partner = Actor.of(Principal("m-1", Role.MEDIATOR, org=ORG))
    await flow.apply(matter, A.ACCEPT, partner, {})
    await flow.apply(matter, A.REPORT_RESULT, partner, {"result": "RESOLVED"})
    await flow.apply(matter, A.VERIFY, STAFF, {})
    await flow.apply(matter, A.CLOSE, STAFF, {"outcome": "RESOLVED"})
    # matter.revisit: 1 working day from Tue 4 March → due Tue 4 March 24:00
    result = await scan(flow, datetime(2025, 3, 5, 9, tzinfo=SH))
    assert result.supervised >= 1
    async with flow.sessions() as session:
        rules = set(await session.scalars(
            select(Supervision.breach_clock_id).where(Supervision.matter_id == matter)
        ))
        revisit = await session.scalar(
            select(ClockRow.id).where(ClockRow.matter_id == matter,
                                      ClockRow.rule_id == "matter.revisit")
        )
    assert revisit in rules


async def test_a_matter_closed_while_the_scan_runs_gets_no_breach_order(
    flow: MatterWorkflow, committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan read the clock running; a step that ends the duty commits before the 督办
    is written (another process): the order is not issued, the breach stays recorded."""
    if committing_engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: no other write lands inside a scan")
    matter = await _dispatched(flow)
    other = create_engine(committing_engine.url.render_as_string(hide_password=False),
                          schema=await _schema(committing_engine))  # fmt: skip
    stopped: list[int] = []

    async def stop_clocks() -> None:
        async with other.begin() as connection:
            result = await connection.execute(
                update(ClockRow).where(ClockRow.matter_id == matter, ClockRow.stopped_at.is_(None))
                .values(stopped_at=START, stop_reason="CLOSED").returning(ClockRow.id)
            )  # fmt: skip
            stopped.extend(result.scalars())

    real = automatic_orders

    async def after_the_close(session: Any, matters: Any) -> Any:
        await stop_clocks()  # commits on another connection while the scan's batch is open
        return await real(session, matters)

    monkeypatch.setattr(deadline_scanner, "automatic_orders", after_the_close)
    try:
        result = await scan(flow, datetime(2025, 3, 12, 9, tzinfo=SH))
    finally:
        await other.dispose()
    assert stopped and result.breaches == 2 and result.supervised == 0
    async with flow.sessions() as session:
        orders = (await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter)
        )).all()
    assert orders == []
    assert ("OVERDUE", "dispatch.accept:due") in await _timeline(flow, matter)


async def _schema(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        return str(await connection.scalar(text("SELECT current_schema()")))


async def test_one_replica_holds_the_lease(flow: MatterWorkflow) -> None:
    now = START
    ttl = timedelta(seconds=30)
    assert await hold_lease(flow.sessions, "scanner-test", "a", now, ttl)
    assert not await hold_lease(flow.sessions, "scanner-test", "b", now, ttl)
    assert await hold_lease(flow.sessions, "scanner-test", "a", now + ttl / 2, ttl)  # renewed
    assert await hold_lease(flow.sessions, "scanner-test", "b", now + 2 * ttl, ttl)  # expired
    await release_lease(flow.sessions, "scanner-test", "b")
    assert await hold_lease(flow.sessions, "scanner-test", "a", now + 2 * ttl, ttl)
