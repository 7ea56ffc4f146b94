"""Before GraphQL: bodies over the cap are refused (413), and unauthenticated callers are
rate-limited per address (429 + Retry-After) before they can write to the audit log."""

from __future__ import annotations

import gzip
import os
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.models import AuditEntry
from domain.roles import Role
from hub.guard import LocalCounter, RedisCounter
from tests.conftest import service_missing
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import graphql_client

QUERY_VERSION = '{"query": "{ version }"}'
JSON = {"content-type": "application/json"}


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def _audit_rows(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@pytest.fixture
async def capped(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key, max_body_bytes=4096) as client:
        yield client


async def test_a_body_over_the_cap_is_refused_with_413(
    capped: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given a document padded with 5,000 characters of variables (cap: 4,096 bytes)
    body = '{"query": "{ version }", "variables": {"pad": "' + "x" * 5000 + '"}}'
    # when it is sent with its length declared, and streamed without one
    declared = await capped.post("/graphql", content=body, headers=JSON)

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000].encode()

    streamed = await capped.post("/graphql", content=stream(), headers=JSON)
    # then both are refused before GraphQL, with a GraphQL-shaped error, and nothing audited
    for response in (declared, streamed):
        assert response.status_code == 413
        assert _code(response) == "PAYLOAD_TOO_LARGE"
    assert await _audit_rows(committing_engine) == 0
    # and a body under the cap is answered
    small = await capped.post("/graphql", content=QUERY_VERSION, headers=JSON)
    assert small.status_code == 200 and small.json()["data"]["version"]


async def test_a_gzip_bomb_is_not_inflated(capped: httpx.AsyncClient) -> None:
    # a body declared gzip is not decoded by the hub: its compressed bytes are what count
    bomb = gzip.compress(b'{"query": "{ version }", "x": "' + b"0" * 10_000_000 + b'"}')
    response = await capped.post(
        "/graphql", content=bomb,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )  # fmt: skip
    assert 400 <= response.status_code < 500


async def test_unauthenticated_attempts_are_limited_per_address(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with graphql_client(
        committing_engine, pii_key, role=None, unauthenticated_per_minute=5
    ) as client:
        # when one address sends 8 requests without a token, and 8 with a forged one
        answers = [
            await client.post("/graphql", content=QUERY_VERSION, headers=JSON | headers)
            for headers in [{}] * 8 + [{"Authorization": "Bearer forged"}] * 8
        ]
        # and then requests with a valid token
        valid = await client.post(
            "/graphql", content=QUERY_VERSION, headers=JSON | bearer(Role.ADMIN)
        )
    # then the first five are answered (UNAUTHENTICATED), the rest refused with Retry-After
    assert [a.status_code == 429 for a in answers] == [False] * 5 + [True] * 11
    for refused in answers[5:]:
        assert _code(refused) == "RATE_LIMITED"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
    for answered in answers[:5]:
        assert answered.status_code < 500
        assert answered.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # and only those five reached the audit log, beside the valid caller's row
    assert await _audit_rows(committing_engine) == 5 + 1
    # and a caller with a valid token is not limited
    assert valid.status_code == 200 and valid.json()["data"]["version"]


async def test_the_local_counter_opens_a_new_window_each_minute() -> None:
    now = [120.0]
    counter = LocalCounter(lambda: now[0])
    assert [await counter.hit("a") for _ in range(3)] == [(1, 60), (2, 60), (3, 60)]
    assert await counter.hit("b") == (1, 60)
    now[0] = 185.0
    assert await counter.hit("a") == (1, 55)


@pytest.mark.redis
async def test_the_redis_counter_is_shared_by_replicas() -> None:
    url = os.environ.get("GOVHUB_TEST_REDIS_URL")
    if not url:
        service_missing("Redis not configured: set GOVHUB_TEST_REDIS_URL")
        return
    probe = Redis.from_url(url)
    try:
        await probe.ping()
    except (OSError, RedisConnectionError) as exc:
        service_missing(f"Redis unreachable at {url}: {exc}")
        return
    finally:
        await probe.aclose()
    first, second = RedisCounter(Redis.from_url(url)), RedisCounter(Redis.from_url(url))
    address = f"test-{secrets.token_hex(4)}"
    try:
        await first.hit(address)
        (count, _), (shared, retry_after) = await first.hit(address), await second.hit(address)
        assert (count, shared) == (2, 3) and 1 <= retry_after <= 60
    finally:
        await first.close()
        await second.close()
