"""A breach that did not happen leaves no 督办 behind, on both databases.

The scanner declares a petition's 60 days (§34) run out and issues its automatic 督办单; the
next sync then brings the petition system's own 办结, dated within the 60 days. The limit was
met: the order (and the one it was escalated into) is closed by the system, its reply clock
stops, and nothing escalates later. A conclusion dated after the limit keeps the order open:
the organisation was late and answers for it. The same holds for 登记转送 (§22) met by the
source's own 受理, learned late.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db import source_steps
from db.deadline_scanner import scan
from db.matter_intake import take_in
from db.matter_workflow import BREACH_VOIDED, MatterWorkflow, NewMatter
from db.models import ClockRow, MatterEvent, MatterRecord, Record, Supervision
from db.models.audit import AuditEntry
from db.models.records import Petition
from db.models.risk import RiskAssessment
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.roles import Principal, Role
from domain.supervision import SupervisionStatus
from domain.workflow.actors import Actor
from domain.workflow.errors import Conflict, IllegalTransition
from domain.workflow.intake import IntakeRules
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import MatterAction, MatterOrigin
from tests.integration.clock_support import SettableClock, clocked_workflow
from tests.integration.graphql_world import _insert

SH = ZoneInfo("Asia/Shanghai")
REGION = "510183001"
RECORD = 1
ACCEPTED_ON = date(2026, 10, 1)  # §34: 60 days, the last 2026-11-30 (due 12-01 00:00)
FIRST_SYNC = datetime(2026, 10, 5, 10, tzinfo=SH)
BREACH_SCAN = datetime(2026, 12, 1, 9, tzinfo=SH)
LATER_SYNC = datetime(2026, 12, 3, 10, tzinfo=SH)
IN_TIME = datetime(2026, 11, 20, 9, 30, tzinfo=SH)  # 已答复 on the 50th day
TOO_LATE = datetime(2026, 12, 2, 15, tzinfo=SH)  # 已答复 on the 62nd day
VOIDER = Actor.system(BREACH_VOIDED).sub


@pytest.fixture
async def clock() -> SettableClock:
    return SettableClock(FIRST_SYNC)


@pytest.fixture
async def flow(committing_engine: AsyncEngine, clock: SettableClock) -> MatterWorkflow:
    return clocked_workflow(committing_engine, clock)


async def _petition(flow: MatterWorkflow, accepted: bool) -> int:
    """A petition received on 2026-10-01, synced on 10-05 (accepted by the petition system
    on 10-01, or still 待受理), taken in: its matter's id."""
    received = datetime.combine(ACCEPTED_ON, datetime.min.time(), SH)
    row: dict[str, Any] = {
        "id": RECORD, "kind": RecordKind.PETITION, "source": SourceSystem.PETITION,
        "source_key": "XF510183202600000001", "category": DisputeCategory.LABOUR,
        "title": "讨薪（来访）", "summary": None, "occurred_at": received,
        "reported_at": received, "region_code": REGION, "address": None,
        "status": CaseStatus.ACCEPTED if accepted else CaseStatus.REPORTED,
        "risk_level": RiskLevel.NONE, "source_status": "已受理" if accepted else "待受理",
        "source_updated_at": received, "updated_at": FIRST_SYNC, "deleted": False,
    }  # fmt: skip
    async with flow.sessions.begin() as session:
        connection = await session.connection()
        await _insert(connection, Record, [row])
        await _insert(connection, Petition, [{
            "id": RECORD, "form": "来访", "accepted_on": ACCEPTED_ON if accepted else None,
            "petition_numbers": {"county": row["source_key"]},
        }])  # fmt: skip
    assert (await take_in(flow, IntakeRules(), [RECORD], source="PETITION")).opened == 1
    async with flow.sessions() as session:
        matter_id = await session.scalar(
            select(MatterRecord.matter_id).where(MatterRecord.record_id == RECORD)
        )
    assert matter_id is not None
    return matter_id


