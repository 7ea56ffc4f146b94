"""Hostile values on the audit path: one caller's bad row never fails anybody else's request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.audit import AuditEvent, ChainTail, verify_chain
from db.engine import session_factory
from db.models import AuditEntry
from domain.roles import Role
from hub.audit import AuditWriter
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import codes, graphql_client
from tests.integration.security_world import INSIDE, seed_security_world

QUERY_VERSION = "{ version }"
QUERY_TITLES = "query Titles { records(first: 5) { nodes { id } } }"
POISON = {"X-Purpose": "%00%00%00%00"}


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_security_world(committing_engine)
    async with graphql_client(
        committing_engine, pii_key, role=None, unauthenticated_per_minute=0
    ) as client:
        yield client


async def _rows(engine: AsyncEngine) -> list[AuditEntry]:
    async with session_factory(engine)() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def _post(
    client: httpx.AsyncClient, query: str, headers: dict[str, str], variables: Any = None
) -> tuple[int, dict[str, Any]]:
    # JSON with \\u escapes, as a hostile client may send (lone surrogates included)
    payload = json.dumps({"query": query, "variables": variables or {}})
    response = await client.post(
        "/graphql", content=payload, headers=headers | {"content-type": "application/json"}
    )
    return response.status_code, response.json()


async def test_nul_purposes_under_load_fail_no_legitimate_request(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given three callers sending NUL bytes (%-encoded) in X-Purpose, with and without a token
    staff = bearer(Role.CENTER_STAFF, [INSIDE])

    async def poison(n: int) -> list[tuple[int, dict[str, Any]]]:
        headers = POISON | (staff if n % 2 else {})
        return [await _post(client, QUERY_VERSION, headers) for _ in range(20)]

    stated = staff | {"X-Purpose": quote("核查 (2026)豫1202民初1号")}

    async def legitimate() -> tuple[int, dict[str, Any]]:
        return await _post(client, QUERY_TITLES, stated)

    # when 200 legitimate requests run at the same time
    results = await asyncio.gather(
        asyncio.gather(*(poison(n) for n in range(3))),
        asyncio.gather(*(legitimate() for _ in range(200))),
    )
    poisoned, answered = results
    # then every legitimate request is answered, with data and no error
    assert all(status == 200 for status, _ in answered)
    assert all("errors" not in body and body["data"]["records"] for _, body in answered)
    # and the hostile ones too, without an internal error
    for status, body in (item for batch in poisoned for item in batch):
        assert status < 500 and "INTERNAL_SERVER_ERROR" not in codes(body)
    # and every one of the 260 is on the record, NUL written out, and the chain verifies
    rows = await _rows(committing_engine)
    assert len(rows) == 260
    purposes = {row.purpose for row in rows if row.operation is None}
    assert purposes == {"\\u0000\\u0000\\u0000\\u0000"}
    async with session_factory(committing_engine)() as session:
        assert await verify_chain(session) == (260, None)


@pytest.mark.parametrize(
    ("headers", "variables"),
    [
        ({"X-Purpose": "%ED%A0%80%ED%A0%80 x"}, {}),  # a lone surrogate, UTF-8-encoded
        ({}, {"s": "\x00" * 10, "k\x00": ["\ud800"], "n": 10**40}),
        ({"X-Purpose": "a" * 150 + "%00" * 50}, {"deep": [[[[[[[[[[["x"]]]]]]]]]]]}),
    ],
    ids=["surrogate-header", "nul-variables", "long-and-deep"],
)
async def test_unstorable_values_are_written_out_not_refused(
    client: httpx.AsyncClient,
    committing_engine: AsyncEngine,
    headers: dict[str, str],
    variables: dict[str, Any],
) -> None:
    status, body = await _post(
        client, "query Op { version }", headers | bearer(Role.CENTER_STAFF), variables
    )
    # the request is answered (refused as BAD_USER_INPUT when its variables hold such text)
    assert status == 200 and "INTERNAL_SERVER_ERROR" not in codes(body)
    # and its audit row is written, with that text escaped
    [row] = await _rows(committing_engine)
    stored = f"{row.purpose}{row.variables}{row.operation}"
    assert "\x00" not in stored
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in stored)


async def test_a_row_that_cannot_be_stored_fails_only_its_own_request(
    committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a database that refuses one particular row (whatever the reason)
    from hub import audit

    original = audit.append_events

    async def refuse_poison(session: AsyncSession, events: list[AuditEvent]) -> Any:
        if any(event.operation == "Poison" for event in events):
            raise ValueError("refused")
        return await original(session, events)

    direct = audit.append_after

    async def refuse_poison_directly(
        connection: Any, events: list[AuditEvent], tail: ChainTail
    ) -> Any:
        if any(event.operation == "Poison" for event in events):
            raise ValueError("refused")
        return await direct(connection, events, tail)

    monkeypatch.setattr("hub.audit.append_events", refuse_poison)
    monkeypatch.setattr("hub.audit.append_after", refuse_poison_directly)
    writer = AuditWriter(session_factory(committing_engine))
    writer.start()
    try:
        # when it arrives in the same batch as nine good rows
        events = [_event("Poison" if n == 4 else f"Op{n}") for n in range(10)]
        results = await asyncio.gather(
            *(writer.record(event) for event in events), return_exceptions=True
        )
    finally:
        await writer.stop()
    # then only its own caller learns of the failure; the nine others are committed
    assert [isinstance(result, Exception) for result in results] == [n == 4 for n in range(10)]
    rows = await _rows(committing_engine)
    assert [row.operation for row in rows] == [f"Op{n}" for n in range(10) if n != 4]


def _event(operation: str) -> AuditEvent:
    from datetime import UTC, datetime

    return AuditEvent(
        principal="u", role="center_staff", org=None, operation=operation, document_hash=None,
        variables=None, record_ids=None, purpose=None, outcome="OK", duration_ms=1.0,
        occurred_at=datetime.now(UTC),
    )  # fmt: skip
