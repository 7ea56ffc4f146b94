"""ID numbers and phones: masked by default; in full only for pii:read with a stated purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import AuditEntry
from domain.roles import PII_SCOPE, Role
from tests.integration.auth_support import token
from tests.integration.graphql_world import codes, graphql_client
from tests.integration.security_world import (
    ID_NUMBERS,
    INSIDE,
    MASKED_ID,
    MASKED_PHONE,
    PHONES,
    seed_security_world,
)

QUERY_PARTIES = "query { disputes(first: 5) { nodes { parties { name idNumber phone } } } }"
QUERY_PERSONS = "query { persons { nodes { idNumber phone } } }"
QUERY_NAMES = "query { disputes(first: 5) { nodes { parties { name } } } }"
PURPOSE = "(2026)豫1202民初1号 核查"


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_security_world(committing_engine)
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        yield client


async def _post(
    client: httpx.AsyncClient, query: str, scopes: list[str], purpose: bytes | None
) -> dict[str, object]:
    headers: dict[str, str | bytes] = {
        "Authorization": f"Bearer {token(Role.PARTNER_POLICE, [INSIDE], scopes)}"
    }
    if purpose is not None:
        headers["X-Purpose"] = purpose  # raw UTF-8 bytes, as a browser or curl sends them
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def _parties(body: dict[str, object]) -> list[dict[str, str]]:
    data = body["data"]
    assert isinstance(data, dict)
    return [party for node in data["disputes"]["nodes"] for party in node["parties"]]


async def test_pii_read_with_a_purpose_sees_identifiers_in_full(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    body = await _post(client, QUERY_PARTIES, [PII_SCOPE], PURPOSE.encode())
    assert _parties(body) == [
        {"name": "张三", "idNumber": ID_NUMBERS[INSIDE], "phone": PHONES[INSIDE]}
    ]
    persons = await _post(client, QUERY_PERSONS, [PII_SCOPE], PURPOSE.encode())
    assert persons["data"] == {"persons": {"nodes": [
        {"idNumber": ID_NUMBERS[INSIDE], "phone": PHONES[INSIDE]}]}}  # fmt: skip
    # and the purpose is on the record, beside the records read
    async with committing_engine.connect() as connection:
        # The first operation's row (by id: after earlier tests' DELETEs, heap order is not
        # insertion order on PostgreSQL).
        purpose, record_ids = (
            await connection.execute(
                select(AuditEntry.purpose, AuditEntry.record_ids).order_by(AuditEntry.id).limit(1)
            )
        ).one()
    assert (purpose, record_ids) == (PURPOSE, [1])


@pytest.mark.parametrize("purpose", [None, b"   ", b"abc", b"x" * 201])
async def test_pii_read_without_a_purpose_is_refused(
    client: httpx.AsyncClient, purpose: bytes | None
) -> None:
    body = await _post(client, QUERY_PARTIES, [PII_SCOPE], purpose)
    assert codes(body) == ["PURPOSE_REQUIRED"] and body["data"] is None


async def test_pii_read_without_a_purpose_may_still_read_names(client: httpx.AsyncClient) -> None:
    body = await _post(client, QUERY_NAMES, [PII_SCOPE], None)
    assert "errors" not in body and _parties(body) == [{"name": "张三"}]


async def test_a_purpose_without_pii_read_stays_masked(client: httpx.AsyncClient) -> None:
    body = await _post(client, QUERY_PARTIES, [], PURPOSE.encode())
    assert _parties(body) == [
        {"name": "张三", "idNumber": MASKED_ID[INSIDE], "phone": MASKED_PHONE[INSIDE]}
    ]
