"""Risk grades through GraphQL on both databases: the grade with its rules and evidence on
records and persons, staff overrides (audited, staff only), and ``riskAlerts`` over a real
WebSocket within the subscriber's kinds and jurisdiction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import httpx
import pytest
from graphql import GraphQLObjectType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay.utils import to_base64

from db.engine import session_factory
from db.ingest import ingest_records
from db.models import AuditEntry, PartyMention, Record
from db.resolution import resolve_all
from db.risk import grade_touched
from domain.enums import RecordKind, RiskLevel
from domain.risk import TargetKind
from domain.risk.alerts import RiskAlert
from domain.roles import Role
from hub.risk import risk_alert_announcer
from resolvers.root import schema
from schema.sensitivity import Sensitivity, sensitivity_of
from tests.integration.auth_support import token
from tests.integration.graphql_world import codes, graphql, graphql_client
from tests.integration.security_world import INSIDE, OUTSIDE
from tests.integration.test_risk_storage import alert
from tests.integration.test_subscriptions import _connect, _until, running_hub

QUERY_RECORD_RISK = """
query RecordRisk($id: ID!) {
  node(id: $id) {
    ... on Record {
      riskLevel
      riskAssessment {
        level computedLevel assessedAt overriddenBy overrideReason
        rules { id description level evidence }
      }
    }
  }
}
"""
QUERY_RULE_IDS = """
query RuleIds($id: ID!) {
  node(id: $id) { ... on Record { riskAssessment { level rules { id level } } } }
}
"""
QUERY_PERSON_RISK = """
query PersonRisk($id: ID!) {
  person(id: $id) { riskAssessment { level rules { id evidence } } }
}
"""
MUTATION_OVERRIDE = """
mutation Override($id: ID!, $level: RiskLevel!, $reason: String!) {
  overrideRiskGrade(targetId: $id, level: $level, reason: $reason) {
    __typename
    ... on RiskOverridden { targetId assessment { level computedLevel overriddenBy } }
    ... on RiskOverrideError { code message }
  }
}
"""
SUBSCRIPTION_ALERTS = """
subscription Alerts { riskAlerts { targetId kinds regionCode level previous } }
"""


@dataclass
class RiskWorld:
    records: dict[str, str]
    person: str


@pytest.fixture
async def world(committing_engine: AsyncEngine) -> RiskWorld:
    # three calls from one home inside the jurisdiction within three weeks, one outside later
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        await ingest_records(session, [alert(f"J{i}", 7 * i) for i in range(1, 4)])
        await ingest_records(session, [replace(alert("J9", 400), region_code=OUTSIDE)])
        await resolve_all(session)
        ids = {key: rid for key, rid in await session.execute(select(Record.source_key, Record.id))}
        await grade_touched(session, list(ids.values()))
        person_id = await session.scalar(select(PartyMention.person_id).limit(1))
        assert person_id is not None
    return RiskWorld(
        records={key: to_base64("PoliceAlert", rid) for key, rid in ids.items()},
        person=to_base64("Person", person_id),
    )


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes, world: RiskWorld
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        yield client


def _as(role: Role, sub: str = "dev") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, [INSIDE], sub=sub)}"}


async def test_a_record_shows_its_grade_with_the_rules_and_evidence(
    client: httpx.AsyncClient, world: RiskWorld
) -> None:
    body = await graphql(client, QUERY_RECORD_RISK, {"id": world.records["J2"]},
                         headers=_as(Role.CENTER_STAFF))  # fmt: skip
    assert "errors" not in body, body
    node = body["data"]["node"]
    assert node["riskLevel"] == "RED"
    grade = node["riskAssessment"]
    assert (grade["level"], grade["computedLevel"], grade["overriddenBy"]) == ("RED", "RED", None)
    assert datetime.fromisoformat(grade["assessedAt"]).tzinfo is not None
    place = next(rule for rule in grade["rules"] if rule["id"] == "alerts.repeat_place")
    assert place["description"] == "同一地点60日内3次以上纠纷类110报警（民转刑风险）"
    assert place["evidence"]["records"] == ["POLICE_110/J1", "POLICE_110/J2", "POLICE_110/J3"]
    assert place["evidence"]["count"] == 3


async def test_a_person_shows_the_grade_over_all_their_records(
    client: httpx.AsyncClient, world: RiskWorld
) -> None:
    body = await graphql(client, QUERY_PERSON_RISK, {"id": world.person},
                         headers=_as(Role.CENTER_STAFF))  # fmt: skip
    grade = body["data"]["person"]["riskAssessment"]
    assert grade["level"] == "RED"
    assert {"alerts.repeat_place", "alerts.repeat_person"} <= {r["id"] for r in grade["rules"]}


async def test_evidence_is_free_text_and_refused_to_roles_without_it(
    client: httpx.AsyncClient, world: RiskWorld
) -> None:
    # evidence quotes summaries: free text, refused by the access rules to every role that may
    # not read it (tests/unit/test_sensitivity.py checks the rules follow the markers)
    rule_type = schema._schema.get_type("RiskRuleHit")
    assert isinstance(rule_type, GraphQLObjectType)
    assert sensitivity_of(rule_type.fields["evidence"]) is Sensitivity.FREE_TEXT
    # a dashboard reads figures, not records: neither the grade nor its evidence
    variables = {"id": world.records["J2"]}
    dashboard = _as(Role.DASHBOARD_VIEWER)
    refused = await graphql(client, QUERY_RECORD_RISK, variables, headers=dashboard)
    levels = await graphql(client, QUERY_RULE_IDS, variables, headers=dashboard)
    assert set(codes(refused)) == {"FORBIDDEN"}
    assert set(codes(levels)) == {"FORBIDDEN"}
    # the police read the grade and its rule ids
    police = await graphql(client, QUERY_RULE_IDS, variables, headers=_as(Role.PARTNER_POLICE))
    assert "errors" not in police, police
    assert police["data"]["node"]["riskAssessment"]["level"] == "RED"


async def test_staff_override_a_grade_with_a_reason_and_it_is_audited(
    client: httpx.AsyncClient, world: RiskWorld, committing_engine: AsyncEngine
) -> None:
    variables = {"id": world.records["J3"], "level": "BLUE", "reason": "  "}
    staff = _as(Role.CENTER_STAFF, sub="staff-3")
    # a reason is required
    empty = await graphql(client, MUTATION_OVERRIDE, variables, headers=staff)
    assert empty["data"]["overrideRiskGrade"]["code"] == "BAD_USER_INPUT"
    # a mediator may not override at all
    mediator = await graphql(client, MUTATION_OVERRIDE, {**variables, "reason": "已化解"},
                             headers=_as(Role.MEDIATOR))  # fmt: skip
    assert codes(mediator) == ["FORBIDDEN"]
    # a record outside the jurisdiction is not found
    outside = await graphql(client, MUTATION_OVERRIDE,
                            {**variables, "id": world.records["J9"], "reason": "已化解"},
                            headers=staff)  # fmt: skip
    assert outside["data"]["overrideRiskGrade"]["code"] == "NOT_FOUND"
    # staff set it with a reason: shown at once, the computed grade beside it
    reason = "双方已和解，回访无异常"
    done = await graphql(client, MUTATION_OVERRIDE, {**variables, "reason": reason}, headers=staff)
    result = done["data"]["overrideRiskGrade"]
    assert result["__typename"] == "RiskOverridden", done
    assert result["assessment"] == {
        "level": "BLUE", "computedLevel": "RED", "overriddenBy": "staff-3",
    }  # fmt: skip
    read = await graphql(client, QUERY_RECORD_RISK, {"id": world.records["J3"]}, headers=staff)
    assert read["data"]["node"]["riskLevel"] == "BLUE"
    assert read["data"]["node"]["riskAssessment"]["overrideReason"] == "双方已和解，回访无异常"
    async with session_factory(committing_engine)() as session:
        rows = (await session.scalars(
            select(AuditEntry).where(AuditEntry.operation == "overrideRiskGrade")
        )).all()  # fmt: skip
    assert [(r.principal, r.variables) for r in rows] == [
        ("staff-3", {"target": "RECORD", "id": rows[0].record_ids[0], "level": "BLUE"})  # type: ignore[index]
    ]


def _alert(target: TargetKind, target_id: int, kind: RecordKind, region: str,
           record_region: str | None = None) -> RiskAlert:  # fmt: skip
    """A person's alert has a record of ``kind`` in ``record_region`` (else ``region``)."""
    reach = frozenset({(kind, record_region or region)}) if target is TargetKind.PERSON else None
    return RiskAlert(target, target_id, RiskLevel.RED, RiskLevel.YELLOW, region,
                     frozenset({kind}), datetime.now(UTC), reach or frozenset())  # fmt: skip


