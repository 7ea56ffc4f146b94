"""Errors a client sees: coded, safe, and over-limit documents refused before execution."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import resolvers.page_json
from resolvers.dataloaders import Loaders
from tests.integration.graphql_world import (
    ID_NUMBER,
    PHONE,
    codes,
    graphql,
    graphql_client,
    seed_world,
    unlink_regions,
)

QUERY_PAGE = "query($first: Int, $after: String) { records(first: $first, after: $after) { edges { node { id } } } }"  # noqa: E501 -- one document
QUERY_FILTERED = "query($filter: RecordFilter) { records(filter: $filter) { totalCount } }"
QUERY_NODE = "query($id: ID!) { node(id: $id) { id } }"
QUERY_PERSON = "query($id: ID!) { person(id: $id) { name } }"
QUERY_REGION = 'query { region(code: "999999") { name } }'
QUERY_DEEP = """
query { records(first: 1) { edges { node { linkedRecords { record { linkedRecords { record {
  linkedRecords { record { region { parent { parent { name } } } } } } } } } } } } }
"""
QUERY_ALIASES = "query { " + " ".join(f"v{i}: version" for i in range(25)) + " }"
QUERY_TOKENS = "query { " + " ".join("version" for _ in range(2_500)) + " }"
QUERY_COSTLY = """
query { records(first: 100) { edges { node {
  parties { person { name } }
  linkedRecords { record { parties { person { name } } region { name } } }
} } } }
"""
QUERY_COSTLY_BY_VARIABLE = """
query($n: Int) { records(first: $n) { edges { node { linkedRecords { record {
  linkedRecords { record { parties { name } } } } } } } } }