async def _source_news(
    flow: MatterWorkflow, clock: SettableClock, status: CaseStatus, word: str, at: datetime,
    synced: datetime = LATER_SYNC, **petition: Any,
) -> None:
    """The source's news on the record, taken in at the sync at ``synced``."""
    async with flow.sessions.begin() as session:
        await session.execute(update(Record).where(Record.id == RECORD).values(
            status=status, source_status=word, source_updated_at=at,
        ))  # fmt: skip
        if petition:
            await session.execute(update(Petition).where(Petition.id == RECORD).values(**petition))
    clock.now = synced
    await take_in(flow, IntakeRules(), [RECORD], source="PETITION")


async def _orders(flow: MatterWorkflow, matter_id: int) -> list[Supervision]:
    async with flow.sessions() as session:
        return list(await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter_id).order_by(Supervision.id)
        ))  # fmt: skip


async def _running_reply_clocks(flow: MatterWorkflow, matter_id: int) -> int:
    async with flow.sessions() as session:
        rows = await session.scalars(select(ClockRow.id).where(
            ClockRow.matter_id == matter_id, ClockRow.supervision_id.is_not(None),
            ClockRow.stopped_at.is_(None),
        ))  # fmt: skip
        return len(list(rows))


async def _closings(flow: MatterWorkflow, matter_id: int) -> list[Any]:
    async with flow.sessions() as session:
        return list((await session.execute(
            select(MatterEvent.actor_sub, MatterEvent.note, MatterEvent.at).where(
                MatterEvent.matter_id == matter_id,
                MatterEvent.action == "CLOSE_SUPERVISION",
            ).order_by(MatterEvent.id)
        )).all())  # fmt: skip