async def test_risk_alerts_reach_subscribers_within_their_kinds_and_jurisdiction(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with running_hub(committing_engine, pii_key) as (url, state):
        assert state.bus is not None
        announce = risk_alert_announcer(state.bus)
        police = f"Bearer {token(Role.PARTNER_POLICE, [INSIDE])}"
        ws = await _connect(url, {"Authorization": police})
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            message = {"query": SUBSCRIPTION_ALERTS, "operationName": "Alerts"}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": message}))
            await _until(lambda: len(getattr(state.bus, "_queues", {}).get("risk", ())) == 1)
            await announce([
                _alert(TargetKind.RECORD, 1, RecordKind.PETITION, INSIDE),  # a kind police skip
                _alert(TargetKind.RECORD, 2, RecordKind.POLICE_ALERT, OUTSIDE),  # outside
                _alert(TargetKind.RECORD, 3, RecordKind.POLICE_ALERT, INSIDE),
                # a person living inside whose police alert lies outside: police inside
                # cannot read them, so do not hear of them
                _alert(TargetKind.PERSON, 5, RecordKind.POLICE_ALERT, INSIDE, OUTSIDE),
                _alert(TargetKind.PERSON, 4, RecordKind.POLICE_ALERT, INSIDE),
            ])  # fmt: skip
            received = [json.loads(await ws.recv())["payload"]["data"]["riskAlerts"]
                        for _ in range(2)]  # fmt: skip
        finally:
            await ws.close()
    assert received == [
        {"targetId": to_base64("PoliceAlert", 3), "kinds": ["POLICE_ALERT"], "regionCode": INSIDE,
         "level": "RED", "previous": "YELLOW"},
        {"targetId": to_base64("Person", 4), "kinds": ["POLICE_ALERT"], "regionCode": INSIDE,
         "level": "RED", "previous": "YELLOW"},
    ]  # fmt: skip




QUERY_EVIDENCE = """
query($id: ID!) { node(id: $id) { ... on Record { riskAssessment { rules { id evidence } } } } }
"""


async def test_evidence_names_no_record_outside_the_readers_scope(
    client: httpx.AsyncClient, world: RiskWorld, committing_engine: AsyncEngine
) -> None:
    # given three calls from one caller within a week, the middle one outside the jurisdiction
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        records = [alert("M1", 500), replace(alert("M2", 502), region_code=OUTSIDE),
                   alert("M3", 504)]  # fmt: skip
        counts = await ingest_records(session, records)
        await resolve_all(session)
        await grade_touched(session, counts.changed_ids)
        m3 = await session.scalar(select(Record.id).where(Record.source_key == "M3"))
    variables = {"id": to_base64("PoliceAlert", m3)}
    everywhere = {"Authorization": f"Bearer {token(Role.CENTER_STAFF, [INSIDE, OUTSIDE])}"}
    full = await graphql(client, QUERY_EVIDENCE, variables, headers=everywhere)
    inside = await graphql(client, QUERY_EVIDENCE, variables, headers=_as(Role.CENTER_STAFF))
    assert "errors" not in full and "errors" not in inside, (full, inside)
    full_rules = full["data"]["node"]["riskAssessment"]["rules"]
    inside_rules = inside["data"]["node"]["riskAssessment"]["rules"]
    # then a reader of both regions sees every cited record, a reader of one sees the other
    # named as outside, with the text the rule quoted dropped
    cited = [rule for rule in full_rules if "POLICE_110/M2" in rule["evidence"].get("records", [])]
    assert cited, full_rules
    text = json.dumps(inside_rules, ensure_ascii=False)
    assert "M2" not in text
    assert "辖区外记录" in text
    for rule in inside_rules:
        if "辖区外记录" in rule["evidence"].get("records", []):
            assert "place" not in rule["evidence"] and "words" not in rule["evidence"]
    assert [rule["id"] for rule in inside_rules] == [rule["id"] for rule in full_rules]
