"""Matters graded on both databases (事项风险研判): a breached clock makes a matter YELLOW, a
second breach RED; a matter holding a RED record is RED with that rule's evidence, re-graded
when sync re-grades its record; read and overridden through GraphQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.deadline_scanner import scan
from db.engine import session_factory
from db.ingest import ingest_records
from db.linking_lock import grading_lock
from db.matter_workflow import MatterWorkflow, NewMatter
from db.models import Record, RiskAssessment, RiskGradeChange
from db.resolution import resolve_new_mentions
from db.risk import grade_matters, grade_touched
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import RiskLevel
from domain.risk import TargetKind
from domain.risk.alerts import RiskAlert
from domain.risk.redaction import OUTSIDE
from domain.roles import Role
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import MatterAction, MatterOrigin
from schema.ids import global_id
from tests.integration.auth_support import token
from tests.integration.graphql_world import graphql, graphql_client
from tests.integration.test_deadline_scanner import ORG, REGION, SH, STAFF, START, FakeClock
from tests.integration.test_risk_storage import alert

A = MatterAction
THREAT = "报警人称丈夫扬言要砍死她"

QUERY = """
query($id: ID!) { matter(id: $id) { risk riskAssessment {
  level computedLevel overriddenBy rules { id level evidence } } } }
