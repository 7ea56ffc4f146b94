"""Hardening: prod hides the schema, persisted documents for locked roles, metrics, budgets."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.roles import Role
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import codes, graphql, graphql_client
from tests.integration.security_world import INSIDE, seed_security_world

QUERY_INTROSPECTION = "query { __schema { queryType { name } } }"
QUERY_TYPE = 'query { __type(name: "Query") { name } }'
QUERY_ALERTS = "query Alerts { policeAlerts(first: 10) { totalCount nodes { alertNumber } } }"
ALERTS_HASH = hashlib.sha256(QUERY_ALERTS.encode()).hexdigest()
QUERY_PAGE = "query($first: Int) { records(first: $first) { nodes { id } } }"
# Cost 2,440 at depth 6: over a dashboard's budget (1,000), within staff's (10,000).
# Over a dashboard's budget (1,000), within staff's (10,000): an unpaged list three deep.
QUERY_COSTLY_FIGURES = (
    "query { recordStats(groupBy: [REGION]) { key { region { children { children { name } } } } } }"
)
QUERY_COSTLY = "query { records(first: 20) { nodes { linkedRecords { record { linkedRecords { linkKind } } } } } }"  # noqa: E501 -- one document


@pytest.fixture
async def prod(committing_engine: AsyncEngine, pii_key: bytes) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key, env="prod") as client:
        yield client


@pytest.fixture
async def persisted(
    committing_engine: AsyncEngine, pii_key: bytes, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_security_world(committing_engine)
    documents = tmp_path / "documents.json"
    documents.write_text(json.dumps({ALERTS_HASH: QUERY_ALERTS}), encoding="utf-8")
    async with graphql_client(
        committing_engine, pii_key, role=None, persisted_documents=documents,
        persisted_roles="partner_police,partner_court",
    ) as client:  # fmt: skip
        yield client


@pytest.mark.parametrize("query", [QUERY_INTROSPECTION, QUERY_TYPE])
async def test_prod_refuses_introspection(prod: httpx.AsyncClient, query: str) -> None:
    body = await graphql(prod, query)
    assert codes(body) == ["FORBIDDEN"] and body["data"] is None


async def test_prod_serves_no_graphiql(prod: httpx.AsyncClient) -> None:
    response = await prod.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


async def test_dev_allows_introspection(committing_engine: AsyncEngine, pii_key: bytes) -> None:
    async with graphql_client(committing_engine, pii_key) as client:
        body = await graphql(client, QUERY_INTROSPECTION)
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_a_locked_role_may_not_send_an_ad_hoc_document(
    persisted: httpx.AsyncClient,
) -> None:
    body = await graphql(persisted, QUERY_ALERTS, headers=bearer(Role.PARTNER_POLICE, [INSIDE]))
    assert codes(body) == ["PERSISTED_DOCUMENT_REQUIRED"] and body["data"] is None


@pytest.mark.parametrize(
    "payload",
    [
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": ALERTS_HASH}}},
        {"documentId": f"sha256:{ALERTS_HASH}"},
    ],
)
async def test_a_locked_role_runs_a_registered_document_by_hash(
    persisted: httpx.AsyncClient, payload: dict[str, object]
) -> None:
    response = await persisted.post(
        "/graphql", json=payload, headers=bearer(Role.PARTNER_POLICE, [INSIDE])
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["policeAlerts"]["totalCount"] == 1


async def test_an_unknown_hash_is_named(persisted: httpx.AsyncClient) -> None:
    payload = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
    response = await persisted.post("/graphql", json=payload, headers=bearer(Role.PARTNER_COURT))
    assert codes(response.json()) == ["PERSISTED_DOCUMENT_NOT_FOUND"]


async def test_other_roles_still_send_ad_hoc_documents(persisted: httpx.AsyncClient) -> None:
    body = await graphql(persisted, QUERY_ALERTS, headers=bearer(Role.CENTER_STAFF, [INSIDE]))
    assert body["data"]["policeAlerts"]["totalCount"] == 1


async def test_metrics_need_their_token_when_one_is_set(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with graphql_client(committing_engine, pii_key, metrics_token="m" * 24) as client:
        refused = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 24})
    assert (refused.status_code, wrong.status_code, allowed.status_code) == (401, 401, 200)


async def test_metrics_can_be_switched_off(committing_engine: AsyncEngine, pii_key: bytes) -> None:
    async with graphql_client(committing_engine, pii_key, metrics_enabled=False) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_a_dashboard_gets_figures_only_and_a_smaller_budget_than_staff(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        viewer, staff = bearer(Role.DASHBOARD_VIEWER), bearer(Role.CENTER_STAFF)
        big_page = {"first": 50}
        assert codes(await graphql(client, QUERY_PAGE, big_page, viewer)) == ["FORBIDDEN"]
        assert codes(await graphql(client, QUERY_PAGE, big_page, staff)) == []
        assert codes(await graphql(client, QUERY_COSTLY, headers=staff)) == []
        figures = await graphql(client, QUERY_COSTLY_FIGURES, headers=viewer)
        assert codes(figures) == ["QUERY_TOO_COMPLEX"]
        assert codes(await graphql(client, QUERY_COSTLY_FIGURES, headers=staff)) == []


