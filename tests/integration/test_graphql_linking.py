"""Linking through GraphQL on both databases: scoped reads, staff decisions, refusals.

The world: 张伟 calls 110 in 湖滨区 (J1, 411202); the mediation case taken over from it (TJ1,
a village of 411202) names 張偉 (the same person) and 李娜; a week later 张伟 calls again from
双流区 (J2, 510129, outside the test principals' jurisdiction), and J2 is linked to TJ1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay.utils import to_base64

from db.engine import session_factory
from db.ingest import ingest_records
from db.models import AuditEntry, Link, PartyMention, Record
from db.models import RiskAssessment as RiskAssessmentRow
from db.resolution import resolve_all
from domain.roles import Role
from tests.integration.auth_support import token
from tests.integration.graphql_world import codes, graphql, graphql_client
from tests.integration.security_world import INSIDE, OUTSIDE
from tests.integration.test_linking_storage import alert, mediation

QUERY_LINKED = """
query Linked($id: ID!) {
  linkedRecords(id: $id) {
    id direction linkKind confidence evidence decision record { id kind }
  }
}
"""
QUERY_TIMELINE = """
query Timeline($id: ID!) {
  personTimeline(id: $id) { kind roles mentionIds record { id } }
}
"""
QUERY_PERSON_RECORDS = """
query PersonRecords($id: ID!) { person(id: $id) { name records { record { id } } } }
"""
MUTATION_CONFIRM = """
mutation Confirm($id: ID!) {
  confirmLink(id: $id) {
    __typename
    ... on LinkDecided { id decision decidedBy decidedAt fromRecord { id } toRecord { id } }
    ... on LinkDecisionError { code message }
  }
}
"""
MUTATION_REJECT = """
mutation Reject($id: ID!) {
  rejectLink(id: $id) {
    __typename
    ... on LinkDecided { decision }
    ... on LinkDecisionError { code message }
  }
}
"""
MUTATION_MERGE = """
mutation Merge($keep: ID!, $merge: [ID!]!) {
  mergePersons(keepId: $keep, mergeIds: $merge) {
    __typename
    ... on PersonsMerged { person { id name } }
    ... on LinkDecisionError { code message }
  }
}
"""
MUTATION_SPLIT = """
mutation Split($person: ID!, $mentions: [ID!]!) {
  splitPerson(personId: $person, mentionIds: $mentions) {
    __typename
    ... on PersonSplit { person { id } splitOff { id name } }
    ... on LinkDecisionError { code message }
  }
}
"""


@dataclass
class LinkingWorld:
    records: dict[str, str]
    """Source key → the record's global id."""
    persons: dict[str, str]
    """Mention name → the person's global id."""
    across: str
    """Global id of the link from J2 (outside) to TJ1."""


@pytest.fixture
async def world(committing_engine: AsyncEngine) -> LinkingWorld:
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        await ingest_records(session, [alert("J1", "张伟", "13800000001")])
        await ingest_records(session, [mediation("TJ1", "J1")])
        later = replace(alert("J2", "张伟", "13800000001", days=7), region_code=OUTSIDE)
        await ingest_records(session, [later])
        await resolve_all(session)
        ids = {key: rid for key, rid in await session.execute(select(Record.source_key, Record.id))}
        link = Link(
            from_record_id=ids["J2"], to_record_id=ids["TJ1"], link_kind="SAME_PARTIES",
            confidence=0.8, evidence=[{"rule": "shared_persons", "count": 1}],
        )  # fmt: skip
        session.add(link)
        await session.flush()
        mentions = await session.execute(select(PartyMention.name, PartyMention.person_id))
        persons = {name: to_base64("Person", pid) for name, pid in mentions if pid is not None}
        across = to_base64("Link", link.id)
    records = {
        "J1": to_base64("PoliceAlert", ids["J1"]),
        "J2": to_base64("PoliceAlert", ids["J2"]),
        "TJ1": to_base64("Dispute", ids["TJ1"]),
    }
    return LinkingWorld(records=records, persons=persons, across=across)


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes, world: LinkingWorld
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        yield client


def _as(role: Role, regions: list[str] | None = None, sub: str = "dev") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token(role, [INSIDE] if regions is None else regions, sub=sub)}"
    }


async def _ask(
    client: httpx.AsyncClient, role: Role, query: str, variables: dict[str, Any], **who: Any
) -> dict[str, Any]:
    return await graphql(client, query, variables, headers=_as(role, **who))