"""
QUERY_PARTIES = "query { records(first: 5) { edges { node { parties { name } } } } }"
QUERY_INTROSPECTION = "query { __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }"  # noqa: E501 -- one document


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_world(committing_engine, records=10)
    async with graphql_client(committing_engine, pii_key) as client:
        yield client
    await unlink_regions(committing_engine)


@pytest.mark.parametrize(
    ("variables", "why"),
    [
        ({"first": 101}, "over the page limit"),
        ({"first": -1}, "negative"),
        ({"after": "not a cursor"}, "not base64 json"),
        ({"after": "WyJyMSIsIk9DQ1VSUkVEX0FUX0FTQyIsIjIwMjYtMDMtMDFUMTI6MDA6MDArMDA6MDAiLDFd"},
         "a cursor of another order"),
        ({"after": "WzFd"}, "json, but not a cursor"),
    ],
)  # fmt: skip
async def test_bad_page_arguments_are_bad_user_input(
    client: httpx.AsyncClient, variables: dict[str, object], why: str
) -> None:
    body = await graphql(client, QUERY_PAGE, variables)
    assert body["data"] is None or body["data"]["records"] is None, why
    assert codes(body) == ["BAD_USER_INPUT"], why


@pytest.mark.parametrize(
    "record_filter",
    [
        {"region": "41 12"},
        {"occurredFrom": "2026-03-01T00:00:00"},
        {"occurredFrom": "2026-03-02T00:00:00+08:00", "occurredTo": "2026-03-01T00:00:00+08:00"},
        {"search": "x" * 101},
    ],
)
async def test_bad_filters_are_bad_user_input(
    client: httpx.AsyncClient, record_filter: dict[str, object]
) -> None:
    body = await graphql(client, QUERY_FILTERED, {"filter": record_filter})
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_malformed_ids_are_bad_user_input_and_unknown_ones_not_found(
    client: httpx.AsyncClient,
) -> None:
    malformed = await graphql(client, QUERY_NODE, {"id": "%%%"})
    wrong_type = await graphql(client, QUERY_NODE, {"id": "UmVnaW9uOjE="})  # Region:1
    unknown_person = await graphql(client, QUERY_PERSON, {"id": "UGVyc29uOjk5OTk5"})
    unknown_region = await graphql(client, QUERY_REGION)
    assert codes(malformed) == ["BAD_USER_INPUT"]
    assert codes(wrong_type) == ["BAD_USER_INPUT"]
    assert codes(unknown_person) == ["NOT_FOUND"]
    assert unknown_person["data"]["person"] is None
    assert codes(unknown_region) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (QUERY_DEEP, {}),
        (QUERY_ALIASES, {}),
        (QUERY_TOKENS, {}),
        (QUERY_COSTLY, {}),
        (QUERY_COSTLY_BY_VARIABLE, {"n": 100}),
    ],
    ids=["depth", "aliases", "tokens", "cost", "cost-from-variables"],
)
async def test_over_limit_documents_are_refused_before_execution(
    client: httpx.AsyncClient, query: str, variables: dict[str, object]
) -> None:
    body = await graphql(client, query, variables)
    assert body.get("data") is None
    assert codes(body) == ["QUERY_TOO_COMPLEX"]


async def test_the_same_document_with_a_small_page_runs(client: httpx.AsyncClient) -> None:
    body = await graphql(client, QUERY_COSTLY_BY_VARIABLE, {"n": 5})
    assert "errors" not in body
    assert len(body["data"]["records"]["edges"]) == 5


async def test_introspection_is_not_limited(client: httpx.AsyncClient) -> None:
    body = await graphql(client, QUERY_INTROSPECTION)
    assert "errors" not in body
    assert body["data"]["__schema"]["types"]


async def test_validation_errors_carry_a_code(client: httpx.AsyncClient) -> None:
    body = await graphql(client, "query { records { nope } }")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


QUERY_OPEN_MATTER = """
mutation Open($input: OpenMatterInput!) { openMatter(input: $input) { __typename } }
"""


async def test_refused_values_are_quoted_with_identifiers_masked(client: httpx.AsyncClient) -> None:
    # given a party whose input misses its role, in a variable and as a literal
    party = {"name": "张三", "idNumber": ID_NUMBER, "phone": PHONE}
    variables = {"input": {"origin": "WALK_IN", "title": "t", "regionCode": "411202",
                           "parties": [party]}}  # fmt: skip
    literal = (
        'mutation { openMatter(input: {origin: WALK_IN, title: "t", regionCode: "411202", '
        f'parties: [{{name: "张三", idNumber: "{ID_NUMBER}", phone: {PHONE}}}]}}) '
        "{ __typename } }"
    )
    for body in [await graphql(client, QUERY_OPEN_MATTER, variables),
                 await graphql(client, literal)]:  # fmt: skip
        # then graphql-core's message says what is wrong, quoting the value masked
        assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}, body
        assert ID_NUMBER not in str(body) and PHONE not in str(body)
    assert "4112**********123X" in str(body) or "138****5678" in str(body)
    # and a request refused before GraphQL quotes no identifier either
    response = await client.post(
        "/graphql", json={"query": "query A { version }", "operationName": PHONE}
    )
    assert response.status_code == 400 and PHONE not in response.text


async def test_unexpected_errors_are_masked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a loader that fails with internals (SQL, a plaintext ID number) in its message
    async def failing(*_args: object) -> list[object]:
        raise RuntimeError(f"SELECT * FROM party_mentions WHERE id_number = '{ID_NUMBER}'")  # noqa: S608 -- a fake leak

    monkeypatch.setattr(Loaders, "_parties", failing)
    # (and the read of a page built as JSON by PostgreSQL, which needs no loader)
    monkeypatch.setattr(resolvers.page_json, "fetch_built", failing)
    # when parties are read
    body = await graphql(client, QUERY_PARTIES)
    # then the client sees a coded, generic error and none of the internals
    assert set(codes(body)) == {"INTERNAL_SERVER_ERROR"}
    assert {error["message"] for error in body["errors"]} == {"Unexpected error."}
    assert "SELECT" not in str(body) and ID_NUMBER not in str(body)
