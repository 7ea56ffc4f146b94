"""Stored matters on both databases: numbers, the loop with its clocks, optimistic concurrency
(two actors at once: exactly one wins), jurisdiction, supervision orders, announcements."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import db.matter_workflow
from db.engine import session_factory
from db.matter_workflow import IntakeParty, MatterWorkflow, NewMatter, scope_of, store_transition
from db.matters import allocate_numbers, load_matter, state_of
from db.models import ClockRow, Matter, MatterEvent, MatterNumber, MatterParty, Supervision
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import PartyRole
from domain.events import MatterAnnouncement, MatterEventKind
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.errors import Conflict, Forbidden, IllegalTransition, NotFound
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import MatterAction, MatterOrigin, MatterStep, SupervisionAction

SH = ZoneInfo("Asia/Shanghai")
A = MatterAction
REGION = "411202001"
ORG = "org:tjw-huibin-001"
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("411202",)))
STAFF_2 = Actor.of(Principal("staff-2", Role.CENTER_STAFF, org="centre", regions=("4112",)))
ELSEWHERE = Actor.of(Principal("staff-3", Role.CENTER_STAFF, regions=("510104",)))
PARTNER = Actor.of(Principal("mediator-1", Role.MEDIATOR, org=ORG))
RULES = load_rules()
CALENDAR = ChineseWorkingCalendar()


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def workflow(committing_engine: AsyncEngine) -> AsyncIterator[tuple[MatterWorkflow, list]]:
    heard: list[MatterAnnouncement] = []

    async def publish(events: Sequence[MatterAnnouncement]) -> None:
        heard.extend(events)

    flow = MatterWorkflow(
        session_factory(committing_engine), RULES, CALENDAR, publish,
        Clock(datetime(2025, 3, 3, 10, tzinfo=SH)),
    )
    yield flow, heard


def intake(title: str = "邻里漏水纠纷") -> NewMatter:
    return NewMatter(
        OpenPayload(origin=MatterOrigin.WALK_IN, region_code=REGION, title=title),
        summary="楼上漏水",
        parties=[IntakeParty(PartyRole.APPLICANT, "张三", "11010519491231002X", "13800138000")],
    )


ASSESS: dict[str, Any] = {
    "category": "NEIGHBOUR", "risk": "YELLOW", "tier": "ORDINARY", "lead_org": "司法所"
}


async def test_numbers_are_per_region_and_year_and_never_repeat(workflow: Any) -> None:
    flow, heard = workflow
    first = await flow.open(STAFF, intake())
    second = await flow.open(STAFF, intake("另一件"))
    async with flow.sessions() as session:
        rows = (await session.scalars(select(Matter).order_by(Matter.id))).all()
        parties = (await session.scalars(select(MatterParty))).all()
    assert [r.id for r in rows] == [first, second]
    assert [r.number for r in rows] == ["411202-2025-000001", "411202-2025-000002"]
    assert rows[0].step is MatterStep.REGISTERED and rows[0].version == 1
    assert parties[0].id_number == "11010519491231002X"  # sealed at rest, opened on read
    assert [e.kind for e in heard] == [MatterEventKind.OPENED, MatterEventKind.OPENED]


async def test_the_loop_stores_state_timeline_and_clocks(workflow: Any) -> None:
    flow, heard = workflow
    matter = await flow.open(STAFF, intake())
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, ASSESS)
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    await flow.apply(matter, A.ACCEPT, PARTNER, {})
    version = await flow.apply(matter, A.REPORT_RESULT, PARTNER, {"result": "RESOLVED"})
    async with flow.sessions() as session:
        row = await session.get(Matter, matter)
        events = (await session.scalars(
            select(MatterEvent.action).where(MatterEvent.matter_id == matter)
            .order_by(MatterEvent.id)
        )).all()
        clocks = (await session.scalars(
            select(ClockRow).where(ClockRow.matter_id == matter).order_by(ClockRow.id)
        )).all()
    assert row is not None and row.step is MatterStep.FED_BACK and row.version == version == 6
    assert events == ["OPEN", "ADMIT", "ASSESS", "DISPATCH", "ACCEPT", "REPORT_RESULT"]
    by_rule = {c.rule_id: c for c in clocks}
    assert set(by_rule) == {"matter.tier.ordinary", "dispatch.accept", "mediation.people"}
    assert by_rule["dispatch.accept"].stopped_at is not None
    assert by_rule["mediation.people"].stopped_at is not None
    tier = by_rule["matter.tier.ordinary"]
    assert tier.stopped_at is None and tier.due_at is not None and tier.next_rung_at is not None
    assert set(row.running_clocks) == {"matter.tier.ordinary"}
    assert heard[-1].kind is MatterEventKind.STEP_CHANGED and heard[-1].detail == "REPORT_RESULT"


async def test_two_staff_acting_at_once_exactly_one_wins(workflow: Any) -> None:
    flow, _ = workflow
    matter = await flow.open(STAFF, intake())
    outcomes = await asyncio.gather(
        flow.apply(matter, A.ADMIT, STAFF, {"note": "甲"}, expected_version=1),
        flow.apply(matter, A.ADMIT, STAFF_2, {"note": "乙"}, expected_version=1),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "int"]


async def test_a_race_between_reads_and_writes_is_caught_by_the_version(workflow: Any) -> None:
    """Both read version 1 before either writes: the row's version check refuses the second."""
    flow, _ = workflow
    matter = await flow.open(STAFF, intake())
    both_read = asyncio.Barrier(2)

    async def act(actor: Actor) -> int:
        async with flow.sessions.begin() as session:
            row = await load_matter(session, matter, scope_of(actor))
            before = state_of(row)
            await both_read.wait()
            transition = flow.machine.apply(before, A.ADMIT, actor, {}, flow.now())
            await store_transition(session, flow, matter, before, transition, flow.now())
            return transition.state.version

    outcomes = await asyncio.gather(act(STAFF), act(STAFF_2), return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "int"]
    assert any(isinstance(o, Conflict) for o in outcomes)