async def _linked(client: httpx.AsyncClient, role: Role, record: str, **who: Any) -> list[Any]:
    body = await _ask(client, role, QUERY_LINKED, {"id": record}, **who)
    assert "errors" not in body, body
    links: list[Any] = body["data"]["linkedRecords"]
    return links


async def _timeline(client: httpx.AsyncClient, role: Role, person: str, **who: Any) -> list[Any]:
    body = await _ask(client, role, QUERY_TIMELINE, {"id": person}, **who)
    assert "errors" not in body, body
    entries: list[Any] = body["data"]["personTimeline"]
    return entries


async def _audit(engine: AsyncEngine) -> list[AuditEntry]:
    async with session_factory(engine)() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def test_a_partner_sees_only_linked_records_within_its_kinds_and_jurisdiction(
    client: httpx.AsyncClient, world: LinkingWorld
) -> None:
    r = world.records
    # the centre sees both links of the mediation case, each with a usable link id
    everywhere = await _linked(client, Role.CENTER_STAFF, r["TJ1"], regions=[INSIDE, OUTSIDE])
    assert {link["record"]["id"] for link in everywhere} == {r["J1"], r["J2"]}
    referred = next(link for link in everywhere if link["record"]["id"] == r["J1"])
    assert referred["linkKind"] == "REFERRED_FROM" and referred["direction"] == "OUTGOING"
    assert referred["confidence"] >= 0.99 and referred["evidence"]
    assert referred["decision"] is None and referred["id"] != world.across
    # the police within 湖滨区 see the alert there, not the one in 双流区
    police = await _linked(client, Role.PARTNER_POLICE, r["TJ1"])
    assert [link["record"] for link in police] == [{"id": r["J1"], "kind": "POLICE_ALERT"}]
    # the court reads no alerts: the case has no linked records for it
    assert await _linked(client, Role.PARTNER_COURT, r["TJ1"]) == []
    # an anchor outside the jurisdiction, or of a kind not read, is not found
    outside = await _ask(client, Role.PARTNER_POLICE, QUERY_LINKED, {"id": r["J2"]})
    unread = await _ask(client, Role.PARTNER_COURT, QUERY_LINKED, {"id": r["J1"]})
    for body in (outside, unread):
        assert body["data"] == {"linkedRecords": None} and codes(body) == ["NOT_FOUND"]
    # the auditor reads no records at all
    audited = await _ask(client, Role.AUDITOR, QUERY_LINKED, {"id": r["TJ1"]})
    assert codes(audited) == ["FORBIDDEN"] and audited["data"] is None


async def test_a_partner_sees_only_timeline_entries_within_reach(
    client: httpx.AsyncClient, world: LinkingWorld, committing_engine: AsyncEngine
) -> None:
    r, zhang = world.records, world.persons["张伟"]
    # the centre over both provinces sees 张伟 across three records, in order of occurrence
    full = await _timeline(client, Role.CENTER_STAFF, zhang, regions=[INSIDE, OUTSIDE])
    assert [e["record"]["id"] for e in full] == [r["J1"], r["TJ1"], r["J2"]]
    assert full[0]["roles"] == ["CALLER"] and full[1]["roles"] == ["APPLICANT"]
    # the police in 湖滨区 lose the 双流区 alert; the court keeps only the mediation case
    police = await _timeline(client, Role.PARTNER_POLICE, zhang)
    court = await _timeline(client, Role.PARTNER_COURT, zhang)
    assert [e["record"]["id"] for e in police] == [r["J1"], r["TJ1"]]
    assert [e["record"]["id"] for e in court] == [r["TJ1"]]
    # Person.records is the same timeline
    body = await _ask(client, Role.PARTNER_POLICE, QUERY_PERSON_RECORDS, {"id": zhang})
    assert [e["record"]["id"] for e in body["data"]["person"]["records"]] == [r["J1"], r["TJ1"]]
    # a person no record within reach names is not found; nor is one that does not exist
    stranger = await _ask(client, Role.PARTNER_POLICE, QUERY_TIMELINE, {"id": zhang},
                          regions=["411203"])  # fmt: skip
    unknown = await _ask(client, Role.ADMIN, QUERY_TIMELINE, {"id": to_base64("Person", 9999)})
    for body in (stranger, unknown):
        assert body["data"] == {"personTimeline": None} and codes(body) == ["NOT_FOUND"]
    # a role without parties may not read timelines
    viewer = await _ask(client, Role.DASHBOARD_VIEWER, QUERY_TIMELINE, {"id": zhang})
    assert codes(viewer) == ["FORBIDDEN"]
    # the timeline names who took part in which records: those records are audited as read
    rows = [row for row in await _audit(committing_engine) if row.operation == "Timeline"]
    assert len(rows[0].record_ids or []) == 3 and len(rows[1].record_ids or []) == 2


