"""A matter the centre has not dispatched takes its source's conclusion (来源系统已办结) as a
fact on the source's date, on both databases: a petition the petition system concluded within
its 60 days is no longer overdue and counts on time once the centre closes it, one concluded
late counts late, a re-sync adds nothing, and a dispatched matter still takes the result as
its feedback; the centre closes a concluded matter by verifying the source's result,
without dispatching it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.matter_intake import IntakeCounts, take_in
from db.matter_queries import MatterCriteria
from db.matter_stats import MatterStatQuery, first_overdue_select, matter_kpis
from db.matter_workflow import MatterWorkflow
from db.models import ClockRow, Matter, MatterEvent, MatterRecord, OutboxMessage, Record
from db.models.audit import AuditEntry
from db.models.records import Dispute, Petition
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.roles import Principal, Role
from domain.stats import KpiId
from domain.workflow.actors import Actor
from domain.workflow.errors import Conflict, IllegalTransition, NotFound
from domain.workflow.intake import IntakeRules
from domain.workflow.visibility import ALL_MATTERS
from domain.workflow.vocabulary import MatterAction, MatterStep
from tests.integration.graphql_world import _insert

SH = ZoneInfo("Asia/Shanghai")
A = MatterAction
NOW = datetime(2026, 12, 3, 10, tzinfo=SH)  # the syncs
REGION = "510183001"
ACCEPTED_ON = date(2026, 10, 1)  # §34: 60 days, the last 2026-11-30 (due 12-01 00:00)
DUE = datetime(2026, 12, 1, tzinfo=SH)
IN_TIME = datetime(2026, 11, 20, 9, 30, tzinfo=SH)  # 已答复 on the 50th day
TOO_LATE = datetime(2026, 12, 2, 15, tzinfo=SH)  # 已答复 on the 62nd day
BUREAU = "org:xfj-510183"
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("510183",)))
ELSEWHERE = Actor.of(Principal("staff-2", Role.CENTER_STAFF, org="centre", regions=("510129",)))
SYNC = Actor.system("sync:PETITION").sub


@pytest.fixture
async def flow(committing_engine: AsyncEngine) -> AsyncIterator[MatterWorkflow]:
    yield MatterWorkflow(
        session_factory(committing_engine), load_rules(), ChineseWorkingCalendar(),
        now=lambda: NOW,
    )


def _record_row(record_id: int, kind: RecordKind, source: SourceSystem) -> dict[str, Any]:
    received = datetime.combine(ACCEPTED_ON, datetime.min.time(), SH)
    return {
        "id": record_id, "kind": kind, "source": source,
        "source_key": f"XF5101832026{record_id:08d}", "category": DisputeCategory.LABOUR,
        "title": "讨薪（来访）", "summary": None, "occurred_at": received,
        "reported_at": received, "region_code": REGION, "address": None,
        "status": CaseStatus.ACCEPTED, "risk_level": RiskLevel.NONE, "source_status": "已受理",
        "source_updated_at": received, "updated_at": NOW, "deleted": False,
    }  # fmt: skip


async def _accepted_petitions(flow: MatterWorkflow, *record_ids: int) -> dict[int, int]:
    """Petitions the petition system accepted on 2026-10-01, taken in: record → matter."""
    async with flow.sessions.begin() as session:
        connection = await session.connection()
        rows = [_record_row(r, RecordKind.PETITION, SourceSystem.PETITION) for r in record_ids]
        await _insert(connection, Record, rows)
        await _insert(connection, Petition, [{
            "id": row["id"], "form": "来访", "accepted_on": ACCEPTED_ON,
            "petition_numbers": {"county": row["source_key"]},
        } for row in rows])  # fmt: skip
    counts = await take_in(flow, IntakeRules(), record_ids, source="PETITION")
    assert counts.opened == len(record_ids)
    async with flow.sessions() as session:
        found = await session.execute(
            select(MatterRecord.record_id, MatterRecord.matter_id)
            .where(MatterRecord.record_id.in_(record_ids))
        )
        return {record_id: matter_id for record_id, matter_id in found}


async def _concluded_at_source(
    flow: MatterWorkflow, record_id: int, at: datetime, status: CaseStatus = CaseStatus.RESOLVED,
    word: str = "已答复",
) -> None:
    async with flow.sessions.begin() as session:
        await session.execute(update(Record).where(Record.id == record_id).values(
            status=status, source_status=word, source_updated_at=at,
        ))  # fmt: skip


async def _resync(flow: MatterWorkflow, *record_ids: int) -> IntakeCounts:
    return await take_in(flow, IntakeRules(), record_ids, source="PETITION")


async def _clock(flow: MatterWorkflow, matter_id: int, rule_id: str) -> ClockRow:
    async with flow.sessions() as session:
        row = await session.scalar(select(ClockRow).where(
            ClockRow.matter_id == matter_id, ClockRow.rule_id == rule_id,
        ))  # fmt: skip
    assert row is not None
    return row


async def _facts(flow: MatterWorkflow, matter_id: int) -> list[Any]:
    async with flow.sessions() as session:
        return list((await session.execute(
            select(MatterEvent.at, MatterEvent.actor_sub, MatterEvent.from_step,
                   MatterEvent.note, MatterEvent.details)
            .where(MatterEvent.matter_id == matter_id,
                   MatterEvent.action == A.RECORD_FACT.value)
            .order_by(MatterEvent.id)
        )).all())  # fmt: skip


async def _step(flow: MatterWorkflow, matter_id: int) -> MatterStep:
    async with flow.sessions() as session:
        matter = await session.get(Matter, matter_id)
    assert matter is not None
    return matter.step


async def _overdue(flow: MatterWorkflow) -> list[int]:
    async with flow.sessions() as session:
        connection = await session.connection()
        rows = (await connection.execute(
            first_overdue_select(MatterCriteria(), ALL_MATTERS, NOW, 50)
        )).all()  # fmt: skip
        numbers = [row.number for row in rows]
        return list(await session.scalars(
            select(Matter.id).where(Matter.number.in_(numbers)).order_by(Matter.id)
        ))  # fmt: skip


async def _on_time_closure(flow: MatterWorkflow) -> tuple[int, int]:
    """按期办结率 over every matter: (on time, counted)."""
    async with flow.sessions() as session:
        connection = await session.connection()
        groups = await matter_kpis(connection, MatterStatQuery(
            MatterCriteria(), NOW, kpis=(KpiId.ON_TIME_CLOSURE_RATE,),
        ), ALL_MATTERS)  # fmt: skip
    if not groups:
        return (0, 0)
    (group,) = groups
    on_time, counted = group.kpis[KpiId.ON_TIME_CLOSURE_RATE]
    return (on_time, counted)


async def _dispatch(flow: MatterWorkflow, matter_id: int) -> None:
    await flow.apply(matter_id, A.ASSESS, STAFF, {
        "category": "LABOUR", "risk": "NONE", "tier": "SIMPLE", "lead_org": "信访局",
    })  # fmt: skip
    await flow.apply(matter_id, A.DISPATCH, STAFF, {"org": BUREAU, "track": "PETITION"})


async def _close(flow: MatterWorkflow, matter_id: int) -> None:
    """The centre closes it on its source's conclusion, not dispatched: 核查来源办结结果 (the
    source's result becomes the matter's), then 结案."""
    await flow.apply(matter_id, A.VERIFY, STAFF, {"note": "已核查信访系统的答复"})
    await flow.apply(matter_id, A.CLOSE, STAFF, {"outcome": "RESOLVED"})


async def test_a_petition_concluded_by_its_source_in_time_is_not_overdue_and_on_time(
    flow: MatterWorkflow,
) -> None:
    matter = (await _accepted_petitions(flow, 1))[1]
    assert await _overdue(flow) == [matter]  # the 60 days ran out on 11-30
    assert await _on_time_closure(flow) == (0, 1)
    # the petition system answers it on day 50; govhub hears of it at the next sync
    await _concluded_at_source(flow, 1, IN_TIME)
    counts = await _resync(flow, 1)
    assert (counts.concluded, counts.fed_back, counts.opened) == (1, 0, 0)
    handle = await _clock(flow, matter, "petition.source_handle")
    assert (handle.stopped_at, handle.stop_reason) == (IN_TIME, "SOURCE_CONCLUDED")
    assert handle.due_at == DUE
    (fact,) = await _facts(flow, matter)
    assert (fact.at, fact.actor_sub, fact.from_step) == (NOW, SYNC, MatterStep.ACCEPTED)
    assert fact.note == "来源系统已办结：PETITION XF510183202600000001（已答复）"
    assert fact.details == {"fact": "SOURCE_CONCLUDED", "at": "2026-11-20T09:30:00+08:00",
                            "record_status": "RESOLVED", "evidence_record_id": "1"}
    async with flow.sessions() as session:  # on the audit chain as the system's act
        audited = (await session.execute(
            select(AuditEntry.principal, AuditEntry.operation).where(
                AuditEntry.operation == "matter.RECORD_FACT")
        )).all()  # fmt: skip
    assert [principal for principal, _ in audited] == [SYNC]
    assert await _step(flow, matter) is MatterStep.ACCEPTED  # not closed for the centre
    assert await _overdue(flow) == []
    assert await _on_time_closure(flow) == (0, 0)  # open, nothing overdue: not counted yet
    await _close(flow, matter)
    assert await _on_time_closure(flow) == (1, 1)


async def test_a_petition_concluded_after_its_limit_counts_late(flow: MatterWorkflow) -> None:
    matter = (await _accepted_petitions(flow, 1))[1]
    assert await _on_time_closure(flow) == (0, 1)  # overdue, open: late on 11-30
    await _concluded_at_source(flow, 1, TOO_LATE, CaseStatus.CLOSED, "已办结")
    assert (await _resync(flow, 1)).concluded == 1
    handle = await _clock(flow, matter, "petition.source_handle")
    assert handle.stopped_at == TOO_LATE and handle.due_at == DUE  # stopped late (已超期完成)
    assert await _overdue(flow) == []  # nothing left to chase: the source has finished
    # still late, still counted: the news of a late conclusion does not lift the rate
    assert await _on_time_closure(flow) == (0, 1)
    await _close(flow, matter)
    assert await _on_time_closure(flow) == (0, 1)


async def test_a_resync_of_the_concluded_record_adds_nothing(flow: MatterWorkflow) -> None:
    matter = (await _accepted_petitions(flow, 1))[1]
    await _concluded_at_source(flow, 1, IN_TIME)
    assert (await _resync(flow, 1)).concluded == 1
    async with flow.sessions() as session:
        version = await session.scalar(select(Matter.version).where(Matter.id == matter))
    assert (await _resync(flow, 1)).concluded == 0
    # the source touches the record again (a later update time, same conclusion)
    await _concluded_at_source(flow, 1, datetime(2026, 11, 25, tzinfo=SH))
    assert (await _resync(flow, 1)).concluded == 0
    assert len(await _facts(flow, matter)) == 1
    async with flow.sessions() as session:
        assert await session.scalar(select(Matter.version).where(Matter.id == matter)) == version
    handle = await _clock(flow, matter, "petition.source_handle")
    assert handle.stopped_at == IN_TIME


async def test_in_one_sync_a_dispatched_matter_takes_feedback_and_an_undispatched_the_fact(
    flow: MatterWorkflow,
) -> None:
    matters = await _accepted_petitions(flow, 1, 2)
    await _dispatch(flow, matters[2])  # the centre sent this one to the petition bureau
    await _concluded_at_source(flow, 1, IN_TIME)
    await _concluded_at_source(flow, 2, IN_TIME)
    counts = await _resync(flow, 1, 2)
    assert (counts.concluded, counts.fed_back) == (1, 1)
    assert await _step(flow, matters[1]) is MatterStep.ACCEPTED
    assert len(await _facts(flow, matters[1])) == 1
    assert await _step(flow, matters[2]) is MatterStep.FED_BACK  # 结果反馈, as before
    assert await _facts(flow, matters[2]) == []
    dispatched = await _clock(flow, matters[2], "petition.source_handle")
    assert dispatched.stop_reason == "DISPATCH"


async def test_a_mediation_case_concluded_is_dated_by_its_agreement(
    flow: MatterWorkflow,
) -> None:
    async with flow.sessions.begin() as session:
        connection = await session.connection()
        row = _record_row(5, RecordKind.DISPUTE, SourceSystem.MEDIATION)
        await _insert(connection, Record, [row])
        await _insert(connection, Dispute, [{"id": 5, "accepted_on": ACCEPTED_ON}])
    assert (await take_in(flow, IntakeRules(), [5], source="MEDIATION")).opened == 1
    async with flow.sessions.begin() as session:
        await session.execute(update(Dispute).where(Dispute.id == 5).values(
            agreement_signed_on=date(2026, 10, 20)))  # fmt: skip
    await _concluded_at_source(flow, 5, NOW, word="调解成功")
    assert (await take_in(flow, IntakeRules(), [5], source="MEDIATION")).concluded == 1
    async with flow.sessions() as session:
        matter = await session.scalar(
            select(MatterRecord.matter_id).where(MatterRecord.record_id == 5))
    assert matter is not None
    people = await _clock(flow, matter, "mediation.source_people")
    assert people.stopped_at == datetime(2026, 10, 20, tzinfo=SH)  # 调结 within the month
    assert people.due_at is not None and people.stopped_at <= people.due_at


async def test_the_centre_closes_a_concluded_matter_on_the_source_result_undispatched(
    flow: MatterWorkflow,
) -> None:
    matters = await _accepted_petitions(flow, 1, 2)
    matter = matters[1]
    # a matter its source has not concluded cannot be verified before a department reports
    with pytest.raises(IllegalTransition):
        await flow.apply(matters[2], A.VERIFY, STAFF, {})
    await _concluded_at_source(flow, 1, IN_TIME)
    assert (await _resync(flow, 1)).concluded == 1  # only the changed record is synced
    async with flow.sessions() as session:
        version = await session.scalar(select(Matter.version).where(Matter.id == matter))
    assert version is not None
    # staff outside the county do not reach it, nor does anyone act on a stale version
    with pytest.raises(NotFound):
        await flow.apply(matter, A.VERIFY, ELSEWHERE, {})
    with pytest.raises(Conflict):
        await flow.apply(matter, A.VERIFY, STAFF, {}, expected_version=version - 1)

    # when staff verify the source's result (核查来源办结结果)
    await flow.apply(matter, A.VERIFY, STAFF, {"note": "已核查"}, expected_version=version)

    # then the matter is verified with the petition system's 已答复 as its result
    async with flow.sessions() as session:
        row = await session.get(Matter, matter)
        assert row is not None
        assert (row.step, row.result) == (MatterStep.VERIFIED, CaseStatus.RESOLVED)
        verified = (await session.execute(
            select(MatterEvent.actor_sub, MatterEvent.from_step, MatterEvent.details)
            .where(MatterEvent.matter_id == matter, MatterEvent.action == A.VERIFY.value)
        )).one()  # fmt: skip
        # nothing is written back to the petition system: the result is its own
        assert await session.scalar(select(OutboxMessage.id)) is None
        # and no department's clock (the bureau's 5 working days) was started
        started = set(await session.scalars(
            select(ClockRow.rule_id).where(ClockRow.matter_id == matter)))
    assert "petition.object" not in started
    assert (verified.actor_sub, verified.from_step) == (STAFF.sub, MatterStep.ACCEPTED)
    assert verified.details == {"source_concluded": "true", "record_status": "RESOLVED",
                                "evidence_record_id": "1", "result": "RESOLVED"}
    await flow.apply(matter, A.CLOSE, STAFF, {"outcome": "RESOLVED"})
    assert await _step(flow, matter) is MatterStep.CLOSED
    # closed on time; the other petition, still open past its 60 days, counts late
    assert await _on_time_closure(flow) == (1, 2)


async def test_a_matter_its_source_closed_without_a_result_is_verified_without_one(
    flow: MatterWorkflow,
) -> None:
    matter = (await _accepted_petitions(flow, 1))[1]
    await _concluded_at_source(flow, 1, IN_TIME, CaseStatus.CLOSED, "已办结")
    assert (await _resync(flow, 1)).concluded == 1
    await flow.apply(matter, A.VERIFY, STAFF, {})
    async with flow.sessions() as session:
        row = await session.get(Matter, matter)
    assert row is not None and (row.step, row.result) == (MatterStep.VERIFIED, None)