async def test_reach_and_refusals_keep_their_codes(workflow: Any) -> None:
    flow, _ = workflow
    matter = await flow.open(STAFF, intake())
    with pytest.raises(NotFound):  # outside the jurisdiction: it does not exist
        await flow.apply(matter, A.ADMIT, ELSEWHERE, {})
    with pytest.raises(NotFound):  # not dispatched to the partner
        await flow.apply(matter, A.ACCEPT, PARTNER, {})
    with pytest.raises(IllegalTransition):
        await flow.apply(matter, A.VERIFY, STAFF, {})
    with pytest.raises(NotFound):
        await flow.apply(10**9, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, ASSESS)
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    with pytest.raises(Forbidden):  # the partner sees it now, but may not verify
        await flow.apply(matter, A.VERIFY, PARTNER, {})


async def test_supervision_orders_are_issued_replied_and_closed(workflow: Any) -> None:
    flow, heard = workflow
    matter = await flow.open(STAFF, intake())
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, ASSESS)
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    order = await flow.supervise(
        matter, STAFF, {"level": "SUPERVISE", "target_org": ORG, "reason": "久拖未决"}
    )
    await flow.act_on_order(order, SupervisionAction.REPLY_SUPERVISION, PARTNER,
                            {"reply": "已约谈双方"})
    with pytest.raises(Conflict):
        await flow.act_on_order(order, SupervisionAction.CLOSE_SUPERVISION, STAFF,
                                {"reason": "办结"}, expected_version=1)
    await flow.act_on_order(order, SupervisionAction.CLOSE_SUPERVISION, STAFF, {"reason": "办结"})
    async with flow.sessions() as session:
        stored = await session.get(Supervision, order)
        reply_clock = (await session.scalars(
            select(ClockRow).where(ClockRow.supervision_id == order)
        )).one()
    assert stored is not None and stored.status == "CLOSED" and stored.reply == "已约谈双方"
    assert reply_clock.rule_id == "supervision.reply" and reply_clock.stopped_at is not None
    assert heard[-1].kind is MatterEventKind.SUPERVISED