async def test_staff_confirm_and_reject_links_and_are_audited(
    client: httpx.AsyncClient, world: LinkingWorld, committing_engine: AsyncEngine
) -> None:
    r = world.records
    [referred] = await _linked(client, Role.CENTER_STAFF, r["TJ1"])
    # when staff confirm the link they see
    body = await _ask(client, Role.CENTER_STAFF, MUTATION_CONFIRM, {"id": referred["id"]},
                      sub="staff-7")  # fmt: skip
    decided = body["data"]["confirmLink"]
    assert decided["__typename"] == "LinkDecided" and decided["decision"] == "CONFIRMED"
    assert decided["decidedBy"] == "staff-7" and decided["decidedAt"]
    assert {decided["fromRecord"]["id"], decided["toRecord"]["id"]} == {r["J1"], r["TJ1"]}
    # then every later read shows the decision
    [after] = await _linked(client, Role.PARTNER_POLICE, r["J1"])
    assert after["decision"] == "CONFIRMED" and after["record"]["id"] == r["TJ1"]
    # and a link to a record outside their jurisdiction is, to them, not there
    body = await _ask(client, Role.CENTER_STAFF, MUTATION_REJECT, {"id": world.across})
    assert body["data"]["rejectLink"]["code"] == "NOT_FOUND"
    # when staff over both provinces reject it, it leaves linkedRecords for everyone
    body = await _ask(client, Role.CENTER_STAFF, MUTATION_REJECT, {"id": world.across},
                      regions=[INSIDE, OUTSIDE], sub="staff-8")  # fmt: skip
    assert body["data"]["rejectLink"] == {"__typename": "LinkDecided", "decision": "REJECTED"}
    remaining = await _linked(client, Role.ADMIN, r["TJ1"], regions=[INSIDE, OUTSIDE])
    assert [link["record"]["id"] for link in remaining] == [r["J1"]]
    # and each decision is on the record with its decider
    decisions = [(row.operation, row.principal) for row in await _audit(committing_engine)
                 if row.operation in {"confirmLink", "rejectLink"}]  # fmt: skip
    assert decisions == [("confirmLink", "staff-7"), ("rejectLink", "staff-8")]


async def test_staff_merge_and_split_persons(
    client: httpx.AsyncClient, world: LinkingWorld, committing_engine: AsyncEngine
) -> None:
    r, zhang, li = world.records, world.persons["张伟"], world.persons["李娜"]
    staff: dict[str, Any] = {"regions": [INSIDE, OUTSIDE], "sub": "staff-9"}
    # when staff merge 李娜 into 张伟
    body = await _ask(client, Role.CENTER_STAFF, MUTATION_MERGE,
                      {"keep": zhang, "merge": [li]}, **staff)  # fmt: skip
    assert body["data"]["mergePersons"] == {
        "__typename": "PersonsMerged", "person": {"id": zhang, "name": "张伟"},
    }  # fmt: skip
    # then 李娜's id answers with 张伟's timeline, her part in the case included
    merged = await _timeline(client, Role.CENTER_STAFF, li, **staff)
    assert [e["record"]["id"] for e in merged] == [r["J1"], r["TJ1"], r["J2"]]
    assert merged[1]["roles"] == ["APPLICANT", "RESPONDENT"]
    # when staff split the 双流区 alert's mention off again
    moving = merged[2]["mentionIds"]
    body = await _ask(client, Role.CENTER_STAFF, MUTATION_SPLIT,
                      {"person": zhang, "mentions": moving}, **staff)  # fmt: skip
    split = body["data"]["splitPerson"]
    assert split["__typename"] == "PersonSplit" and split["person"] == {"id": zhang}
    # then each person has their own records
    kept = await _timeline(client, Role.CENTER_STAFF, zhang, **staff)
    new = await _timeline(client, Role.CENTER_STAFF, split["splitOff"]["id"], **staff)
    assert [e["record"]["id"] for e in kept] == [r["J1"], r["TJ1"]]
    assert [e["record"]["id"] for e in new] == [r["J2"]]
    # and both decisions are on the record with their decider
    decisions = [(row.operation, row.principal) for row in await _audit(committing_engine)
                 if row.operation in {"mergePersons", "splitPerson"}]  # fmt: skip
    assert decisions == [("mergePersons", "staff-9"), ("splitPerson", "staff-9")]


