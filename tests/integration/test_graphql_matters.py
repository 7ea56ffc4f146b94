"""Matters over GraphQL on both databases: intake, the loop step by step, the error codes,
two staff at once, who sees what (jurisdiction, own organisation, none), filters, node."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.audit import verify_chain
from db.engine import session_factory
from db.matter_intake import take_in
from db.matter_workflow import MatterWorkflow
from db.models import AuditEntry, ClockRow, Link, Matter, Record
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.roles import POLICIES, Role
from domain.titles import redacted_title
from domain.workflow.intake import IntakeRules
from tests.integration.auth_support import token
from tests.integration.graphql_world import (
    KIND_MODELS,
    _insert,
    _kind_row,
    codes,
    graphql,
    graphql_client,
)
from tests.integration.test_graphql_loaders import counting_statements

INSIDE, OUTSIDE = "411202", "510129"
MEDIATION_ORG = "org:tjw-huibin-001"
ID_NUMBER = "11010519491231002X"

MUTATION_OPEN = """
mutation($input: OpenMatterInput!) {
  openMatter(input: $input) {
    __typename
    ... on MatterChanged { matter { id number step version parties { name idNumber phone } } }
    ... on MatterError { code message }
  }
}
"""
MATTER_FIELDS = "id number step status version assignedOrg track result outcome satisfaction"
RESULT = f"""
    __typename
    ... on MatterChanged {{ matter {{ {MATTER_FIELDS} }} }}
    ... on MatterError {{ code message }}
"""
MUTATION_ADMIT = f"""
mutation($id: ID!, $v: Int) {{ admitMatter(id: $id, expectedVersion: $v) {{ {RESULT} }} }}
"""
MUTATION_ASSESS = f"""
mutation($id: ID!) {{ assessMatter(id: $id, input: {{category: NEIGHBOUR, risk: YELLOW,
  tier: ORDINARY, leadOrg: "司法所"}}) {{ {RESULT} }} }}
"""
MUTATION_DISPATCH = f"""
mutation($id: ID!, $org: String!) {{ dispatchMatter(id: $id, input: {{org: $org,
  track: PEOPLES_MEDIATION}}) {{ {RESULT} }} }}
"""
MUTATION_ACCEPT = f"mutation($id: ID!) {{ acceptMatter(id: $id) {{ {RESULT} }} }}"
MUTATION_VERIFY = f"mutation($id: ID!) {{ verifyMatter(id: $id) {{ {RESULT} }} }}"
MUTATION_RESULT = f"""
mutation($id: ID!) {{ reportMatterResult(id: $id, input: {{result: RESOLVED, note: "已调解"}})
  {{ {RESULT} }} }}
"""
MUTATION_CLOSE = f"""
mutation($id: ID!) {{ closeMatter(id: $id, input: {{outcome: RESOLVED}}) {{ {RESULT} }} }}
"""
MUTATION_REVISIT = f"""
mutation($id: ID!) {{ revisitMatter(id: $id, input: {{satisfaction: SATISFIED}}) {{ {RESULT} }} }}
"""
MUTATION_SUPERVISE = """
mutation($id: ID!, $org: String!) { superviseMatter(id: $id, input: {level: SUPERVISE,
  targetOrg: $org, reason: "久拖"}) {
  __typename ... on SupervisionChanged { order { id level status version } }
  ... on MatterError { code } } }
"""
MUTATION_REPLY = """
mutation($id: ID!) { replySupervision(id: $id, reply: "已约谈") {
  __typename ... on SupervisionChanged { order { status reply } } ... on MatterError { code } } }
"""
QUERY_MATTER = """
query($id: ID!) { matter(id: $id) {
  number step title summary
  timeline { action actorKind actorOrg fromStep toStep details { key value } }
  clocks { ruleId ruleName state dueAt remainingSeconds provisional unit budget }
  supervisions { level targetOrg status }
  revisits { actor details { key value } }
} }
"""
QUERY_LIST = """
query($filter: MatterFilter) { matters(filter: $filter, first: 50) {
  totalCount nodes { number } pageInfo { hasNextPage } } }