async def test_a_conclusion_within_the_limit_closes_the_breachs_order(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _petition(flow, accepted=True)
    breached = await scan(flow, BREACH_SCAN)
    assert (breached.breaches, breached.supervised) == (1, 1)
    (order,) = await _orders(flow, matter)
    assert (order.automatic, order.breach_rule_id) == (True, "petition.source_handle")
    assert await _running_reply_clocks(flow, matter) == 1

    await _source_news(flow, clock, CaseStatus.RESOLVED, "已答复", IN_TIME)

    (order,) = await _orders(flow, matter)
    assert (order.status, order.version) == (SupervisionStatus.CLOSED.value, 2)
    assert order.running_clocks == []
    assert await _running_reply_clocks(flow, matter) == 0
    (closing,) = await _closings(flow, matter)
    assert closing.actor_sub == VOIDER
    assert closing.note == (
        "信访事项办理（信访系统已受理）已于2026-11-20按期完成，逾期不成立，督办随之办结"
    )
    # past the reply's five working days nothing escalates
    later = await scan(flow, datetime(2026, 12, 20, 10, tzinfo=SH))
    assert (later.breaches, later.supervised) == (0, 0)
    assert [o.status for o in await _orders(flow, matter)] == [SupervisionStatus.CLOSED.value]


async def test_an_escalated_order_of_a_breach_that_did_not_happen_is_closed_too(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _petition(flow, accepted=True)
    await scan(flow, BREACH_SCAN)
    escalated = await scan(flow, datetime(2026, 12, 9, 10, tzinfo=SH))  # no reply in 5 days
    assert escalated.breaches == 1
    first, second = await _orders(flow, matter)
    assert (first.status, second.status) == ("ESCALATED", "OPEN")

    synced = datetime(2026, 12, 10, 10, tzinfo=SH)
    await _source_news(flow, clock, CaseStatus.RESOLVED, "已答复", IN_TIME, synced)

    first, second = await _orders(flow, matter)
    assert (first.status, second.status) == ("ESCALATED", SupervisionStatus.CLOSED.value)
    assert await _running_reply_clocks(flow, matter) == 0
    assert [c.actor_sub for c in await _closings(flow, matter)] == [VOIDER]


async def test_a_conclusion_after_the_limit_keeps_the_order(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _petition(flow, accepted=True)
    await scan(flow, BREACH_SCAN)

    await _source_news(flow, clock, CaseStatus.CLOSED, "已办结", TOO_LATE)

    async with flow.sessions() as session:
        handle = await session.scalar(select(ClockRow).where(
            ClockRow.matter_id == matter, ClockRow.rule_id == "petition.source_handle",
        ))  # fmt: skip
    assert handle is not None and handle.stopped_at == TOO_LATE  # the source did finish
    (order,) = await _orders(flow, matter)
    assert (order.status, order.version) == (SupervisionStatus.OPEN.value, 1)
    assert await _running_reply_clocks(flow, matter) == 1
    assert await _closings(flow, matter) == []


async def test_an_acceptance_within_15_days_learned_late_closes_the_register_order(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _petition(flow, accepted=False)  # 登记转送: 15 days, due 10-17 00:00
    clock.now = datetime(2026, 10, 17, 9, tzinfo=SH)
    breached = await scan(flow, clock.now)
    assert breached.supervised == 1
    (order,) = await _orders(flow, matter)
    assert order.breach_rule_id == "petition.register"

    # the petition system accepted it on 10-10; the sync of 12-03 brings it
    await _source_news(
        flow, clock, CaseStatus.ACCEPTED, "已受理", datetime(2026, 10, 10, 16, tzinfo=SH),
        accepted_on=date(2026, 10, 10),
    )

    (order,) = await _orders(flow, matter)
    assert order.status == SupervisionStatus.CLOSED.value
    (closing,) = await _closings(flow, matter)
    assert closing.note == "信访事项登记转送已于2026-10-10按期完成，逾期不成立，督办随之办结"


async def test_the_closing_is_audited_and_announced_as_the_syncs_act(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _petition(flow, accepted=True)
    await scan(flow, BREACH_SCAN)
    (order,) = await _orders(flow, matter)

    await _source_news(flow, clock, CaseStatus.RESOLVED, "已答复", IN_TIME)

    async with flow.sessions() as session:
        rows = (await session.execute(
            select(AuditEntry.principal, AuditEntry.variables)
            .where(AuditEntry.operation == "matter.CLOSE_SUPERVISION")
        )).all()  # fmt: skip
    ((principal, variables),) = rows
    assert principal == Actor.system("sync:PETITION").sub
    assert (variables["supervisionId"], variables["rule"], variables["voided"]) == (
        order.id, "petition.source_handle", True
    )


async def test_a_staff_order_and_an_order_of_another_breach_stay_open(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _petition(flow, accepted=False)
    clock.now = datetime(2026, 10, 17, 9, tzinfo=SH)  # 登记转送 ran out: O1
    await scan(flow, clock.now)
    clock.now = datetime(2026, 10, 26, 9, tzinfo=SH)  # no reply in 5 working days: O1 → O1'
    assert (await scan(flow, clock.now)).supervised == 1
    # and staff press the bureau by hand, about the same matter
    manual = await flow.supervise(matter, STAFF, {
        "level": "SUPERVISE", "target_org": BUREAU, "reason": "请加快办理",
    })  # fmt: skip

    await _source_news(
        flow, clock, CaseStatus.ACCEPTED, "已受理", datetime(2026, 10, 10, 16, tzinfo=SH),
        accepted_on=date(2026, 10, 10),
    )

    first, successor, by_hand = await _orders(flow, matter)
    assert successor.escalated_from_id == first.id and by_hand.id == manual
    assert (first.status, first.voided) == ("ESCALATED", True)
    assert (successor.status, successor.voided) == (SupervisionStatus.CLOSED.value, True)
    assert (by_hand.status, by_hand.voided) == (SupervisionStatus.OPEN.value, False)


async def test_a_voided_breach_does_not_raise_the_next_breachs_rung(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _petition(flow, accepted=False)
    clock.now = datetime(2026, 10, 17, 9, tzinfo=SH)
    await scan(flow, clock.now)
    await _source_news(
        flow, clock, CaseStatus.ACCEPTED, "已受理", datetime(2026, 10, 10, 16, tzinfo=SH),
        accepted_on=date(2026, 10, 10),
    )
    # §34's 60 days from 10-10 really run out (due 12-10 00:00): the matter's first real breach
    await scan(flow, datetime(2026, 12, 11, 9, tzinfo=SH))
    voided, real = await _orders(flow, matter)
    assert voided.voided and real.breach_rule_id == "petition.source_handle"
    assert (real.rung, real.level, real.status) == (0, "REMINDER", "OPEN")


async def test_voided_breaches_leave_the_matters_risk(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _petition(flow, accepted=True)
    await scan(flow, BREACH_SCAN)  # the 60 days
    await scan(flow, datetime(2026, 12, 9, 10, tzinfo=SH))  # and the 督办's reply: two breaches
    assert "matters.overdue_repeated" in await _matter_rules(flow, matter)

    synced = datetime(2026, 12, 10, 10, tzinfo=SH)
    await _source_news(flow, clock, CaseStatus.RESOLVED, "已答复", IN_TIME, synced)
    await flow.grade([matter])

    assert "matters.overdue_repeated" not in await _matter_rules(flow, matter)


async def test_the_sources_news_stands_when_voiding_fails(
    flow: MatterWorkflow, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    matter = await _petition(flow, accepted=True)
    await scan(flow, BREACH_SCAN)

    async def conflicting(*args: Any, **kwargs: Any) -> Any:
        raise Conflict("supervision order changed meanwhile")

    monkeypatch.setattr(source_steps, "void_breaches", conflicting)
    await _source_news(flow, clock, CaseStatus.RESOLVED, "已答复", IN_TIME)

    async with flow.sessions() as session:
        handle = await session.scalar(select(ClockRow).where(
            ClockRow.matter_id == matter, ClockRow.rule_id == "petition.source_handle",
        ))  # fmt: skip
        facts = list(await session.scalars(select(MatterEvent.action).where(
            MatterEvent.matter_id == matter, MatterEvent.action == "RECORD_FACT",
        )))  # fmt: skip
    assert handle is not None and handle.stopped_at == IN_TIME
    assert facts == ["RECORD_FACT"]
    (order,) = await _orders(flow, matter)
    assert order.status == SupervisionStatus.OPEN.value  # left for staff to close


async def _matter_rules(flow: MatterWorkflow, matter_id: int) -> set[str]:
    async with flow.sessions() as session:
        rules = await session.scalar(
            select(RiskAssessment.rules)
            .where(RiskAssessment.target_kind == "MATTER", RiskAssessment.target_id == matter_id)
            .order_by(RiskAssessment.id.desc())
        )  # fmt: skip
    return {fired["id"] for fired in rules or []}


# -- steps dated when they are taken never void a breach -----------------------------------

ORG = "org:tjw-huibin-001"
HUIBIN = "411202001"
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("",)))
BUREAU = "org:xfj-510183"


async def _dispatched(
    flow: MatterWorkflow, clock: SettableClock, track: str, role: Role, category: str
) -> tuple[int, Actor]:
    clock.now = datetime(2025, 3, 3, 10, tzinfo=SH)
    matter = await flow.open(STAFF, NewMatter(OpenPayload(
        origin=MatterOrigin.WALK_IN, region_code=HUIBIN, title="来访登记",
    )))  # fmt: skip
    await flow.apply(matter, MatterAction.ADMIT, STAFF, {})
    await flow.apply(matter, MatterAction.ASSESS, STAFF, {
        "category": category, "risk": "BLUE", "tier": "COMPLEX", "lead_org": "司法所",
    })  # fmt: skip
    await flow.apply(matter, MatterAction.DISPATCH, STAFF, {"org": ORG, "track": track})
    partner = Actor.of(Principal("p-1", role, org=ORG))
    await flow.apply(matter, MatterAction.ACCEPT, partner, {})
    return matter, partner


async def test_an_extension_after_the_breach_is_refused_and_the_order_stays(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter, mediator = await _dispatched(
        flow, clock, "PEOPLES_MEDIATION", Role.MEDIATOR, "NEIGHBOUR"
    )
    clock.now = datetime(2025, 4, 3, 9, tzinfo=SH)  # 人民调解's 30 days ran out on 4-02
    await scan(flow, clock.now)
    # the supervised committee asks a day late to extend its own limit: too late
    clock.now = datetime(2025, 4, 3, 10, tzinfo=SH)
    with pytest.raises(IllegalTransition, match="期限届满前申请延期"):
        await flow.apply(matter, MatterAction.EXTEND, mediator, {
            "rule_id": "mediation.people", "amount": 30, "approval": "双方同意",
            "reason": "继续调解",
        })  # fmt: skip
    clock.now = datetime(2025, 4, 10, 10, tzinfo=SH)
    await flow.apply(matter, MatterAction.REPORT_RESULT, mediator, {"result": "RESOLVED"})

    orders = [o for o in await _orders(flow, matter) if o.breach_rule_id == "mediation.people"]
    assert [(o.status, o.voided) for o in orders] == [("OPEN", False)]
    assert await _closings(flow, matter) == []
    async with flow.sessions() as session:
        people = await session.scalar(select(ClockRow).where(
            ClockRow.matter_id == matter, ClockRow.rule_id == "mediation.people",
        ))  # fmt: skip
    assert people is not None and people.stopped_at is not None and people.due_at is not None
    assert people.stopped_at > people.due_at  # late, and counted late


async def test_an_extension_before_the_limit_runs_out_is_granted(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter, mediator = await _dispatched(
        flow, clock, "PEOPLES_MEDIATION", Role.MEDIATOR, "NEIGHBOUR"
    )
    clock.now = datetime(2025, 4, 2, 23, 59, tzinfo=SH)  # the last minute of the last day
    await flow.apply(matter, MatterAction.EXTEND, mediator, {
        "rule_id": "mediation.people", "amount": 30, "approval": "双方同意", "reason": "继续调解",
    })  # fmt: skip
    clock.now = datetime(2025, 4, 3, 9, tzinfo=SH)
    await scan(flow, clock.now)
    async with flow.sessions() as session:
        people = await session.scalar(select(ClockRow).where(
            ClockRow.matter_id == matter, ClockRow.rule_id == "mediation.people",
        ))  # fmt: skip
    # 60 days from 3-03 end on 5-02, within the May Day holiday: rolled to 5-06 (due 5-07 00:00)
    assert people is not None and people.due_at == datetime(2025, 5, 7, tzinfo=SH)
    assert [o for o in await _orders(flow, matter) if o.breach_rule_id == "mediation.people"] == []


async def test_a_backdated_fact_does_not_void_a_breach(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter, bureau = await _dispatched(flow, clock, "PETITION", Role.PARTNER_PETITION, "LABOUR")
    clock.now = datetime(2025, 3, 20, 9, tzinfo=SH)  # 告知's 15 days ran out on 3-18
    await scan(flow, clock.now)
    # the supervised bureau declares, five days on, that it told the party on 3-10
    clock.now = datetime(2025, 3, 25, 9, tzinfo=SH)
    await flow.apply(matter, MatterAction.RECORD_FACT, bureau, {
        "fact": "PARTY_NOTIFIED", "at": datetime(2025, 3, 10, 9, tzinfo=SH).isoformat(),
    })  # fmt: skip

    notify = [o for o in await _orders(flow, matter) if o.breach_rule_id == "petition.notify"]
    assert [(o.status, o.voided) for o in notify] == [("OPEN", False)]