QUERY_PERSON_RISK = """
query PersonRisk($id: ID!) { person(id: $id) { riskAssessment { level assessedAt } } }
"""


async def _graded(client: httpx.AsyncClient, person: str, **who: Any) -> bool:
    body = await _ask(client, Role.CENTER_STAFF, QUERY_PERSON_RISK, {"id": person}, **who)
    assert "errors" not in body, body
    return body["data"]["person"]["riskAssessment"] is not None


async def test_a_merge_or_a_split_grades_the_persons_it_leaves(
    client: httpx.AsyncClient, world: LinkingWorld, committing_engine: AsyncEngine
) -> None:
    zhang, li = world.persons["张伟"], world.persons["李娜"]
    staff: dict[str, Any] = {"regions": [INSIDE, OUTSIDE], "sub": "staff-9"}
    assert not await _graded(client, zhang, **staff)  # the world was never graded
    await _ask(client, Role.CENTER_STAFF, MUTATION_MERGE, {"keep": zhang, "merge": [li]},
               **staff)  # fmt: skip
    # the kept person is graded over every record now theirs, at once
    assert await _graded(client, zhang, **staff)
    async with session_factory(committing_engine)() as session:
        graded = set(await session.scalars(
            select(RiskAssessmentRow.target_id).where(RiskAssessmentRow.target_kind == "RECORD")
        ))
        records = set(await session.scalars(select(Record.id)))
    assert graded == records
    moving = (await _timeline(client, Role.CENTER_STAFF, zhang, **staff))[2]["mentionIds"]
    body = await _ask(client, Role.CENTER_STAFF, MUTATION_SPLIT,
                      {"person": zhang, "mentions": moving}, **staff)  # fmt: skip
    assert await _graded(client, body["data"]["splitPerson"]["splitOff"]["id"], **staff)


async def test_failed_decisions_answer_a_typed_error(
    client: httpx.AsyncClient, world: LinkingWorld
) -> None:
    zhang, li = world.persons["张伟"], world.persons["李娜"]

    async def decide(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = await _ask(client, Role.ADMIN, query, variables, regions=[INSIDE, OUTSIDE])
        assert "errors" not in body, body
        [result] = body["data"].values()
        assert result["__typename"] == "LinkDecisionError" and result["message"]
        return {"code": result["code"]}

    unknown_link = {"id": to_base64("Link", 9999)}
    assert await decide(MUTATION_CONFIRM, unknown_link) == {"code": "NOT_FOUND"}
    assert await decide(MUTATION_CONFIRM, {"id": zhang}) == {"code": "BAD_USER_INPUT"}
    assert await decide(MUTATION_REJECT, {"id": "not a global id"}) == {"code": "BAD_USER_INPUT"}
    merge_unknown = {"keep": zhang, "merge": [to_base64("Person", 9999)]}
    assert await decide(MUTATION_MERGE, merge_unknown) == {"code": "NOT_FOUND"}
    assert await decide(MUTATION_MERGE, {"keep": zhang, "merge": [zhang]}) == {
        "code": "BAD_USER_INPUT"
    }
    # a person merged away cannot be the one kept
    body = await _ask(client, Role.ADMIN, MUTATION_MERGE, {"keep": zhang, "merge": [li]},
                      regions=[INSIDE, OUTSIDE])  # fmt: skip
    assert body["data"]["mergePersons"]["__typename"] == "PersonsMerged"
    assert await decide(MUTATION_MERGE, {"keep": li, "merge": [zhang]}) == {"code": "CONFLICT"}
    split_nothing = {"person": zhang, "mentions": []}
    assert await decide(MUTATION_SPLIT, split_nothing) == {"code": "BAD_USER_INPUT"}
    split_unknown = {"person": zhang, "mentions": [to_base64("PartyMention", 9999)]}
    assert await decide(MUTATION_SPLIT, split_unknown) == {"code": "NOT_FOUND"}


@pytest.mark.parametrize(
    "role",
    [r for r in Role if r not in {Role.ADMIN, Role.CENTER_STAFF}],
)
async def test_other_roles_may_not_decide(
    client: httpx.AsyncClient, world: LinkingWorld, committing_engine: AsyncEngine, role: Role
) -> None:
    merge = {"keep": world.persons["张伟"], "merge": [world.persons["李娜"]]}
    body = await _ask(client, role, MUTATION_MERGE, merge)
    assert set(codes(body)) == {"FORBIDDEN"} and body["data"] is None
    # and nothing was decided
    rows = await _audit(committing_engine)
    assert [(row.operation, row.outcome) for row in rows] == [("Merge", "DENIED")]