"""
QUERY_DUE = "query($filter: MatterFilter) { matters(filter: $filter) { nodes { dueAt overdue } } }"
QUERY_NODE = "query($id: ID!) { node(id: $id) { id ... on Matter { number } } }"


def headers(role: Role, regions: list[str] | None = None, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, regions or [INSIDE], **claims)}"}


STAFF = headers(Role.CENTER_STAFF, sub="staff-1", org="centre-411202")
STAFF_2 = headers(Role.CENTER_STAFF, sub="staff-2", org="centre-411202")
ELSEWHERE = headers(Role.CENTER_STAFF, [OUTSIDE], sub="staff-9")
MEDIATOR = headers(Role.MEDIATOR, [OUTSIDE], sub="mediator-1", org=MEDIATION_ORG)
OTHER_PARTNER = headers(Role.PARTNER_COURT, sub="court-1", org="org:court")
VIEWER = headers(Role.DASHBOARD_VIEWER)


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key, role=None, scan_deadlines=False) as c:
        yield c


async def _open(client: httpx.AsyncClient, title: str = "邻里漏水纠纷", **extra: Any) -> str:
    body = await graphql(client, MUTATION_OPEN, {"input": {
        "origin": "WALK_IN", "title": title, "regionCode": "411202001", "category": "NEIGHBOUR",
        "summary": "楼上漏水", "parties": [
            {"role": "APPLICANT", "name": "张三", "idNumber": ID_NUMBER, "phone": "13800138000"}
        ], **extra,
    }}, headers=STAFF)  # fmt: skip
    result = body["data"]["openMatter"]
    assert result["__typename"] == "MatterChanged", body
    return str(result["matter"]["id"])


async def _do(
    client: httpx.AsyncClient, document: str, who: dict[str, str], **variables: Any
) -> dict[str, Any]:
    body = await graphql(client, document, variables, headers=who)
    assert body.get("errors") is None, body
    (result,) = body["data"].values()
    return dict(result)


async def test_intake_seals_and_masks_parties_and_numbers_the_matter(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    body = await graphql(client, MUTATION_OPEN, {"input": {
        "origin": "PHONE", "title": "来电", "regionCode": "411202001",
        "parties": [{"role": "CALLER", "name": "李四", "idNumber": ID_NUMBER,
                     "phone": "13800138000"}],
    }}, headers=STAFF)  # fmt: skip
    matter = body["data"]["openMatter"]["matter"]
    assert matter["number"].startswith("411202-") and matter["step"] == "REGISTERED"
    assert matter["parties"] == [
        {"name": "李四", "idNumber": "1101**********002X", "phone": "138****8000"}
    ]
    bad = await graphql(client, MUTATION_OPEN, {"input": {
        "origin": "WALK_IN", "title": "x", "regionCode": "411202001",
        "parties": [{"role": "APPLICANT", "name": "王五", "idNumber": "110105194912310021"}],
    }}, headers=STAFF)  # fmt: skip
    error = bad["data"]["openMatter"]
    assert error["code"] == "BAD_USER_INPUT" and "parties[0].idNumber" in error["message"]
    assert "110105194912310021" not in error["message"]
    outside = await graphql(client, MUTATION_OPEN, {"input": {
        "origin": "WALK_IN", "title": "x", "regionCode": "510129001",
    }}, headers=STAFF)  # fmt: skip
    assert outside["data"]["openMatter"]["code"] == "FORBIDDEN"
    # every intake is audited, its identifiers masked in the row as everywhere
    async with session_factory(committing_engine)() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    intakes = [r for r in rows if r.principal == "staff-1"]
    assert len(intakes) == 3 and all(r.role == "center_staff" for r in intakes)
    assert ID_NUMBER not in json.dumps([r.variables for r in intakes], ensure_ascii=False)


async def test_an_identifier_typed_into_free_text_is_stored_masked(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    typed = f"身份证{ID_NUMBER} 电话13800138000"
    gid = await _open(client, f"漏水 {typed}", summary=f"来访人称 {typed}")
    body = await graphql(client, "query($id: ID!) { matter(id: $id) { title summary } }",
                         {"id": gid}, headers=STAFF)
    matter = body["data"]["matter"]
    assert matter["title"] == "漏水 身份证1101**********002X 电话138****8000"
    assert matter["summary"] == "来访人称 身份证1101**********002X 电话138****8000"
    # a reason typed for a merge, kept on the timeline, is masked too
    other = await _open(client, "漏水（重复登记）")
    merge = """mutation($keep: ID!, $merge: [ID!]!, $reason: String!) {
      mergeMatters(keepId: $keep, mergeIds: $merge, reason: $reason) {
        ... on MatterChanged { matter { timeline { action note } } } } }"""
    merged = await _do(client, merge, STAFF, keep=gid, merge=[other], reason=f"重复登记 {typed}")
    notes = [e["note"] for e in merged["matter"]["timeline"] if e["action"] == "MERGED_FROM"]
    assert notes == ["重复登记 身份证1101**********002X 电话138****8000"]
    async with session_factory(committing_engine)() as session:
        stored = json.dumps([(m.title, m.summary) for m in await session.scalars(select(Matter))],
                            ensure_ascii=False)
    assert ID_NUMBER not in stored and "13800138000" not in stored


async def test_a_phone_typed_with_country_code_and_dashes_is_stored_masked(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # as people type it, and as the phone validator accepts it
    typed = "电话+86 138-0013-8000"
    await _open(client, f"漏水 {typed}", summary=f"来访人称 {typed}")
    async with session_factory(committing_engine)() as session:
        stored = [(m.title, m.summary) for m in await session.scalars(select(Matter))]
    assert stored == [("漏水 电话+86 138****8000", "来访人称 电话+86 138****8000")]


async def test_reading_a_matters_parties_names_the_matter_on_the_audit_row(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    gid = await _open(client)  # the intake answers with the parties: audited as a read too
    read = "query($id: ID!) { matter(id: $id) { number parties { name idNumber phone } } }"
    await _do(client, read, STAFF, id=gid)
    await _do(client, "query($id: ID!) { matter(id: $id) { number step } }", STAFF, id=gid)
    async with session_factory(committing_engine)() as session:
        (matter_id,) = (await session.scalars(select(Matter.id))).all()
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        checked, problem = await verify_chain(session)
    assert [r.matter_ids for r in rows[-3:]] == [[matter_id], [matter_id], None]
    assert [r.record_ids for r in rows[-3:]] == [None, None, None]
    assert problem is None and checked == len(rows)
    log = '{ auditLog(principal: "staff-1", first: 3) { nodes { matterIds } } }'  # newest first
    body = await graphql(client, log, None, headers=headers(Role.AUDITOR))
    nodes = body["data"]["auditLog"]["nodes"]
    assert [n["matterIds"] for n in nodes] == [None, [matter_id], [matter_id]]


async def test_the_loop_through_graphql(client: httpx.AsyncClient) -> None:
    gid = await _open(client)
    assert (await _do(client, MUTATION_ADMIT, STAFF, id=gid, v=1))["matter"]["step"] == "ACCEPTED"
    await _do(client, MUTATION_ASSESS, STAFF, id=gid)
    dispatched = await _do(client, MUTATION_DISPATCH, STAFF, id=gid, org=MEDIATION_ORG)
    assert dispatched["matter"]["assignedOrg"] == MEDIATION_ORG
    # the partner reaches it now, wherever its own jurisdiction lies
    listed = await graphql(client, QUERY_LIST, headers=MEDIATOR)
    assert listed["data"]["matters"]["totalCount"] == 1
    assert (await _do(client, MUTATION_ACCEPT, MEDIATOR, id=gid))["matter"]["step"] == (
        "IN_PROGRESS"
    )
    order = await _do(client, MUTATION_SUPERVISE, STAFF, id=gid, org=MEDIATION_ORG)
    replied = await _do(client, MUTATION_REPLY, MEDIATOR, id=order["order"]["id"])
    assert replied["order"] == {"status": "REPLIED", "reply": "已约谈"}
    await _do(client, MUTATION_RESULT, MEDIATOR, id=gid)
    await _do(client, MUTATION_VERIFY, STAFF, id=gid)
    await _do(client, MUTATION_CLOSE, STAFF, id=gid)
    final = await _do(client, MUTATION_REVISIT, STAFF, id=gid)
    # nine steps and the 督办, which moves the version like a step
    assert final["matter"] | {"id": None, "number": None} == {
        "id": None, "number": None, "step": "REVISITED", "status": "REVISITED", "version": 10,
        "assignedOrg": MEDIATION_ORG, "track": "PEOPLES_MEDIATION", "result": "RESOLVED",
        "outcome": "RESOLVED", "satisfaction": "SATISFIED",
    }  # fmt: skip
    body = await graphql(client, QUERY_MATTER, {"id": gid}, headers=STAFF)
    matter = body["data"]["matter"]
    assert [e["action"] for e in matter["timeline"]] == [
        "OPEN",
        "ADMIT",
        "ASSESS",
        "DISPATCH",
        "ACCEPT",
        "ISSUE_SUPERVISION",
        "REPLY_SUPERVISION",
        "REPORT_RESULT",
        "VERIFY",
        "CLOSE",
        "CLOSE_SUPERVISION",  # the replied 督办 ends with its matter
        "REVISIT",
    ]
    assert matter["timeline"][4]["actorOrg"] == MEDIATION_ORG
    clocks = {c["ruleId"]: c for c in matter["clocks"]}
    assert {"matter.tier.ordinary", "dispatch.accept", "mediation.people",
            "supervision.reply", "matter.revisit"} <= set(clocks)  # fmt: skip
    assert all(c["state"] == "STOPPED" for c in clocks.values())
    assert clocks["matter.tier.ordinary"]["unit"] == "calendar_day"
    assert matter["revisits"] == [
        {"actor": "staff-1", "details": [{"key": "satisfaction", "value": "SATISFIED"}]}
    ]
    assert matter["supervisions"] == [
        {"level": "SUPERVISE", "targetOrg": MEDIATION_ORG, "status": "CLOSED"}
    ]


async def test_each_refusal_carries_its_code(client: httpx.AsyncClient) -> None:
    gid = await _open(client)
    illegal = await _do(client, MUTATION_VERIFY, STAFF, id=gid)
    assert illegal["code"] == "ILLEGAL_TRANSITION"
    forbidden = await _do(client, MUTATION_ACCEPT, STAFF, id=gid)  # 签收 is the department's
    assert forbidden["code"] == "FORBIDDEN"
    not_found = await _do(client, MUTATION_ADMIT, ELSEWHERE, id=gid)
    assert not_found["code"] == "NOT_FOUND"
    partner = await _do(client, MUTATION_ACCEPT, OTHER_PARTNER, id=gid)
    assert partner["code"] == "NOT_FOUND"  # not dispatched to it: it does not exist for it
    bad_id = await _do(client, MUTATION_ADMIT, STAFF, id="not-an-id")
    assert bad_id["code"] == "BAD_USER_INPUT"
    stale = await _do(client, MUTATION_ADMIT, STAFF, id=gid, v=7)
    assert stale["code"] == "CONFLICT"
    # a mutation outside the role's list is refused before it runs
    refused = await graphql(client, MUTATION_VERIFY, {"id": gid}, headers=MEDIATOR)
    assert codes(refused) == ["FORBIDDEN"] and refused["data"] is None


async def test_two_staff_at_once_exactly_one_wins(client: httpx.AsyncClient) -> None:
    gid = await _open(client)
    first, second = await asyncio.gather(
        _do(client, MUTATION_ADMIT, STAFF, id=gid, v=1),
        _do(client, MUTATION_ADMIT, STAFF_2, id=gid, v=1),
    )
    assert sorted([first["__typename"], second["__typename"]]) == ["MatterChanged", "MatterError"]
    loser = first if first["__typename"] == "MatterError" else second
    assert loser["code"] == "CONFLICT"


async def test_who_sees_which_matters(client: httpx.AsyncClient) -> None:
    gid = await _open(client, "甲")
    await _open(client, "乙")
    staff = await graphql(client, QUERY_LIST, headers=STAFF)
    assert staff["data"]["matters"]["totalCount"] == 2
    elsewhere = await graphql(client, QUERY_LIST, headers=ELSEWHERE)
    assert elsewhere["data"]["matters"]["totalCount"] == 0
    partner = await graphql(client, QUERY_LIST, headers=MEDIATOR)
    assert partner["data"]["matters"]["totalCount"] == 0  # nothing dispatched to it yet
    viewer = await graphql(client, QUERY_LIST, headers=VIEWER)
    assert codes(viewer) == ["FORBIDDEN"] and viewer["data"] is None
    node = await graphql(client, QUERY_NODE, {"id": gid}, headers=STAFF)
    assert node["data"]["node"]["id"] == gid
    hidden = await graphql(client, QUERY_NODE, {"id": gid}, headers=ELSEWHERE)
    assert hidden["data"]["node"] is None and codes(hidden) == ["NOT_FOUND"]


QUERY_TITLE_ONLY = "query($id: ID!) { matter(id: $id) { title } }"


async def test_a_matters_title_is_shown_as_a_records_would_be(client: httpx.AsyncClient) -> None:
    # given a matter whose title names its parties, dispatched to a judicial office
    gid = await _open(client, "张三与李四邻里纠纷")
    await _do(client, MUTATION_ADMIT, STAFF, id=gid)
    await _do(client, MUTATION_ASSESS, STAFF, id=gid)
    await _do(client, MUTATION_DISPATCH, STAFF, id=gid, org=MEDIATION_ORG)
    judicial = headers(Role.PARTNER_JUDICIAL, sub="judicial-1", org=MEDIATION_ORG)
    mediator = headers(Role.MEDIATOR, sub="mediator-3", org=MEDIATION_ORG)
    # then a role reading parties and free text gets it as written
    for who in (STAFF, mediator):
        body = await graphql(client, QUERY_TITLE_ONLY, {"id": gid}, headers=who)
        assert body["data"]["matter"] == {"title": "张三与李四邻里纠纷"}, body
    # and a role that may not read free text (its summary, a record's title) gets the
    # category and place only, and its keyword search looks at numbers only
    body = await graphql(client, QUERY_TITLE_ONLY, {"id": gid}, headers=judicial)
    assert body["data"]["matter"]["title"].startswith("邻里纠纷"), body
    assert "张三" not in body["data"]["matter"]["title"]
    searched = await graphql(client, QUERY_LIST, {"filter": {"text": "张三"}}, headers=judicial)
    assert searched["data"]["matters"]["totalCount"] == 0, searched
    listed = await graphql(client, QUERY_LIST, {"filter": {"text": "张三"}}, headers=mediator)
    assert listed["data"]["matters"]["totalCount"] == 1
QUERY_TITLE = "query($id: ID!) { matter(id: $id) { title region { name } } }"


async def test_a_role_without_free_text_reads_not_the_matters_own_title(
    client: httpx.AsyncClient,
) -> None:
    """A matter's title is its source record's (a 110 alert's is its address) or what staff
    typed, and names parties or places: a role that may not read parties and free text (the
    司法所, partner_judicial) gets category and region instead, as from a record's title."""
    # given a matter dispatched to a judicial office
    gid = await _open(client, "张三与李四邻里漏水纠纷")
    for step in (MUTATION_ADMIT, MUTATION_ASSESS):
        await _do(client, step, STAFF, id=gid)
    await _do(client, MUTATION_DISPATCH, STAFF, id=gid, org="org:sfs-huibin-001")
    judicial = headers(Role.PARTNER_JUDICIAL, sub="judicial-1", org="org:sfs-huibin-001")
    # when staff and the judicial office read its title
    staff = (await graphql(client, QUERY_TITLE, {"id": gid}, headers=STAFF))["data"]["matter"]
    office = (await graphql(client, QUERY_TITLE, {"id": gid}, headers=judicial))["data"]["matter"]
    # then staff read what was typed, the office category and region
    assert staff["title"] == "张三与李四邻里漏水纠纷"
    region = office["region"]["name"] if office["region"] else None
    assert office["title"] == redacted_title(DisputeCategory.NEIGHBOUR, region)


async def test_a_role_without_free_text_finds_matters_by_number_not_by_title(
    client: httpx.AsyncClient,
) -> None:
    """The keyword filter would tell by a count what the title it is not shown holds (a
    party's name): for such a role (partner_judicial) it looks at the number only."""
    gid = await _open(client, "张三与李四邻里漏水纠纷")
    for step in (MUTATION_ADMIT, MUTATION_ASSESS):
        await _do(client, step, STAFF, id=gid)
    dispatched = await _do(client, MUTATION_DISPATCH, STAFF, id=gid, org="org:sfs-huibin-001")
    number = dispatched["matter"]["number"]
    judicial = headers(Role.PARTNER_JUDICIAL, sub="judicial-1", org="org:sfs-huibin-001")

    async def found(text: str, who: dict[str, str]) -> int:
        body = await graphql(client, QUERY_LIST, {"filter": {"text": text}}, headers=who)
        return int(body["data"]["matters"]["totalCount"])

    assert await found("张三", STAFF) == 1
    assert await found("张三", judicial) == 0
    assert await found(number, judicial) == 1


async def test_overdue_false_leaves_the_overdue_matters_out(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    """overdue: false is the console's 即将到期 (with dueBefore): matters not past due, not
    every matter as if the condition were absent."""
    late, soon = await _open(client, "逾期"), await _open(client, "临期")
    for gid in (late, soon):
        for step in (MUTATION_ADMIT, MUTATION_ASSESS):  # ASSESS starts the 7-day tier clock
            await _do(client, step, STAFF, id=gid)
    late_id = int(base64.b64decode(late).decode().split(":")[1])
    async with session_factory(committing_engine).begin() as session:
        await session.execute(update(ClockRow).where(ClockRow.matter_id == late_id)
                              .values(due_at=datetime.now(UTC) - timedelta(days=1)))  # fmt: skip

    async def found(**f: Any) -> list[str]:
        body = await graphql(client, QUERY_LIST, {"filter": f}, headers=STAFF)
        return [n["number"] for n in body["data"]["matters"]["nodes"]]

    (late_number,) = await found(overdue=True)
    assert late_number.endswith("1")  # the first opened
    not_late = await found(overdue=False, dueBefore="2999-01-01T00:00:00+08:00")
    assert len(not_late) == 1 and late_number not in not_late
    assert late_number not in await found(overdue=False)


async def test_filters(client: httpx.AsyncClient) -> None:
    gid = await _open(client, "漏水")
    await _open(client, "噪音")
    await _do(client, MUTATION_ADMIT, STAFF_2, id=gid)

    async def numbers(**f: Any) -> int:
        body = await graphql(client, QUERY_LIST, {"filter": f}, headers=STAFF_2)
        return int(body["data"]["matters"]["totalCount"])

    assert await numbers(text="漏水") == 1
    assert await numbers(step=["ACCEPTED"]) == 1
    assert await numbers(status=["REPORTED"]) == 1
    assert await numbers(mine=True) == 1
    assert await numbers(region="411202") == 2
    assert await numbers(overdue=True) == 0
    await _do(client, MUTATION_ASSESS, STAFF, id=gid)  # starts the 7-day tier clock
    assert await numbers(dueBefore="2999-01-01T00:00:00+08:00") == 1
    assert await numbers(dueBefore="2000-01-01T00:00:00+08:00") == 0
    assert await numbers(openedAfter="2000-01-01T00:00:00+08:00") == 2
    body = await graphql(client, QUERY_DUE, {"filter": {"text": "漏水"}}, headers=STAFF)
    (node,) = body["data"]["matters"]["nodes"]
    assert node["dueAt"].endswith("+08:00") and node["overdue"] is False
    body = await graphql(client, QUERY_DUE, {"filter": {"text": "噪音"}}, headers=STAFF)
    assert body["data"]["matters"]["nodes"] == [{"dueAt": None, "overdue": False}]
    # 督办中: a supervision order not yet closed
    assert await numbers(supervised=True) == 0
    first = await _do(client, MUTATION_SUPERVISE, STAFF, id=gid, org="centre-411202")
    assert await numbers(supervised=True) == 1
    assert await numbers(supervised=True, text="噪音") == 0
    # escalated, the matter stays 督办中 through the order's successor; closed, it leaves
    escalate = """mutation($id: ID!) { escalateSupervision(id: $id, reason: "逾期未复") {
      ... on SupervisionChanged { order { id status } } ... on MatterError { code } } }"""
    close = """mutation($id: ID!) { closeSupervision(id: $id, reason: "已办结") {
      ... on SupervisionChanged { order { id status } } ... on MatterError { code } } }"""
    successor = (await _do(client, escalate, STAFF, id=first["order"]["id"]))["order"]
    assert successor["status"] == "OPEN" and successor["id"] != first["order"]["id"]
    assert await numbers(supervised=True) == 1
    await _do(client, close, STAFF, id=successor["id"])
    assert await numbers(supervised=True) == 0


PROVINCE = headers(Role.CENTER_STAFF, ["410000"], sub="staff-p", org="centre-410000")
MUTATION_SUPERVISE_LISTED = """
mutation($id: ID!, $org: String!, $issuing: String) { superviseMatter(id: $id, input: {
  level: LISTED, targetOrg: $org, reason: "挂牌督办", issuingRegion: $issuing}) {
  ... on SupervisionChanged { order { id level issuingRegion status escalatable } }
  ... on MatterError { code message } } }
"""
MUTATION_ESCALATE = """mutation($id: ID!) { escalateSupervision(id: $id, reason: "仍未办理") {
  ... on SupervisionChanged { order { id level issuingRegion status escalatable } }
  ... on MatterError { code message } } }"""
QUERY_ORDERS = "query($id: ID!) { matter(id: $id) { supervisions { id status version } } }"


async def test_a_listed_order_from_the_province_is_not_escalated(
    client: httpx.AsyncClient,
) -> None:
    # given 挂牌督办 issued by the county, and one issued by 河南省 (no region above it)
    gid = await _open(client)
    county = (await _do(client, MUTATION_SUPERVISE_LISTED, STAFF, id=gid, org="org:tjw",
                        issuing=None))["order"]  # fmt: skip
    province = (await _do(client, MUTATION_SUPERVISE_LISTED, PROVINCE, id=gid, org="org:tjw",
                          issuing="410000"))["order"]  # fmt: skip
    assert (county["issuingRegion"], county["escalatable"]) == ("411202001", True)
    assert (province["issuingRegion"], province["escalatable"]) == ("410000", False)
    # when staff escalate each
    raised = (await _do(client, MUTATION_ESCALATE, STAFF, id=county["id"]))["order"]
    refused = await _do(client, MUTATION_ESCALATE, PROVINCE, id=province["id"])
    # then the county's rises one region, the province's is refused and stays as it was
    assert (raised["level"], raised["issuingRegion"], raised["status"]) == (
        "LISTED", "411202", "OPEN")  # fmt: skip
    assert refused["code"] == "ILLEGAL_TRANSITION"
    assert "no level nor region above" in refused["message"]
    orders = (await _do(client, QUERY_ORDERS, STAFF, id=gid))["supervisions"]
    assert {"id": province["id"], "status": "OPEN", "version": 1} in orders
    assert len(orders) == 3  # the county's, its successor and the province's: no copy


MUTATION_ATTACH = f"""
mutation($id: ID!, $records: [ID!]!) {{ attachMatterRecords(id: $id, recordIds: $records)
  {{ {RESULT} }} }}
"""
MUTATION_MERGE = f"""
mutation($keep: ID!, $merge: [ID!]!) {{ mergeMatters(keepId: $keep, mergeIds: $merge,
  reason: "同一纠纷") {{ {RESULT} }} }}
"""
MUTATION_SPLIT = f"""
mutation($id: ID!, $records: [ID!]!) {{ splitMatter(id: $id, recordIds: $records,
  title: "拆出", reason: "另案处理") {{ {RESULT} }} }}
"""
QUERY_RECORDS = "query($id: ID!) { matter(id: $id) { step records { id } } }"


async def test_records_attach_merge_and_split(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    now = datetime(2025, 3, 3, 2, tzinfo=UTC)
    async with committing_engine.begin() as connection:
        await _insert(connection, Record, [{
            "id": i, "kind": RecordKind.DISPUTE, "source": SourceSystem.MEDIATION,
            "source_key": f"K{i}", "category": DisputeCategory.NEIGHBOUR, "title": "t",
            "summary": None, "occurred_at": now, "reported_at": None,
            "region_code": "411202001" if i < 3 else "510129001", "address": None,
            "status": CaseStatus.ACCEPTED, "risk_level": RiskLevel.NONE, "source_status": "x",
            "source_updated_at": now, "updated_at": now, "deleted": False,
        } for i in (1, 2, 3)])  # fmt: skip
        await _insert(
            connection,
            KIND_MODELS[RecordKind.DISPUTE],
            [_kind_row(RecordKind.DISPUTE, i, i, now) for i in (1, 2, 3)],
        )
    dispute = ["RGlzcHV0ZTox", "RGlzcHV0ZToy", "RGlzcHV0ZToz"]  # Dispute:1, 2, 3
    a, b = await _open(client, "甲"), await _open(client, "乙")
    await _do(client, MUTATION_ATTACH, STAFF, id=a, records=[dispute[0]])
    await _do(client, MUTATION_ATTACH, STAFF, id=b, records=[dispute[1]])
    outside = await _do(client, MUTATION_ATTACH, STAFF, id=a, records=[dispute[2]])
    assert outside["code"] == "NOT_FOUND"  # a record out of the principal's reach
    merged = await _do(client, MUTATION_MERGE, STAFF, keep=a, merge=[b])
    assert merged["matter"]["id"] == a
    body = await graphql(client, QUERY_RECORDS, {"id": a}, headers=STAFF)
    assert {r["id"] for r in body["data"]["matter"]["records"]} == set(dispute[:2])
    gone = await graphql(client, QUERY_RECORDS, {"id": b}, headers=STAFF)
    assert gone["data"]["matter"] == {"step": "WITHDRAWN", "records": []}
    split = await _do(client, MUTATION_SPLIT, STAFF, id=a, records=[dispute[1]])
    new_id = split["matter"]["id"]
    assert new_id not in (a, b) and split["matter"]["step"] == "REGISTERED"
    body = await graphql(client, QUERY_RECORDS, {"id": new_id}, headers=STAFF)
    assert body["data"]["matter"]["records"] == [{"id": dispute[1]}]


QUERY_TIMELINE = """
query($id: ID!) { matter(id: $id) { timeline { action note details { key value } } } }
"""


async def test_timeline_names_only_records_the_reader_may_read(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given a dispute and a petition in 湖滨区, both attached by staff to a matter
    now = datetime(2025, 3, 3, 2, tzinfo=UTC)
    async with committing_engine.begin() as connection:
        await _insert(connection, Record, [{
            "id": i, "kind": kind, "source": source, "source_key": f"K{i}",
            "category": DisputeCategory.NEIGHBOUR, "title": "t", "summary": None,
            "occurred_at": now, "reported_at": None, "region_code": "411202001",
            "address": None, "status": CaseStatus.ACCEPTED, "risk_level": RiskLevel.NONE,
            "source_status": "x", "source_updated_at": now, "updated_at": now, "deleted": False,
        } for i, kind, source in ((1, RecordKind.DISPUTE, SourceSystem.MEDIATION),
                                  (2, RecordKind.PETITION, SourceSystem.PETITION))])  # fmt: skip
        for i, kind in ((1, RecordKind.DISPUTE), (2, RecordKind.PETITION)):
            await _insert(connection, KIND_MODELS[kind], [_kind_row(kind, i, i, now)])
    gid = await _open(client)
    await _do(client, MUTATION_ATTACH, STAFF, id=gid, records=["RGlzcHV0ZTox", "UGV0aXRpb246Mg=="])
    await _do(client, MUTATION_ADMIT, STAFF, id=gid)
    await _do(client, MUTATION_ASSESS, STAFF, id=gid)
    await _do(client, MUTATION_DISPATCH, STAFF, id=gid, org=MEDIATION_ORG)

    async def attached(who: dict[str, str]) -> list[str]:
        body = await graphql(client, QUERY_TIMELINE, {"id": gid}, headers=who)
        assert body.get("errors") is None, body
        return [
            detail["value"]
            for entry in body["data"]["matter"]["timeline"]
            if entry["action"] == "RECORD_ATTACHED"
            for detail in entry["details"]
            if detail["key"] == "record_id"
        ]

    # when staff read the timeline, then both records are named
    assert await attached(STAFF) == ["1", "2"]
    # when the mediation committee it went to reads it (it reads disputes, not petitions),
    # then the petition is a placeholder
    mediator = headers(Role.MEDIATOR, [INSIDE], sub="mediator-2", org=MEDIATION_ORG)
    assert await attached(mediator) == ["1", "辖区外记录"]
    # and the same committee with a jurisdiction elsewhere reads neither record
    assert await attached(MEDIATOR) == ["辖区外记录", "辖区外记录"]


async def test_timeline_of_automatic_feedback_hides_the_record_it_was_taken_from(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given a matter in 湖滨区 dispatched to a mediation committee, its dispute (K1) attached
    now = datetime(2025, 3, 3, 2, tzinfo=UTC)
    async with committing_engine.begin() as connection:
        await _insert(connection, Record, [{
            "id": i, "kind": kind, "source": source, "source_key": f"K{i}",
            "category": DisputeCategory.NEIGHBOUR, "title": "t", "summary": None,
            "occurred_at": now, "reported_at": None, "region_code": "411202001",
            "address": None, "status": status, "risk_level": RiskLevel.NONE,
            "source_status": "x", "source_updated_at": now, "updated_at": now, "deleted": False,
        } for i, kind, source, status in (
            (1, RecordKind.DISPUTE, SourceSystem.MEDIATION, CaseStatus.RESOLVED),
            (2, RecordKind.PETITION, SourceSystem.PETITION, CaseStatus.ACCEPTED))])  # fmt: skip
        for i, kind in ((1, RecordKind.DISPUTE), (2, RecordKind.PETITION)):
            await _insert(connection, KIND_MODELS[kind], [_kind_row(kind, i, i, now)])
        await _insert(connection, Link, [{
            "from_record_id": 2, "to_record_id": 1, "link_kind": "SAME_MATTER",
            "confidence": 0.95, "evidence": []}])
    gid = await _open(client)
    await _do(client, MUTATION_ATTACH, STAFF, id=gid, records=["RGlzcHV0ZTox"])
    await _do(client, MUTATION_ADMIT, STAFF, id=gid)
    await _do(client, MUTATION_ASSESS, STAFF, id=gid)
    await _do(client, MUTATION_DISPATCH, STAFF, id=gid, org=MEDIATION_ORG)
    # when a sync takes the dispute's result (automatic feedback) and the linked petition
    # joins the matter
    flow = MatterWorkflow(session_factory(committing_engine), load_rules(),
                          ChineseWorkingCalendar())
    counts = await take_in(flow, IntakeRules(kinds=frozenset()), [1, 2], source="MEDIATION")
    assert (counts.joined, counts.fed_back) == (1, 1)

    async def rows(who: dict[str, str], action: str) -> list[dict[str, Any]]:
        body = await graphql(client, QUERY_TIMELINE, {"id": gid}, headers=who)
        assert body.get("errors") is None, body
        return [
            {"note": e["note"], **{d["key"]: d["value"] for d in e["details"]}}
            for e in body["data"]["matter"]["timeline"] if e["action"] == action
        ]

    # then staff read the hub's note and the records it names
    (result,) = await rows(STAFF, "REPORT_RESULT")
    assert (result["note"], result["evidence_record_id"]) == ("MEDIATION K1: RESOLVED", "1")
    (joined,) = await rows(STAFF, "RECORD_JOINED")
    assert (joined["record_id"], joined["kind"]) == ("2", "PETITION")
    # and the committee, which may read neither record from its own jurisdiction, reads
    # neither the dispute's key in the note nor that a petition joined
    (result,) = await rows(MEDIATOR, "REPORT_RESULT")
    assert (result["note"], result["evidence_record_id"]) == ("", "辖区外记录")
    (joined,) = await rows(MEDIATOR, "RECORD_JOINED")
    assert (joined["note"], joined["record_id"], joined["kind"]) == ("", "辖区外记录", "辖区外记录")


async def test_timeline_of_a_taken_over_petition_hides_its_dates_and_status(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given a petition in 湖滨区 its system accepted (办理期限 2026-06-01), taken in by a sync:
    # the matter is 受理 by the system on the petition's date
    now = datetime(2025, 3, 3, 2, tzinfo=UTC)
    async with committing_engine.begin() as connection:
        await _insert(connection, Record, [{
            "id": 1, "kind": RecordKind.PETITION, "source": SourceSystem.PETITION,
            "source_key": "XF000001", "category": DisputeCategory.NEIGHBOUR, "title": "t",
            "summary": None, "occurred_at": now, "reported_at": now,
            "region_code": "411202001", "address": None, "status": CaseStatus.ACCEPTED,
            "risk_level": RiskLevel.NONE, "source_status": "已受理", "source_updated_at": now,
            "updated_at": now, "deleted": False,
        }])  # fmt: skip
        await _insert(connection, KIND_MODELS[RecordKind.PETITION],
                      [{**_kind_row(RecordKind.PETITION, 1, 1, now), "accepted_on": now.date()}])
    flow = MatterWorkflow(session_factory(committing_engine), load_rules(),
                          ChineseWorkingCalendar())
    assert (await take_in(flow, IntakeRules(), [1], source="PETITION")).opened == 1
    # and the petition system concludes it before the centre dispatches it
    async with committing_engine.begin() as connection:
        await connection.execute(Record.__table__.update().where(Record.id == 1).values(
            status=CaseStatus.RESOLVED, source_status="已答复"))  # fmt: skip
    assert (await take_in(flow, IntakeRules(), [1], source="PETITION")).concluded == 1
    async with flow.sessions() as session:
        matter_id = await session.scalar(select(Matter.id))
    gid = base64.b64encode(f"Matter:{matter_id}".encode()).decode()
    # and the centre sends it to a mediation committee, which reads no petitions
    await _do(client, MUTATION_ASSESS, STAFF, id=gid)
    await _do(client, MUTATION_DISPATCH, STAFF, id=gid, org=MEDIATION_ORG)

    async def row(who: dict[str, str], action: str) -> dict[str, Any]:
        body = await graphql(client, QUERY_TIMELINE, {"id": gid}, headers=who)
        assert body.get("errors") is None, body
        (found,) = [
            {"note": e["note"], **{d["key"]: d["value"] for d in e["details"]}}
            for e in body["data"]["matter"]["timeline"] if e["action"] == action
        ]
        return found

    # then staff read the petition's key, dates and status
    admitted = await row(STAFF, "ADMIT")
    assert admitted == {"note": "PETITION XF000001", "source_accepted": "2025-03-03",
                        "source_deadline": "2026-06-01", "evidence_record_id": "1"}
    assert (await row(STAFF, "RECORD_FACT"))["record_status"] == "RESOLVED"
    # and the committee reads none of them
    mediator = headers(Role.MEDIATOR, [INSIDE], sub="mediator-2", org=MEDIATION_ORG)
    admitted = await row(mediator, "ADMIT")
    assert admitted == {"note": "", "source_accepted": "辖区外记录",
                        "source_deadline": "辖区外记录", "evidence_record_id": "辖区外记录"}
    concluded = await row(mediator, "RECORD_FACT")
    assert concluded["note"] == ""
    assert (concluded["record_status"], concluded["evidence_record_id"]) == ("辖区外记录",) * 2


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_and_acts_as_its_policy_says(
    client: httpx.AsyncClient, role: Role
) -> None:
    policy = POLICIES[role]
    who = headers(role, org=MEDIATION_ORG)
    listed = await graphql(client, QUERY_LIST, headers=who)
    if policy.matters:
        assert listed["data"]["matters"]["totalCount"] == 0  # none yet, but answered
    else:
        assert codes(listed) == ["FORBIDDEN"] and listed["data"] is None
    gid = "TWF0dGVyOjk5OTk5"  # Matter:99999, which does not exist
    for name, document in (("admitMatter", MUTATION_ADMIT), ("acceptMatter", MUTATION_ACCEPT),
                           ("verifyMatter", MUTATION_VERIFY)):  # fmt: skip
        body = await graphql(client, document, {"id": gid}, headers=who)
        if name in policy.mutations:
            assert body["data"][name]["code"] == "NOT_FOUND", (role, name)
        else:
            assert set(codes(body)) == {"FORBIDDEN"} and body["data"] is None, (role, name)


MUTATION_TWO_STEPS = """
mutation($id: ID!) {
  a: admitMatter(id: $id) { ... on MatterChanged { matter { timeline { action } } } }
  b: assessMatter(id: $id, input: {category: NEIGHBOUR, risk: BLUE, tier: SIMPLE,
    leadOrg: "司法所"}) { ... on MatterChanged { matter { timeline { action } } } }
}
"""


async def test_each_mutation_of_a_document_reads_its_own_result(client: httpx.AsyncClient) -> None:
    gid = await _open(client)
    body = await graphql(client, MUTATION_TWO_STEPS, {"id": gid}, headers=STAFF)
    assert [e["action"] for e in body["data"]["a"]["matter"]["timeline"]] == ["OPEN", "ADMIT"]
    assert [e["action"] for e in body["data"]["b"]["matter"]["timeline"]] == [
        "OPEN",
        "ADMIT",
        "ASSESS",
    ]


QUERY_PAGE_WITH_PARTIES = """
query($first: Int!) { matters(first: $first) { nodes {
  title parties { role name idNumber phone } timeline { action } clocks { ruleId }
  supervisions { level } records { id }
} } }
"""


async def test_a_page_of_matters_reads_its_parties_in_one_statement(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given thirty matters, each with its own two parties
    people = {}
    for n in range(30):
        first, second = f"张{chr(0x4E00 + n)}", f"李{chr(0x4E00 + n)}"
        people[f"纠纷第{n}件"] = [first, second]
        await _open(client, title=f"纠纷第{n}件", parties=[
            {"role": "APPLICANT", "name": first, "idNumber": ID_NUMBER, "phone": "13800138000"},
            {"role": "RESPONDENT", "name": second},
        ])  # fmt: skip
    await graphql(client, QUERY_PAGE_WITH_PARTIES, {"first": 1}, headers=STAFF)  # warm-up
    # when a page of 3 and a page of 30 are read with parties and the other sub-fields
    with counting_statements(committing_engine) as small:
        small_body = await graphql(client, QUERY_PAGE_WITH_PARTIES, {"first": 3}, headers=STAFF)
    with counting_statements(committing_engine) as large:
        large_body = await graphql(client, QUERY_PAGE_WITH_PARTIES, {"first": 30}, headers=STAFF)
    # then each matter has its own parties, in order, identifiers masked
    nodes = large_body["data"]["matters"]["nodes"]
    assert len(small_body["data"]["matters"]["nodes"]) == 3 and len(nodes) == 30
    for node in nodes:
        applicant, respondent = node["parties"]
        assert [applicant["name"], respondent["name"]] == people[node["title"]]
        assert applicant["role"] == "APPLICANT" and ID_NUMBER not in json.dumps(applicant)
        assert applicant["idNumber"] and respondent["idNumber"] is None
    # and both pages took the same few statements: no statement per matter
    assert len(small) == len(large) <= 8, (small, large)
    assert sum("matter_parties" in s for s in large) == 1


QUERY_EXTENDABLE = """
query($id: ID!) { matter(id: $id) { clocks(runningOnly: true) { ruleId extendable } } }
"""
MUTATION_EXTEND = """
mutation($id: ID!, $rule: String!) { extendMatterClock(id: $id, input: {ruleId: $rule,
  amount: 1, reason: "当事人外出", approval: "负责人批准"}) {
  __typename ... on MatterError { code } } }
"""


async def test_a_clock_says_whether_its_reader_may_extend_it(client: httpx.AsyncClient) -> None:
    # given a matter dispatched to a mediation committee and signed for, under a 督办: clocks
    # of the centre (分级闭环, 督办回复) and of the committee (人民调解) run
    gid = await _open(client)
    await _do(client, MUTATION_ADMIT, STAFF, id=gid)
    await _do(client, MUTATION_ASSESS, STAFF, id=gid)
    await _do(client, MUTATION_DISPATCH, STAFF, id=gid, org=MEDIATION_ORG)
    await _do(client, MUTATION_ACCEPT, MEDIATOR, id=gid)
    await _do(client, MUTATION_SUPERVISE, STAFF, id=gid, org=MEDIATION_ORG)
    for who in (MEDIATOR, STAFF):
        # when each reads which clocks it may extend, then asks to extend every one
        read = await graphql(client, QUERY_EXTENDABLE, {"id": gid}, headers=who)
        assert read.get("errors") is None, read
        said = {c["ruleId"]: c["extendable"] for c in read["data"]["matter"]["clocks"]}
        done = {}
        for rule in said:
            answer = await _do(client, MUTATION_EXTEND, who, id=gid, rule=rule)
            done[rule] = answer["__typename"] == "MatterChanged"
        # then the extensions granted are exactly those the clocks said: some, not all
        assert done == said
        assert True in said.values() and (who is STAFF or False in said.values()), said