"""
OVERRIDE = """
mutation($id: ID!, $level: RiskLevel!, $reason: String!) {
  overrideRiskGrade(targetId: $id, level: $level, reason: $reason) {
    __typename
    ... on RiskOverridden { assessment { level computedLevel overriddenBy } }
    ... on RiskOverrideError { code }
  }
}
"""


@pytest.fixture
async def flow(committing_engine: AsyncEngine) -> AsyncIterator[MatterWorkflow]:
    yield MatterWorkflow(
        session_factory(committing_engine), load_rules(), ChineseWorkingCalendar(),
        now=FakeClock(START),
    )


async def _grade(flow: MatterWorkflow, matter_id: int) -> RiskAssessment | None:
    async with flow.sessions() as session:
        row: RiskAssessment | None = await session.scalar(
            select(RiskAssessment).where(
                RiskAssessment.target_kind == TargetKind.MATTER,
                RiskAssessment.target_id == matter_id,
            )
        )
        return row


async def _from_record(flow: MatterWorkflow, key: str, story: str) -> tuple[int, int]:
    """A 110 alert stored and graded as sync does, and the matter it opens."""
    async with flow.sessions.begin() as session:
        counts = await ingest_records(session, [alert(key, 0, story)])
        await resolve_new_mentions(session, relink=counts.changed_ids)
        await grade_touched(session, counts.changed_ids)
        record_id = await session.scalar(select(Record.id).where(Record.source_key == key))
    assert record_id is not None
    payload = OpenPayload(origin=MatterOrigin.POLICE_ALERT, region_code=REGION, title="家庭纠纷")
    matter = await flow.open(STAFF, NewMatter(payload, record_id=record_id))
    return record_id, matter


async def test_a_breached_matter_is_yellow_then_red_on_the_second_breach(
    flow: MatterWorkflow,
) -> None:
    matter = await _walk_in(flow)
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "BLUE", "tier": "ORDINARY", "lead_org": "司法所"
    })  # fmt: skip
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    graded = await _grade(flow, matter)
    assert graded is not None and graded.effective_level is RiskLevel.NONE
    # dispatch.accept is due Thu 6 March 24:00: the first breach
    first = await scan(flow, datetime(2025, 3, 7, 9, tzinfo=SH))
    assert first.breaches == 1
    graded = await _grade(flow, matter)
    assert graded is not None and graded.effective_level is RiskLevel.YELLOW
    assert [(r["id"], r["evidence"]["rules"]) for r in graded.rules] == [
        ("matters.overdue", ["dispatch.accept"])
    ]
    # the tier clock (7 days) breaches too: twice overdue is RED
    second = await scan(flow, datetime(2025, 3, 12, 9, tzinfo=SH))
    assert second.breaches == 1
    graded = await _grade(flow, matter)
    assert graded is not None and graded.effective_level is RiskLevel.RED
    assert [r["id"] for r in graded.rules] == ["matters.overdue_repeated", "matters.overdue"]
    assert graded.rules[0]["evidence"]["count"] == 2
    async with flow.sessions() as session:
        changes = (await session.execute(
            select(RiskGradeChange.from_level, RiskGradeChange.to_level)
            .where(RiskGradeChange.target_kind == TargetKind.MATTER,
                   RiskGradeChange.target_id == matter)
            .order_by(RiskGradeChange.id)
        )).all()  # fmt: skip
    assert [tuple(c) for c in changes] == [
        (RiskLevel.NONE, RiskLevel.YELLOW), (RiskLevel.YELLOW, RiskLevel.RED)
    ]


async def test_a_matter_gathering_a_red_record_is_red_with_that_rules_evidence(
    flow: MatterWorkflow,
) -> None:
    _, matter = await _from_record(flow, "J1", "报警人称与丈夫因琐事发生争吵")
    graded = await _grade(flow, matter)
    assert graded is not None and graded.effective_level is RiskLevel.NONE
    # the source corrects the alert: a threat with a weapon; sync re-grades record and matter
    corrected = alert("J1", 0, THREAT)
    later = replace(corrected, source_updated_at=corrected.source_updated_at + timedelta(days=1))
    async with flow.sessions.begin() as session:
        counts = await ingest_records(session, [later])
        await grade_touched(session, counts.changed_ids)
    graded = await _grade(flow, matter)
    assert graded is not None and graded.effective_level is RiskLevel.RED
    extreme = next(r for r in graded.rules if r["id"] == "words.extreme")
    assert extreme["evidence"]["records"] == ["POLICE_110/J1"]


async def test_a_matters_grade_through_graphql_and_its_override(
    flow: MatterWorkflow, committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    _, matter = await _from_record(flow, "J2", THREAT)
    gid = global_id("Matter", matter)
    staff = {"Authorization": f"Bearer {token(Role.CENTER_STAFF, ['411202'], sub='staff-3')}"}
    async with graphql_client(committing_engine, pii_key, role=None,
                              scan_deadlines=False) as client:  # fmt: skip
        body = await graphql(client, QUERY, {"id": gid}, headers=staff)
        assert body.get("errors") is None, body
        shown = body["data"]["matter"]
        assert shown["risk"] == "NONE"  # staff's 研判 level, set at ASSESS
        assessment = shown["riskAssessment"]
        assert assessment["level"] == "RED" and assessment["overriddenBy"] is None
        extreme = next(r for r in assessment["rules"] if r["id"] == "words.extreme")
        assert extreme["evidence"]["records"] == ["POLICE_110/J2"]
        done = await graphql(
            client, OVERRIDE, {"id": gid, "level": "YELLOW", "reason": "已当面化解"},
            headers=staff,
        )
        assert done["data"]["overrideRiskGrade"] == {
            "__typename": "RiskOverridden",
            "assessment": {"level": "YELLOW", "computedLevel": "RED", "overriddenBy": "staff-3"},
        }
        outside = {"Authorization": f"Bearer {token(Role.CENTER_STAFF, ['510129'], sub='x')}"}
        refused = await graphql(
            client, OVERRIDE, {"id": gid, "level": "BLUE", "reason": "无"}, headers=outside
        )
        assert refused["data"]["overrideRiskGrade"] == {
            "__typename": "RiskOverrideError", "code": "NOT_FOUND"
        }


async def _walk_in(flow: MatterWorkflow) -> int:
    payload = OpenPayload(origin=MatterOrigin.WALK_IN, region_code=REGION, title="邻里纠纷")
    return await flow.open(STAFF, NewMatter(payload))


async def test_a_listed_supervision_makes_a_matter_red_and_alerts_once(
    flow: MatterWorkflow,
) -> None:
    heard: list[RiskAlert] = []

    async def listen(alerts: Sequence[RiskAlert]) -> None:
        heard.extend(alerts)

    flow.on_risk_alerts = listen
    matter = await _walk_in(flow)
    await flow.supervise(matter, STAFF, {"level": "LISTED", "target_org": ORG, "reason": "久拖"})
    graded = await _grade(flow, matter)
    assert graded is not None and graded.effective_level is RiskLevel.RED
    assert graded.rules[0]["id"] == "matters.listed_supervision"
    await flow.apply(matter, A.ADMIT, STAFF, {})  # graded again, still RED: no second alert
    assert [(a.target, a.target_id, a.previous, a.level) for a in heard] == [
        (TargetKind.MATTER, matter, RiskLevel.NONE, RiskLevel.RED)
    ]


async def test_a_failed_grading_never_fails_the_step_and_is_retried(
    flow: MatterWorkflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr("db.matter_workflow.grade_matters", broken)
    matter = await _walk_in(flow)  # the step commits all the same
    assert flow.ungraded == {matter} and await _grade(flow, matter) is None
    monkeypatch.undo()
    other = await _walk_in(flow)  # the next grading takes the one left over
    assert flow.ungraded == set()
    assert await _grade(flow, matter) is not None and await _grade(flow, other) is not None


async def test_a_matters_grading_waits_for_a_sync_grading_pass(flow: MatterWorkflow) -> None:
    """A sync's grading pass may be adding a matter's first grade: the workflow's grading of
    that matter waits for it (two first grades collided: a unique violation)."""
    matter = await _walk_in(flow)
    async with flow.sessions.begin() as session:
        await session.execute(delete(RiskAssessment))  # as before the matter's first grade
    async with flow.sessions.begin() as session, grading_lock(session):
        grading = asyncio.ensure_future(flow.grade([matter]))
        await asyncio.sleep(0.3)
        assert not grading.done()
        await grade_matters(session, [matter])  # the pass adds the first grade meanwhile
    await asyncio.wait_for(grading, timeout=10)
    assert flow.ungraded == set()  # it did not collide: the grade was updated, not added
    assert await _grade(flow, matter) is not None


async def test_a_partner_reads_the_matters_grade_without_records_it_may_not_read(
    flow: MatterWorkflow, committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    _, matter = await _from_record(flow, "J3", THREAT)
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, {
        "category": "MARRIAGE_FAMILY", "risk": "RED", "tier": "ORDINARY", "lead_org": "司法所"
    })  # fmt: skip
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    # the mediator the matter went to reads it, but not 110 alerts: the grade, not the call
    mediator = {"Authorization": "Bearer " + token(Role.MEDIATOR, ["510129"], sub="m-1", org=ORG)}
    async with graphql_client(committing_engine, pii_key, role=None,
                              scan_deadlines=False) as client:  # fmt: skip
        body = await graphql(client, QUERY, {"id": global_id("Matter", matter)}, headers=mediator)
    assert body.get("errors") is None, body
    assessment = body["data"]["matter"]["riskAssessment"]
    assert assessment["level"] == "RED"
    extreme = next(r for r in assessment["rules"] if r["id"] == "words.extreme")
    assert extreme["evidence"]["records"] == [OUTSIDE]
    assert "words" not in extreme["evidence"]
