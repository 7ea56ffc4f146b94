"""The server skeleton: health, readiness, metrics and a real GraphQL query."""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from hub.app import create_app
from hub.settings import Settings
from tests.conftest import service_missing
from tests.integration.auth_support import JWT_SECRET, bearer

QUERY_VERSION = "{ version }"


def _settings(pii_key: bytes) -> Settings:
    return Settings(
        pii_key=base64.urlsafe_b64encode(pii_key).decode(),
        jwt_secret=JWT_SECRET,
        audit_checkpoint_file=None,
    )


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


async def test_readyz_reports_redis_unreachable(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    # given a hub whose Redis (the fan-out between processes) cannot be reached
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = closed.getsockname()[1]
    settings = _settings(pii_key).model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
    app = create_app(settings, engine=committing_engine)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as client:
            response = await client.get("/readyz")
    finally:
        closed.close()
    # then it is not ready: its subscribers would hear nothing, its changes reach no one
    assert response.status_code == 503
    assert response.json()["redis"] == "unreachable"


@pytest.mark.redis
async def test_readyz_reports_redis_reachable(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    url = os.environ.get("GOVHUB_TEST_REDIS_URL")
    if not url:
        service_missing("Redis not configured: set GOVHUB_TEST_REDIS_URL")
        return
    settings = _settings(pii_key).model_copy(update={"redis_url": url})
    app = create_app(settings, engine=committing_engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready", "database": "ok", "migrations": "head", "redis": "ok",
    }


async def test_graphql_answers_version(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY_VERSION}, headers=bearer())
    assert response.status_code == 200
    assert response.json()["data"]["version"]


async def test_graphiql_is_served_in_dev(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    # from govhub's own pinned copies, never a CDN, with a token hint in the header editor
    assert "/graphiql-assets/graphiql.min.js" in response.text
    assert "unpkg.com" not in response.text and "jsdelivr" not in response.text
    assert "govhub token --role" in response.text
    asset = await client.get("/graphiql-assets/react.production.min.js")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")


async def test_metrics_count_requests(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'govhub_http_requests_total{path="/healthz",status="200"}' in response.text


PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


@pytest.mark.parametrize(
    ("env", "origins", "origin", "allowed"),
    [
        ("dev", [], "http://localhost:3000", True),
        ("dev", [], "http://127.0.0.1:5173", True),
        ("dev", [], "https://evil.example", False),
        ("dev", [], "http://localhost.evil.example", False),
        ("prod", [], "http://localhost:3000", False),
        ("prod", ["https://dash.example.gov.cn"], "https://dash.example.gov.cn", True),
        ("prod", ["https://dash.example.gov.cn"], "http://localhost:3000", False),
    ],
)
async def test_cors_preflight_allows_localhost_in_dev_and_the_list_in_prod(
    committing_engine: AsyncEngine,
    pii_key: bytes,
    env: str,
    origins: list[str],
    origin: str,
    allowed: bool,
) -> None:
    settings = _settings(pii_key).model_copy(update={"env": env, "cors_origins": origins})
    app = create_app(settings, engine=committing_engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        response = await client.options("/graphql", headers={**PREFLIGHT, "Origin": origin})
    assert (response.status_code == 200) is allowed, response.text
    assert (response.headers.get("access-control-allow-origin") == origin) is allowed
