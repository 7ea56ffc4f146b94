"""Malformed and hostile input, table-driven: each answers BAD_USER_INPUT (or another
client-error code) or a 4xx with a clear message — never a 5xx or INTERNAL_SERVER_ERROR."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.graphql_world import graphql_client, seed_world

JSON = {"content-type": "application/json"}


def _gid(type_name: str, number: int) -> str:
    return base64.b64encode(f"{type_name}:{number}".encode()).decode()


def _request(query: str, variables: dict[str, Any] | None = None) -> bytes:
    # ensure_ascii: NUL and lone surrogates travel as \\u escapes, as a hostile client sends
    return json.dumps({"query": query, "variables": variables or {}}).encode()


SEARCH = "query($s: String) { records(filter: {search: $s}) { totalCount } }"
PARTY = "query($s: String) { records(filter: {partyName: $s}) { totalCount } }"
PERSONS = "query($s: String) { persons(search: $s) { nodes { id } } }"
REGION = "query($s: String!) { region(code: $s) { code } }"
REGIONS = "query($s: String) { regions(parent: $s) { code } }"
FROM = "query($d: DateTime) { records(filter: {occurredFrom: $d}) { totalCount } }"
NODE = "query($i: ID!) { node(id: $i) { id } }"
PERSON = "query($i: ID!) { person(id: $i) { id } }"

# (case, body, expected: a code in the GraphQL answer, or an HTTP status)
CASES: list[tuple[str, bytes, str | int]] = [
    ("search NUL", _request(SEARCH, {"s": "欠\x00"}), "BAD_USER_INPUT"),
    ("search surrogate", _request(SEARCH, {"s": "欠\ud800"}), "BAD_USER_INPUT"),
    ("search NUL literal", _request('{ records(filter: {search: "a\\u0000"}) { totalCount } }'),
     "BAD_USER_INPUT"),
    ("partyName NUL", _request(PARTY, {"s": "张\x00"}), "BAD_USER_INPUT"),
    ("partyName surrogate", _request(PARTY, {"s": "\udfff"}), "BAD_USER_INPUT"),
    ("persons(search) NUL", _request(PERSONS, {"s": "\x00"}), "BAD_USER_INPUT"),
    ("region(code) NUL", _request(REGION, {"s": "4112\x00"}), "BAD_USER_INPUT"),
    ("regions(parent) surrogate", _request(REGIONS, {"s": "41\ud800"}), "BAD_USER_INPUT"),
    ("first: 1e400 variable",
     b'{"query": "query($f: Int) { records(first: $f) { totalCount } }", '
     b'"variables": {"f": 1e400}}', "GRAPHQL_VALIDATION_FAILED"),
    ("first: 1e400 literal", _request("{ records(first: 1e400) { totalCount } }"),
     "GRAPHQL_VALIDATION_FAILED"),
    ("far-future offset", _request(FROM, {"d": "9999-12-31T23:59:59-23:59"}), "BAD_USER_INPUT"),
    ("far-past offset", _request(FROM, {"d": "0001-01-01T00:00:00+23:59"}), "BAD_USER_INPUT"),
    ("huge global id", _request(NODE, {"i": _gid("Dispute", 10**30)}), "BAD_USER_INPUT"),
    ("huge person id", _request(PERSON, {"i": _gid("Person", 10**30)}), "BAD_USER_INPUT"),
    ("operationName: 5", b'{"query": "{ version }", "operationName": 5}', 400),
    ("body null", b"null", 400),
    ("body number", b"5", 400),
    ("body string", b'"{ version }"', 400),
    ("100k-deep JSON", b'{"query": "{ version }", "variables": {"a": '
     + b"[" * 100_000 + b"]" * 100_000 + b"}}", 400),
    ("100k-deep document", json.dumps({"query": "{" * 100_000 + "}" * 100_000}).encode(),
     "GRAPHQL_PARSE_FAILED"),
    ("invalid UTF-8", b'{"query": "{ version \xff\xfe }"}', 400),
    ("subscription over POST", _request("subscription { recordChanges { kind } }"),
     "BAD_USER_INPUT"),
]  # fmt: skip


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_world(committing_engine, records=10)
    async with graphql_client(committing_engine, pii_key) as client:
        yield client


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_malformed_input_is_a_client_error(
    client: httpx.AsyncClient, body: bytes, expected: str | int
) -> None:
    response = await client.post("/graphql", content=body, headers=JSON)
    assert response.status_code < 500, response.text
    if isinstance(expected, int):
        assert response.status_code == expected
        assert response.text.strip()  # a message that says what is wrong
        return
    answer = response.json()
    codes = [error.get("extensions", {}).get("code") for error in answer["errors"]]
    assert codes == [expected], answer
    assert not any((answer.get("data") or {}).values())  # nothing answered but the error


async def test_a_gzip_body_that_does_not_inflate_is_a_client_error(
    client: httpx.AsyncClient,
) -> None:
    headers = JSON | {"content-encoding": "gzip"}
    response = await client.post("/graphql", content=b"\x1f\x8b\x08junk", headers=headers)
    assert 400 <= response.status_code < 500
