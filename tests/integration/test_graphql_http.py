"""HTTP statuses per case, for both response media types (GraphQL over HTTP): 401 with a
Bearer challenge for a refused credential, 400 for an unparseable or invalid document when the
client accepts ``application/graphql-response+json``, 200 for errors inside a valid operation,
and JSON bodies for requests that are not GraphQL at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from domain.roles import Role
from hub.graphql_http import accepted_media_type
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import graphql_client

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

QUERY_VERSION = "query Version { version }"
QUERY_UNPARSEABLE = "query { version"
QUERY_INVALID = "query { noSuchField }"
QUERY_BAD_VARIABLE = "query Node($id: ID!) { node(id: $id) { id } }"
QUERY_NOT_FOUND = 'query { person(id: "UGVyc29uOjk5OTk5") { id } }'
QUERY_FORBIDDEN = "query { auditLog(first: 1) { totalCount } }"
QUERY_TWO_NAMED = "query Version { version } query Viewer { viewer { role } }"

VALID = bearer(Role.CENTER_STAFF, ["411202"])
REFUSED = {"Authorization": "Bearer not.a.jwt"}

# (why, headers, document, variables) → (status with application/json, with graphql-response)
CASES: dict[str, tuple[dict[str, str], str, dict[str, Any] | None, int, int, str]] = {
    "no token": ({}, QUERY_VERSION, None, 401, 401, "UNAUTHENTICATED"),
    "forged token": (REFUSED, QUERY_VERSION, None, 401, 401, "UNAUTHENTICATED"),
    "no token, bad document": ({}, QUERY_UNPARSEABLE, None, 401, 401, "UNAUTHENTICATED"),
    "unparseable": (VALID, QUERY_UNPARSEABLE, None, 200, 400, "GRAPHQL_PARSE_FAILED"),
    "invalid": (VALID, QUERY_INVALID, None, 200, 400, "GRAPHQL_VALIDATION_FAILED"),
    "bad variables": (VALID, QUERY_BAD_VARIABLE, {}, 200, 400, "GRAPHQL_VALIDATION_FAILED"),
    "forbidden field": (VALID, QUERY_FORBIDDEN, None, 200, 200, "FORBIDDEN"),
    "not found": (VALID, QUERY_NOT_FOUND, None, 200, 200, "NOT_FOUND"),
    "fine": (VALID, QUERY_VERSION, None, 200, 200, ""),
    "two operations, none named": (VALID, QUERY_TWO_NAMED, None, 200, 400,
                                   "GRAPHQL_VALIDATION_FAILED"),
}


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        yield client


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE])
@pytest.mark.parametrize("why", list(CASES))
async def test_status_per_case_and_media_type(
    client: httpx.AsyncClient, why: str, media_type: str
) -> None:
    headers, document, variables, json_status, graphql_status, code = CASES[why]
    # when a client that accepts `media_type` posts the document
    response = await client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={**headers, "Accept": media_type},
    )
    # then the status is the case's, the body a GraphQL one in the media type asked for
    expected = json_status if media_type == JSON else graphql_status
    assert response.status_code == expected, (why, response.text)
    assert response.headers["content-type"].split(";")[0] == media_type
    body = response.json()
    assert [error["extensions"]["code"] for error in body.get("errors", [])] == (
        [code] if code else []
    ), why
    if expected == 401:
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="govhub"')
        assert ('error="invalid_token"' in challenge) == ("Authorization" in headers)
    else:
        assert "www-authenticate" not in response.headers


async def test_an_operation_of_several_is_chosen_by_name(client: httpx.AsyncClient) -> None:
    for name, answer in [("Viewer", {"viewer": {"role": "center_staff"}}),
                         ("Version", {"version": "0.1.0"})]:
        response = await client.post(
            "/graphql", json={"query": QUERY_TWO_NAMED, "operationName": name}, headers=VALID
        )
        assert response.json() == {"data": answer}
    response = await client.post("/graphql", json={"query": QUERY_TWO_NAMED}, headers=VALID)
    [error] = response.json()["errors"]
    assert error["message"] == (
        "Must provide operation name if query contains multiple operations."
    )


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE])
async def test_malformed_json_gets_a_json_error_body(
    client: httpx.AsyncClient, media_type: str
) -> None:
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ version }"',
        headers={**VALID, "Content-Type": JSON, "Accept": media_type},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].split(";")[0] == media_type
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "JSON" in error["message"]


async def test_a_body_without_a_query_gets_a_json_error_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"variables": {}}, headers=VALID)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("*/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),
        (f"{JSON};q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE}, */*", GRAPHQL_RESPONSE),
    ],
)
def test_accept_header_negotiation(accept: str | None, chosen: str) -> None:
    assert accepted_media_type(accept) == chosen


async def test_client_errors_are_logged_at_info_not_warning(client: httpx.AsyncClient) -> None:
    with capture_logs() as logs:
        await client.post("/graphql", json={"query": QUERY_NOT_FOUND}, headers=VALID)
        await client.post("/graphql", json={"query": QUERY_VERSION})  # no token
        # a document that does not parse or validate is the client's too, with its code
        await client.post("/graphql", json={"query": "{ version"}, headers=VALID)
        await client.post("/graphql", json={"query": "{ nope }"}, headers=VALID)
    levels = {e["code"]: e["log_level"] for e in logs if e["event"] == "graphql_error"}
    assert levels == {
        "NOT_FOUND": "info", "UNAUTHENTICATED": "info",
        "GRAPHQL_PARSE_FAILED": "info", "GRAPHQL_VALIDATION_FAILED": "info",
    }  # fmt: skip


async def test_other_refused_requests_get_json_bodies_coded_by_status(
    client: httpx.AsyncClient,
) -> None:
    wrong_type = await client.post(
        "/graphql", content=b"{ version }", headers={**VALID, "Content-Type": "text/plain"}
    )
    wrong_method = await client.put("/graphql", json={"query": QUERY_VERSION}, headers=VALID)
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert wrong_method.status_code == 405


QUERY_SUBSCRIPTION = "subscription { recordChanges { id } }"
QUERY_TWO = "query A { version } query B { version }"

# (why, headers, body): each answered by the JSON lane and by Strawberry's view alike
SAME_ANSWER_CASES: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    **{why: (h, {"query": d, "variables": v}) for why, (h, d, v, *_) in CASES.items()},
    "named of two": (VALID, {"query": QUERY_TWO, "operationName": "B"}),
    "unnamed of two": (VALID, {"query": QUERY_TWO}),
    "unknown name": (VALID, {"query": QUERY_VERSION, "operationName": "Other"}),
    "subscription over POST": (VALID, {"query": QUERY_SUBSCRIPTION}),
    "empty query": (VALID, {"query": ""}),
    "unknown hash": (
        VALID,
        {"query": QUERY_VERSION, "extensions": {"persistedQuery": {"sha256Hash": "ab"}}},
    ),
}


@pytest.mark.parametrize("media_type", [JSON, GRAPHQL_RESPONSE])
@pytest.mark.parametrize("why", list(SAME_ANSWER_CASES))
async def test_the_json_lane_answers_as_strawberrys_view(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, why: str, media_type: str
) -> None:
    # given one operation POSTed as JSON
    headers, body = SAME_ANSWER_CASES[why]
    headers = {**headers, "Accept": media_type, "Content-Type": "application/json; charset=utf-8"}

    async def answer() -> tuple[int, dict[str, str], Any]:
        response = await client.post("/graphql", json=body, headers=headers)
        kept = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
        return response.status_code, kept, response.json()

    from hub import graphql_http

    lane = graphql_http.GraphQLOverHTTP.answer_json
    calls: list[str] = []

    async def counted(*args: Any) -> Any:
        calls.append("lane")
        return await lane(*args)

    monkeypatch.setattr(graphql_http.GraphQLOverHTTP, "answer_json", counted)
    # when it is answered by the JSON lane, then by Strawberry's view
    ours = await answer()
    monkeypatch.setattr(graphql_http, "one_operation", lambda _data: False)
    theirs = await answer()
    # then status, headers and body are the same (and the lane answered the first only)
    assert calls == ["lane"]
    assert ours == theirs, why