async def test_a_matter_that_ends_closes_its_orders_and_takes_no_more(workflow: Any) -> None:
    flow, _ = workflow
    matter = await flow.open(STAFF, intake())
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, ASSESS)
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    issue = {"level": "REMINDER", "target_org": ORG, "reason": "久拖未决"}
    replied = await flow.supervise(matter, STAFF, issue)
    await flow.act_on_order(replied, SupervisionAction.REPLY_SUPERVISION, PARTNER,
                            {"reply": "已约谈双方"})
    still_open = await flow.supervise(matter, STAFF, {**issue, "level": "SUPERVISE"})
    await flow.apply(matter, A.WITHDRAW, STAFF, {"reason": "当事人撤回申请"})
    async with flow.sessions() as session:
        orders = (await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter).order_by(Supervision.id)
        )).all()
        reply_clocks = (await session.scalars(
            select(ClockRow).where(ClockRow.supervision_id.in_([replied, still_open]))
        )).all()
        closings = (await session.scalars(
            select(MatterEvent).where(MatterEvent.matter_id == matter,
                                      MatterEvent.action == "CLOSE_SUPERVISION")
        )).all()
    assert [(o.id, o.status) for o in orders] == [(replied, "CLOSED"), (still_open, "CLOSED")]
    assert all(o.running_clocks == [] for o in orders)
    assert len(reply_clocks) == 2 and all(c.stopped_at is not None for c in reply_clocks)
    assert [(e.actor_sub, e.note, e.to_step) for e in closings] == [
        ("system:matter-ended", "事项已撤回，督办随之办结", MatterStep.WITHDRAWN)
    ] * 2
    with pytest.raises(IllegalTransition):
        await flow.supervise(matter, STAFF, issue)


async def _verified(flow: MatterWorkflow) -> int:
    """A matter through the loop up to 核查通过, ready to be closed (结案)."""
    matter = await flow.open(STAFF, intake())
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, ASSESS)
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    await flow.apply(matter, A.ACCEPT, PARTNER, {})
    await flow.apply(matter, A.REPORT_RESULT, PARTNER, {"result": "RESOLVED", "note": "已调解"})
    await flow.apply(matter, A.VERIFY, STAFF, {})
    return matter


async def test_a_supervision_issued_as_its_matter_closes_conflicts(
    workflow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow, _ = workflow
    matter = await _verified(flow)
    issue = {"level": "SUPERVISE", "target_org": ORG, "reason": "久拖未决"}
    # given a 督办 that has read its matter, still open, when staff close it (结案) meanwhile
    read = db.matter_workflow.load_matter
    closed: list[int] = []

    async def read_then_close(session: Any, matter_id: int, scope: Any) -> Matter:
        row = await read(session, matter_id, scope)
        monkeypatch.setattr(db.matter_workflow, "load_matter", read)  # the 结案 reads as usual
        closed.append(await flow.apply(matter, A.CLOSE, STAFF_2, {"outcome": "RESOLVED"}))
        return row

    monkeypatch.setattr(db.matter_workflow, "load_matter", read_then_close)
    # then the 督办 conflicts, as a step on a stale version does
    with pytest.raises(Conflict):
        await flow.supervise(matter, STAFF, issue)
    monkeypatch.undo()
    # and the closed matter holds no open order: nobody is pressed about a finished matter
    async with flow.sessions() as session:
        row = await load_matter(session, matter, scope_of(STAFF))
        orders = (await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter)
        )).all()  # fmt: skip
    assert row.step is MatterStep.CLOSED and row.version == closed[0]
    assert orders == []
    # and a 督办 asked for afresh is refused as the matter ended
    with pytest.raises(IllegalTransition):
        await flow.supervise(matter, STAFF, issue)


