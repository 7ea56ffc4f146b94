"""Every operation on the record: one chained row each, personal data masked, auditor-only."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.audit import verify_chain
from db.engine import session_factory
from db.models import AuditEntry
from domain.roles import Role
from tests.integration.auth_support import bearer, token
from tests.integration.graphql_world import codes, graphql, graphql_client
from tests.integration.security_world import INSIDE, PHONES, seed_security_world

QUERY_RECORDS = """
query PartiesOfRecords($filter: RecordFilter) {
  records(filter: $filter, first: 20) { nodes { id ... on Record { parties { name } } } }
}
"""
QUERY_TITLES = "query Titles { records(first: 20) { nodes { id title } } }"
QUERY_AUDIT = """
query Audit($principal: String, $first: Int, $after: String) {
  auditLog(principal: $principal, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { sequence principal role operation documentHash variables recordIds personIds
            outcome purpose }
  }
}
"""
QUERY_CHAIN = "query { auditChainStatus { rowsChecked intact firstProblem { sequence } } }"


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_security_world(committing_engine)
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        yield client


async def _rows(engine: AsyncEngine) -> list[AuditEntry]:
    async with session_factory(engine)() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


def _as(role: Role, **claims: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, [INSIDE], **claims)}"}


async def test_an_operation_is_one_row_with_who_what_and_which_records(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # when staff search records by a phone number, stating a purpose, and read their parties
    variables = {"filter": {"search": f"电话{PHONES[INSIDE]}"}}
    headers = _as(Role.CENTER_STAFF, sub="staff-1", org="湖滨区综治中心")
    headers["X-Purpose"] = quote("(2026)豫1202民初1号 核查当事人")  # %-encoded UTF-8
    await graphql(client, QUERY_RECORDS, variables, headers=headers)
    await graphql(client, QUERY_RECORDS, {}, headers=headers)
    # then each operation wrote exactly one row
    first, second = await _rows(committing_engine)
    assert (first.principal, first.role, first.org) == ("staff-1", "center_staff", "湖滨区综治中心")
    assert first.operation == "PartiesOfRecords" and first.outcome == "OK"
    assert first.document_hash == hashlib.sha256(QUERY_RECORDS.encode()).hexdigest()
    assert first.purpose == "(2026)豫1202民初1号 核查当事人"
    assert first.duration_ms is not None and first.duration_ms > 0
    # and the phone in the variables is stored masked
    assert first.variables["preview"] == {"filter": {"search": "电话138****5678"}}
    assert first.variables["digest"].startswith("hmac-sha256:")
    assert PHONES[INSIDE] not in str(first.variables)
    # and the second names every record whose parties it returned (the five kinds inside)
    assert first.record_ids is None  # the search matched nothing
    assert second.record_ids == [1, 3, 5, 7, 9]


async def test_a_phone_typed_with_country_code_or_separators_is_stored_masked(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given a phone as people type it, in the variables and in the stated purpose
    typed = "+86 138-1234-5678"
    headers = _as(Role.CENTER_STAFF)
    headers["X-Purpose"] = quote(f"回电{typed}核实")
    # when staff search with it
    await graphql(client, QUERY_RECORDS, {"filter": {"search": typed}}, headers=headers)
    # then the audit row keeps neither the number nor its digits in a row
    [row] = await _rows(committing_engine)
    assert row.variables["preview"] == {"filter": {"search": "+86 138****5678"}}
    assert row.purpose == "回电+86 138****5678核实"
    assert "1234" not in json.dumps(row.variables) + str(row.purpose)


async def test_records_read_without_personal_data_name_no_records(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    await graphql(client, QUERY_TITLES, headers=_as(Role.CENTER_STAFF))
    [row] = await _rows(committing_engine)
    assert row.record_ids is None and row.outcome == "OK"


QUERY_PERSONS = "query People { persons(search: \"\") { nodes { id name } } }"
QUERY_PARTY_PERSONS = (
    "query PartyPersons { records(first: 20) { nodes { id parties { person { name } } } } }"
)


async def test_persons_returned_are_named_on_the_row_however_they_were_reached(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    headers = _as(Role.CENTER_STAFF)
    person = "UGVyc29uOjE="  # Person:1, named by the records inside the jurisdiction
    # when persons are read by search, through the parties of a page, by id, and not at all
    for document, variables in (
        (QUERY_PERSONS, {}),
        (QUERY_PARTY_PERSONS, {}),
        ("query One($id: ID!) { person(id: $id) { name } }", {"id": person}),
        ("query Node($id: ID!) { node(id: $id) { id } }", {"id": person}),
        (QUERY_RECORDS, {}),
    ):
        body = await graphql(client, document, variables, headers=headers)
        assert "errors" not in body, body
    # then each row names exactly the persons it returned: the one inside, never the other
    rows = await _rows(committing_engine)
    assert [row.person_ids for row in rows] == [[1], [1], [1], [1], None]
    assert rows[1].record_ids == [1, 3, 5, 7, 9]
    # and the chain, with and without the new column filled, verifies
    async with session_factory(committing_engine)() as session:
        assert await verify_chain(session) == (5, None)
    # and the auditor sees them
    auditor = _as(Role.AUDITOR)
    body = await graphql(client, QUERY_AUDIT, {"first": 10}, auditor)
    assert [n["personIds"] for n in body["data"]["auditLog"]["nodes"]] == [
        None, [1], [1], [1], [1]
    ]  # fmt: skip


QUERY_NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }"


async def test_nodes_with_bad_ids_returns_and_records_the_good_ones(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given the person inside the jurisdiction, the one outside it and a malformed id
    inside, outside = "UGVyc29uOjE=", "UGVyc29uOjI="  # Person:1, Person:2
    # when staff ask for them in one list
    body = await graphql(
        client, QUERY_NODES, {"ids": [inside, outside, "???"]}, headers=_as(Role.CENTER_STAFF)
    )
    # then only the person inside is answered, the others are null in their places, the
    # malformed id alone with an error (the one outside is null as an unknown id is)
    assert body["data"]["nodes"] == [{"id": inside}, None, None]
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["nodes", 2], "BAD_USER_INPUT")
    ]
    # and the one row names the person returned, the operation as failed in part
    [row] = await _rows(committing_engine)
    assert row.person_ids == [1] and row.outcome == "ERROR"


async def test_nodes_of_unknown_ids_is_audited_as_node_of_an_unknown_id_is(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given an id naming nothing and one outside the jurisdiction
    unknown, outside = "UGVyc29uOjk5OTk5OQ==", "UGVyc29uOjI="  # Person:999999, Person:2
    staff = _as(Role.CENTER_STAFF)
    # when staff ask node() for the unknown one, then nodes() for both
    one = await graphql(client, "query Node($id: ID!) { node(id: $id) { id } }",
                        {"id": unknown}, headers=staff)
    many = await graphql(client, QUERY_NODES, {"ids": [unknown, outside]}, headers=staff)
    # then node() says NOT_FOUND, nodes() answers nulls without an error (Relay's answer)
    assert [e["extensions"]["code"] for e in one["errors"]] == ["NOT_FOUND"]
    assert many == {"data": {"nodes": [None, None]}}
    # and the audit log records both operations with the same outcome
    node_row, nodes_row = await _rows(committing_engine)
    assert node_row.outcome == nodes_row.outcome == "ERROR"


async def test_denied_and_failed_operations_are_on_the_record(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    denied = await graphql(client, QUERY_RECORDS, headers=_as(Role.DASHBOARD_VIEWER))
    failed = await graphql(
        client, 'query { node(id: "bm90IGFuIGlk") { id } }', headers=_as(Role.CENTER_STAFF)
    )
    # (records and their parties are both refused a dashboard)
    assert set(codes(denied)) == {"FORBIDDEN"} and codes(failed) == ["BAD_USER_INPUT"]
    rows = await _rows(committing_engine)
    assert [(r.role, r.outcome, r.record_ids) for r in rows] == [
        ("dashboard_viewer", "DENIED", None),
        ("center_staff", "ERROR", None),
    ]


async def test_a_burst_of_concurrent_operations_keeps_the_chain_intact(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # when 40 operations arrive at once (group commit shares transactions between them)
    headers = bearer(Role.CENTER_STAFF, [INSIDE])
    bodies = await asyncio.gather(
        *(graphql(client, QUERY_RECORDS, {}, headers=headers) for _ in range(40))
    )
    assert all("errors" not in body for body in bodies)
    # then there are 40 rows and the chain verifies
    assert len(await _rows(committing_engine)) == 40
    async with session_factory(committing_engine)() as session:
        assert await verify_chain(session) == (40, None)


async def test_the_auditor_reads_the_log_and_the_chain(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given operations by two principals
    for sub in ("police-1", "police-2", "police-1"):
        await graphql(client, QUERY_RECORDS, {}, headers=_as(Role.PARTNER_POLICE, sub=sub))
    auditor = _as(Role.AUDITOR, sub="auditor-1")
    # when the auditor asks for one principal's entries, a page at a time
    body = await graphql(client, QUERY_AUDIT, {"principal": "police-1", "first": 1}, auditor)
    log = body["data"]["auditLog"]
    assert log["totalCount"] == 2 and log["pageInfo"]["hasNextPage"]
    assert log["nodes"][0]["principal"] == "police-1" and log["nodes"][0]["sequence"] == 3
    assert log["nodes"][0]["recordIds"] == [1, 3, 5]  # dispute, grid event, police alert inside
    after = log["pageInfo"]["endCursor"]
    body = await graphql(
        client, QUERY_AUDIT, {"principal": "police-1", "first": 5, "after": after}, auditor
    )
    assert [n["sequence"] for n in body["data"]["auditLog"]["nodes"]] == [1]
    # and verifies the chain (the auditor's own reads are on it too)
    chain = await graphql(client, QUERY_CHAIN, headers=auditor)
    assert chain["data"]["auditChainStatus"] == {
        "rowsChecked": 5,
        "intact": True,
        "firstProblem": None,
    }


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.AUDITOR])
async def test_no_one_else_reads_the_audit_log(
    client: httpx.AsyncClient, committing_engine: AsyncEngine, role: Role
) -> None:
    log = await graphql(client, QUERY_AUDIT, {}, headers=_as(role))
    chain = await graphql(client, QUERY_CHAIN, headers=_as(role))
    assert codes(log) == ["FORBIDDEN"] and log["data"] is None
    assert codes(chain) == ["FORBIDDEN"] and chain["data"] is None
    assert [row.outcome for row in await _rows(committing_engine)] == ["DENIED", "DENIED"]


async def test_an_operation_that_cannot_be_audited_returns_nothing(
    client: httpx.AsyncClient, committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the audit log cannot be written (the database refuses the insert)
    async def refuse(*_: object, **__: object) -> None:
        raise RuntimeError("audit_log is read-only")

    monkeypatch.setattr("hub.audit.append_events", refuse)
    monkeypatch.setattr("hub.audit.append_after", refuse)  # PostgreSQL's one-statement path
    # when staff read parties
    body = await graphql(client, QUERY_RECORDS, {}, headers=_as(Role.CENTER_STAFF))
    # then the whole operation fails closed: no data, one masked error, nothing on the record
    assert body.get("data") is None
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "read-only" not in str(body)
    assert await _rows(committing_engine) == []
    # and once the log can be written again, operations are answered and audited as before
    monkeypatch.undo()
    body = await graphql(client, QUERY_RECORDS, {}, headers=_as(Role.CENTER_STAFF))
    assert "errors" not in body and body["data"]["records"]["nodes"]
    [row] = await _rows(committing_engine)
    assert row.outcome == "OK" and row.record_ids == [1, 3, 5, 7, 9]


QUERY_CHAIN_PROBLEM = (
    "query { auditChainStatus { rowsChecked intact firstProblem { sequence problem } } }"
)


async def test_the_running_hub_checkpoints_the_chain_and_reports_a_truncated_tail(
    committing_engine: AsyncEngine, pii_key: bytes, tmp_path: Path
) -> None:
    # given the hub writing a signed checkpoint after every batch, to a file
    checkpoints = tmp_path / "checkpoints.jsonl"
    async with graphql_client(
        committing_engine, pii_key, role=None, audit_checkpoint_file=checkpoints,
        audit_checkpoint_seconds=0,
    ) as client:  # fmt: skip
        for _ in range(4):
            await graphql(client, QUERY_TITLES, headers=_as(Role.CENTER_STAFF))
        # (a checkpoint follows its batch's commit, just after the request is answered)
        for _ in range(200):
            lines = checkpoints.read_text(encoding="utf-8").splitlines()
            if len(lines) == 4:
                break
            await asyncio.sleep(0.01)
        assert [json.loads(line)["sequence"] for line in lines] == [1, 2, 3, 4]
        # when the newest two rows are deleted from the database
        async with session_factory(committing_engine).begin() as session:
            await session.execute(delete(AuditEntry).where(AuditEntry.id > 2))
        # then the auditor is told the chain lost its tail (the query's own row is written
        # after it answers, so the chain it checks still ends at row 2)
        body = await graphql(client, QUERY_CHAIN_PROBLEM, headers=_as(Role.AUDITOR))
    assert body["data"]["auditChainStatus"] == {
        "rowsChecked": 2,
        "intact": False,
        "firstProblem": {"sequence": 4, "problem": "TRUNCATED"},
    }
