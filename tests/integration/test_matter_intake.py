"""Matters from synced records on both databases: opening by configuration, joining through
links, and the department's feedback taken from the source record (the storyline of a grid
event mediated, failed, sent to the court and resolved there)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

import db.matter_intake
from db.engine import session_factory
from db.matter_intake import IntakeIncomplete, take_in
from db.matter_workflow import MatterWorkflow
from db.models import Link, Matter, MatterEvent, MatterRecord, Record
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.intake import IntakeRules
from domain.workflow.vocabulary import MatterAction, MatterStep
from tests.integration.graphql_world import KIND_MODELS, _insert, _kind_row

SH = ZoneInfo("Asia/Shanghai")
A = MatterAction
NOW = datetime(2025, 3, 3, 10, tzinfo=SH)
REGION = "411202001"
MEDIATION_ORG = "org:tjw-huibin-001"
COURT_ORG = "org:court-hubin"
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("411202",)))
MEDIATOR = Actor.of(Principal("mediator-1", Role.MEDIATOR, org=MEDIATION_ORG))
SOURCE = {
    RecordKind.GRID_EVENT: SourceSystem.GRID,
    RecordKind.DISPUTE: SourceSystem.MEDIATION,
    RecordKind.COURT_FILING: SourceSystem.COURT,
    RecordKind.POLICE_ALERT: SourceSystem.POLICE_110,
}


@pytest.fixture
async def flow(committing_engine: AsyncEngine) -> AsyncIterator[MatterWorkflow]:
    yield MatterWorkflow(
        session_factory(committing_engine), load_rules(), ChineseWorkingCalendar(),
        now=lambda: NOW,
    )


async def _record(
    flow: MatterWorkflow, record_id: int, kind: RecordKind, status: CaseStatus,
    category: DisputeCategory = DisputeCategory.NEIGHBOUR, reported_at: datetime | None = None,
) -> None:
    row: dict[str, Any] = {
        "id": record_id, "kind": kind, "source": SOURCE[kind], "source_key": f"K{record_id}",
        "category": category, "title": f"纠纷{record_id}", "summary": None, "occurred_at": NOW,
        "reported_at": reported_at, "region_code": REGION, "address": None, "status": status,
        "risk_level": RiskLevel.YELLOW, "source_status": "x", "source_updated_at": NOW,
        "updated_at": NOW, "deleted": False,
    }  # fmt: skip
    async with flow.sessions.begin() as session:
        connection = await session.connection()
        await _insert(connection, Record, [row])
        await _insert(connection, KIND_MODELS[kind], [_kind_row(kind, record_id, record_id, NOW)])


async def _link(flow: MatterWorkflow, a: int, b: int, kind: str) -> None:
    async with flow.sessions.begin() as session:
        session.add(Link(from_record_id=a, to_record_id=b, link_kind=kind, confidence=0.95,
                         evidence=[]))


async def _matter(flow: MatterWorkflow, record_id: int) -> Matter | None:
    async with flow.sessions() as session:
        return await session.scalar(
            select(Matter).join(MatterRecord, MatterRecord.matter_id == Matter.id)
            .where(MatterRecord.record_id == record_id)
        )


async def test_a_grid_event_opens_a_matter_that_follows_its_records(flow: MatterWorkflow) -> None:
    rules = IntakeRules(kinds=frozenset({RecordKind.GRID_EVENT}))
    await _record(flow, 1, RecordKind.GRID_EVENT, CaseStatus.REPORTED)
    counts = await take_in(flow, rules, [1], source="GRID")
    assert counts.opened == 1
    matter = await _matter(flow, 1)
    assert matter is not None and matter.number == "411202-2025-000001"
    assert (matter.category, matter.risk, matter.step) == (
        DisputeCategory.NEIGHBOUR, RiskLevel.YELLOW, MatterStep.REGISTERED
    )
    assert (await take_in(flow, rules, [1], source="GRID")).opened == 0  # already in it
    await flow.apply(matter.id, A.ADMIT, STAFF, {})
    await flow.apply(matter.id, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "YELLOW", "tier": "ORDINARY", "lead_org": "司法所"
    })
    await flow.apply(matter.id, A.DISPATCH, STAFF,
                     {"org": MEDIATION_ORG, "track": "PEOPLES_MEDIATION"})
    # the mediation record, taken over from the grid event, syncs as failed
    await _record(flow, 2, RecordKind.DISPUTE, CaseStatus.FAILED)
    await _link(flow, 2, 1, "REFERRED_FROM")
    counts = await take_in(flow, rules, [2], source="MEDIATION")
    assert (counts.opened, counts.joined, counts.fed_back) == (0, 1, 1)
    after = await _matter(flow, 2)
    assert after is not None and after.id == matter.id
    assert (after.step, after.result) == (MatterStep.FED_BACK, CaseStatus.FAILED)
    # staff send it to the court for 诉前调解; the court record syncs resolved
    await flow.apply(matter.id, A.REDISPATCH, STAFF,
                     {"org": COURT_ORG, "track": "PRE_FILING_MEDIATION", "reason": "调解不成"})
    await _record(flow, 3, RecordKind.COURT_FILING, CaseStatus.IN_PROGRESS)
    await _link(flow, 2, 3, "ESCALATED_TO")
    counts = await take_in(flow, rules, [3], source="COURT")
    assert (counts.joined, counts.fed_back) == (1, 1)  # 签收 and progress from the court
    async with flow.sessions.begin() as session:
        await session.execute(update(Record).where(Record.id == 3)
                              .values(status=CaseStatus.RESOLVED))
    assert (await take_in(flow, rules, [3], source="COURT")).fed_back == 1
    final = await _matter(flow, 3)
    assert final is not None
    assert (final.step, final.result, final.assigned_org) == (
        MatterStep.FED_BACK, CaseStatus.RESOLVED, COURT_ORG
    )
    async with flow.sessions() as session:
        actions = (await session.scalars(
            select(MatterEvent.action).where(MatterEvent.matter_id == matter.id)
            .order_by(MatterEvent.id)
        )).all()
    assert actions == [
        "OPEN", "ADMIT", "ASSESS", "DISPATCH", "RECORD_JOINED", "ACCEPT", "REPORT_RESULT",
        "REDISPATCH", "RECORD_JOINED", "ACCEPT", "REPORT_PROGRESS", "REPORT_RESULT",
    ]
    await flow.apply(matter.id, A.VERIFY, STAFF, {})
    await flow.apply(matter.id, A.CLOSE, STAFF, {"outcome": "RESOLVED"})
    await flow.apply(matter.id, A.REVISIT, STAFF, {"satisfaction": "SATISFIED"})


async def test_configuration_decides_what_opens(flow: MatterWorkflow) -> None:
    rules = IntakeRules.of(["PETITION", "DISPUTE"], ["LABOUR"])
    await _record(flow, 11, RecordKind.DISPUTE, CaseStatus.ACCEPTED, DisputeCategory.LABOUR)
    await _record(flow, 12, RecordKind.DISPUTE, CaseStatus.ACCEPTED, DisputeCategory.NEIGHBOUR)
    await _record(flow, 13, RecordKind.GRID_EVENT, CaseStatus.REPORTED, DisputeCategory.LABOUR)
    await _record(flow, 14, RecordKind.DISPUTE, CaseStatus.CLOSED, DisputeCategory.LABOUR)
    counts = await take_in(flow, rules, [11, 12, 13, 14], source="MEDIATION")
    assert counts.opened == 1
    assert await _matter(flow, 11) is not None
    assert [await _matter(flow, i) for i in (12, 13, 14)] == [None, None, None]


async def test_a_partner_acting_first_leaves_automatic_feedback_nothing_to_do(
    flow: MatterWorkflow,
) -> None:
    rules = IntakeRules()
    await _record(flow, 21, RecordKind.GRID_EVENT, CaseStatus.REPORTED)
    await take_in(flow, rules, [21], source="GRID")
    matter = await _matter(flow, 21)
    assert matter is not None
    await flow.apply(matter.id, A.ADMIT, STAFF, {})
    await flow.apply(matter.id, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "YELLOW", "tier": "SIMPLE", "lead_org": "司法所"
    })
    await flow.apply(matter.id, A.DISPATCH, STAFF,
                     {"org": MEDIATION_ORG, "track": "PEOPLES_MEDIATION"})
    await flow.apply(matter.id, A.REPORT_RESULT, MEDIATOR, {"result": "RESOLVED"})
    await _record(flow, 22, RecordKind.DISPUTE, CaseStatus.RESOLVED)
    await _link(flow, 22, 21, "SAME_MATTER")
    counts = await take_in(flow, rules, [22], source="MEDIATION")
    assert (counts.opened, counts.joined, counts.fed_back) == (0, 1, 0)


async def test_a_record_that_cannot_be_taken_in_holds_back_no_other(
    flow: MatterWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three grid events in one chunk, the second of which fails its transaction
    for record_id in (1, 2, 3):
        await _record(flow, record_id, RecordKind.GRID_EVENT, CaseStatus.REPORTED)
    real = db.matter_intake._take_in_chunk

    async def failing(session: Any, flow_: Any, rules: Any, chunk: Any, *rest: Any) -> None:
        await real(session, flow_, rules, chunk, *rest)
        if 2 in chunk:
            raise ValueError("a defect")

    monkeypatch.setattr(db.matter_intake, "_take_in_chunk", failing)
    # when they are taken in
    with pytest.raises(IntakeIncomplete) as failed:
        await take_in(flow, IntakeRules(kinds=frozenset({RecordKind.GRID_EVENT})), [1, 2, 3],
                      source="GRID")
    # then the others are taken in and only the failing one is named
    assert failed.value.remaining == [2] and failed.value.cause == "ValueError"
    assert await _matter(flow, 1) is not None and await _matter(flow, 3) is not None
    assert await _matter(flow, 2) is None


async def test_a_lost_database_names_its_chunk_and_those_after_it(
    flow: MatterWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three grid events taken in one at a time, the second chunk's transaction failing
    for record_id in (1, 2, 3):
        await _record(flow, record_id, RecordKind.GRID_EVENT, CaseStatus.REPORTED)
    monkeypatch.setattr(db.matter_intake, "_CHUNK", 1)
    real = db.matter_intake._take_in_chunk

    async def failing(session: Any, flow_: Any, rules: Any, chunk: Any, *rest: Any) -> None:
        await real(session, flow_, rules, chunk, *rest)
        if list(chunk) == [2]:
            raise ConnectionResetError("the database went away")

    monkeypatch.setattr(db.matter_intake, "_take_in_chunk", failing)
    # when they are taken in
    with pytest.raises(IntakeIncomplete) as failed:
        await take_in(flow, IntakeRules(kinds=frozenset({RecordKind.GRID_EVENT})), [1, 2, 3],
                      source="GRID")
    # then the first is in a matter, the second rolled back, and the rest are named
    assert failed.value.remaining == [2, 3] and failed.value.cause == "database unavailable"
    assert await _matter(flow, 1) is not None
    assert await _matter(flow, 2) is None and await _matter(flow, 3) is None


async def test_linked_records_taken_in_together_open_one_matter(flow: MatterWorkflow) -> None:
    # given two grid events of one matter, and a third linked to the second only through a
    # 110 alert (a kind that opens nothing), all synced in one batch
    rules = IntakeRules(kinds=frozenset({RecordKind.GRID_EVENT}))
    for record_id in (21, 22, 24):
        await _record(flow, record_id, RecordKind.GRID_EVENT, CaseStatus.REPORTED)
    await _record(flow, 23, RecordKind.POLICE_ALERT, CaseStatus.REPORTED)
    await _link(flow, 22, 21, "SAME_MATTER")
    await _link(flow, 23, 22, "SAME_MATTER")
    await _link(flow, 23, 24, "REFERRED_FROM")
    # when they are taken in at once
    counts = await take_in(flow, rules, [21, 22, 23, 24], source="GRID")
    # then one matter holds them all, opened by the oldest record, the others joined
    assert (counts.opened, counts.joined) == (1, 3)
    matters = {record_id: await _matter(flow, record_id) for record_id in (21, 22, 23, 24)}
    assert len({m.id for m in matters.values() if m is not None}) == 1
    assert None not in matters.values()
    async with flow.sessions() as session:
        how = dict((await session.execute(select(MatterRecord.record_id, MatterRecord.how))).all())
    assert how == {21: "ORIGIN", 22: "LINKED", 23: "LINKED", 24: "LINKED"}


async def test_linked_records_of_two_sources_taken_in_at_once_open_one_matter(
    flow: MatterWorkflow,
) -> None:
    # given a grid event and the mediation case it was referred to, linked before either is
    # taken in, and each source's intake running at the same moment
    rules = IntakeRules(kinds=frozenset({RecordKind.GRID_EVENT, RecordKind.DISPUTE}))
    await _record(flow, 31, RecordKind.GRID_EVENT, CaseStatus.REPORTED)
    await _record(flow, 32, RecordKind.DISPUTE, CaseStatus.ACCEPTED)
    await _link(flow, 32, 31, "REFERRED_FROM")
    # when both take their record in at once
    await asyncio.gather(take_in(flow, rules, [31], source="GRID"),
                         take_in(flow, rules, [32], source="MEDIATION"))
    # then the second waits for the first and joins its matter
    first, second = await _matter(flow, 31), await _matter(flow, 32)
    assert first is not None and second is not None and first.id == second.id


async def test_linked_records_open_their_matter_from_the_first_received(
    flow: MatterWorkflow,
) -> None:
    # given two linked grid events, the later id received a day earlier
    rules = IntakeRules(kinds=frozenset({RecordKind.GRID_EVENT}))
    await _record(flow, 41, RecordKind.GRID_EVENT, CaseStatus.REPORTED,
                  reported_at=datetime(2025, 3, 2, 9, tzinfo=SH))
    await _record(flow, 42, RecordKind.GRID_EVENT, CaseStatus.REPORTED,
                  reported_at=datetime(2025, 3, 1, 9, tzinfo=SH))
    await _link(flow, 41, 42, "SAME_MATTER")
    # when they are taken in together
    await take_in(flow, rules, [41, 42], source="GRID")
    # then the first received opens the matter, the other joins it
    async with flow.sessions() as session:
        how = dict((await session.execute(select(MatterRecord.record_id, MatterRecord.how))).all())
    assert how == {42: "ORIGIN", 41: "LINKED"}