async def test_a_supervision_moves_the_matter_version_and_checks_the_one_seen(
    workflow: Any,
) -> None:
    flow, _ = workflow
    matter = await flow.open(STAFF, intake())
    issue = {"level": "REMINDER", "target_org": ORG, "reason": "久拖未决"}
    with pytest.raises(Conflict):  # the form was filled on version 7: stale
        await flow.supervise(matter, STAFF, issue, expected_version=7)
    await flow.supervise(matter, STAFF, issue, expected_version=1)
    # a step sent with the version seen before the 督办 conflicts with it
    with pytest.raises(Conflict):
        await flow.apply(matter, A.ADMIT, STAFF, {}, expected_version=1)
    assert await flow.apply(matter, A.ADMIT, STAFF, {}, expected_version=2) == 3


async def test_a_supervision_by_whoever_may_not_issue_one_is_forbidden_whatever_version(
    workflow: Any,
) -> None:
    flow, _ = workflow
    matter = await flow.open(STAFF, intake())
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, ASSESS)
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    issue = {"level": "REMINDER", "target_org": ORG, "reason": "久拖未决"}
    # given the partner the matter went to (it reads the matter, but issues no 督办), sending
    # a version that is stale: then it is told it may not, not that it was late
    for version in (1, 4):
        with pytest.raises(Forbidden):
            await flow.supervise(matter, PARTNER, issue, expected_version=version)
    # and staff with the same stale version are told they were late
    with pytest.raises(Conflict):
        await flow.supervise(matter, STAFF, issue, expected_version=1)


async def test_two_openers_of_a_new_counter_both_get_numbers(fresh_postgres: AsyncEngine) -> None:
    """The first matters of a county and year, opened at once by two transactions (two sources'
    intake in one sync): neither fails on the counter row the other is creating; the second
    waits for the first and numbers after it."""
    sessions = session_factory(fresh_postgres)
    key = [("411202", 2026)]
    async with sessions() as first, sessions() as second:
        await first.begin()
        await second.begin()
        numbers = await allocate_numbers(first, key * 2)
        assert numbers == ["411202-2026-000001", "411202-2026-000002"]
        waiting = asyncio.create_task(allocate_numbers(second, key))
        await asyncio.sleep(0.3)  # the second is blocked on the first's new row
        assert not waiting.done()
        await first.commit()
        assert await asyncio.wait_for(waiting, 10) == ["411202-2026-000003"]
        await second.commit()
    async with sessions() as session:
        assert (await session.get(MatterNumber, ("411202", 2026))).last == 3  # type: ignore[union-attr]


async def test_openers_of_two_counties_in_opposite_orders_both_get_numbers(
    fresh_postgres: AsyncEngine,
) -> None:
    """Two transactions opening matters of the same two counties, the first in one order and
    the second in the other (two sources' intake, records sorted by their own ids): they queue
    on the counters in one order, so neither is a deadlock's victim."""
    sessions = session_factory(fresh_postgres)
    first_county, second_county = ("411202", 2026), ("411221", 2026)
    async with sessions() as first, sessions() as second:
        await first.begin()
        await second.begin()
        assert await allocate_numbers(first, [first_county]) == ["411202-2026-000001"]
        waiting = asyncio.create_task(allocate_numbers(second, [second_county, first_county]))
        await asyncio.sleep(0.3)  # the second waits for the first county's counter
        assert not waiting.done()
        # when the first goes on to the second county
        assert await asyncio.wait_for(allocate_numbers(first, [second_county]), 10) == [
            "411221-2026-000001"
        ]
        await first.commit()
        # then the second numbers after it in both
        assert await asyncio.wait_for(waiting, 10) == ["411221-2026-000002", "411202-2026-000002"]
        await second.commit()
