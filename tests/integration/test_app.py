"""The server skeleton: health, readiness, metrics and a real GraphQL query."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from hub.app import create_app
from hub.settings import Settings
from tests.integration.auth_support import JWT_SECRET, bearer

QUERY_VERSION = "{ version }"


def _settings(pii_key: bytes) -> Settings:
    return Settings(pii_key=base64.urlsafe_b64encode(pii_key).decode(), jwt_secret=JWT_SECRET)


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    # committing: every GraphQL operation writes (and commits) its audit row
    app = create_app(_settings(pii_key), engine=committing_engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client


async def test_healthz_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_ready_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["migrations"] == "head"


async def test_readyz_reports_pending_migrations(tmp_path: Path, pii_key: bytes) -> None:
    # given a database that was never migrated
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    app = create_app(_settings(pii_key), engine=engine)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as client:
            response = await client.get("/readyz")
    finally:
        await engine.dispose()
    # then the hub says it is not ready, and why
    assert response.status_code == 503
    assert response.json()["database"] == "migrations pending"


async def test_graphql_answers_version(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY_VERSION}, headers=bearer())
    assert response.status_code == 200
    assert response.json()["data"]["version"]


async def test_graphiql_is_served_in_dev(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_metrics_count_requests(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'govhub_http_requests_total{path="/healthz",status="200"}' in response.text
