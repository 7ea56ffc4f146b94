"""``recordChanges`` over a real WebSocket (graphql-transport-ws) against a running server."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import uvicorn
import websockets
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.models import AuditEntry
from domain.enums import RecordChangeKind, RecordKind, SourceSystem
from domain.events import ChangedRecord
from domain.roles import Role
from hub.app import AppState, create_app
from hub.bus import RedisBus, record_announcer
from tests.conftest import service_missing
from tests.integration.auth_support import token
from tests.integration.graphql_world import hub_settings

INSIDE, OUTSIDE = "411202", "510129"
CHANGES = """
subscription Changes($kinds: [RecordKind!], $region: String) {
  recordChanges(kinds: $kinds, region: $region) { recordId kind source regionCode change }
}
"""
PROTOCOL = websockets.Subprotocol("graphql-transport-ws")


def _change(record_id: int, kind: RecordKind, region: str | None) -> ChangedRecord:
    source = {
        RecordKind.DISPUTE: SourceSystem.MEDIATION,
        RecordKind.POLICE_ALERT: SourceSystem.POLICE_110,
        RecordKind.PETITION: SourceSystem.PETITION,
    }[kind]
    return ChangedRecord(record_id, kind, source, region, RecordChangeKind.UPDATED)


@contextlib.asynccontextmanager
async def running_hub(
    engine: AsyncEngine, pii_key: bytes, **settings: Any
) -> AsyncIterator[tuple[str, AppState]]:
    """The app under uvicorn on a free local port; yields its WebSocket URL and state."""
    app = create_app(hub_settings(pii_key, **settings), engine=engine)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    await _until(lambda: server.started)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/graphql", app.state.govhub
    finally:
        server.should_exit = True
        await task


async def _until(condition: Callable[[], object]) -> None:
    """Wait up to 5 s for ``condition`` (a function, plain or async) to hold."""
    for _ in range(500):
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting")


async def _connect(url: str, payload: dict[str, Any], **kwargs: Any) -> Any:
    ws = await websockets.connect(url, subprotocols=[PROTOCOL], **kwargs)
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def _subscribe(ws: Any, op: str, variables: dict[str, Any]) -> None:
    message = {"query": CHANGES, "variables": variables, "operationName": "Changes"}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": message}))


async def _next(ws: Any) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["type"] == "next", message
    data: dict[str, Any] = message["payload"]["data"]["recordChanges"]
    return data


async def _refusal(ws: Any, op: str) -> list[dict[str, Any]]:
    """The errors of operation ``op``'s answer (an ``error`` message, or a ``next`` carrying
    errors)."""
    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["id"] == op and message["type"] in {"error", "next"}, message
    payload = message["payload"]
    errors: list[dict[str, Any]] = payload if isinstance(payload, list) else payload["errors"]
    return errors


def _local_subscribers(state: AppState) -> int:
    return len(getattr(state.bus, "_queues", {}).get("records", ()))


async def _audit_rows(engine: AsyncEngine) -> list[AuditEntry]:
    async with session_factory(engine)() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_a_subscriber_hears_only_changes_within_its_kinds_and_jurisdiction(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with running_hub(committing_engine, pii_key) as (url, state):
        assert state.bus is not None
        announce = record_announcer(state.bus)
        bearer = f"Bearer {token(Role.PARTNER_POLICE, [INSIDE], sub='police-7')}"
        ws = await _connect(url, {"Authorization": bearer})
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await _subscribe(ws, "1", {})
            await _until(lambda: _local_subscribers(state) == 1)
            # when a sync announces changes inside and outside what the police may read
            await announce(
                SourceSystem.PETITION,
                [
                    _change(1, RecordKind.PETITION, INSIDE + "001"),  # a kind police do not read
                    _change(2, RecordKind.POLICE_ALERT, OUTSIDE),  # outside the jurisdiction
                    _change(3, RecordKind.DISPUTE, None),  # no region: admin only
                    _change(4, RecordKind.DISPUTE, INSIDE + "001"),
                    _change(5, RecordKind.POLICE_ALERT, INSIDE),
                ],
            )
            # then only the two inside, of kinds it reads, arrive, in order, with no personal data
            assert await _next(ws) == {
                "recordId": "RGlzcHV0ZTo0",  # Dispute:4
                "kind": "DISPUTE",
                "source": "MEDIATION",
                "regionCode": "411202001",
                "change": "UPDATED",
            }
            assert (await _next(ws))["recordId"] == "UG9saWNlQWxlcnQ6NQ=="  # PoliceAlert:5
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            # and a second subscription on the same connection narrows to alerts of one region
            await _until(lambda: _local_subscribers(state) == 0)
            await _subscribe(ws, "2", {"kinds": ["POLICE_ALERT"], "region": INSIDE})
            await _until(lambda: _local_subscribers(state) == 1)
            await announce(
                SourceSystem.POLICE_110,
                [
                    _change(6, RecordKind.DISPUTE, INSIDE),
                    _change(7, RecordKind.POLICE_ALERT, INSIDE),
                ],
            )
            assert (await _next(ws))["recordId"] == "UG9saWNlQWxlcnQ6Nw=="  # PoliceAlert:7
            await ws.send(json.dumps({"id": "2", "type": "complete"}))
        finally:
            await ws.close()
        # and each subscription is one audited operation, by its subscriber, naming no records
        await _until(lambda: _rows_count(committing_engine, 2))
    rows = await _audit_rows(committing_engine)
    assert [(r.principal, r.role, r.operation, r.outcome) for r in rows] == [
        ("police-7", "partner_police", "Changes", "OK"),
        ("police-7", "partner_police", "Changes", "OK"),
    ]
    assert [(r.record_ids, r.person_ids) for r in rows] == [(None, None), (None, None)]
    assert rows[1].variables["preview"] == {"kinds": ["POLICE_ALERT"], "region": INSIDE}


RISK_ALERTS = "subscription Alerts { riskAlerts(atLeast: YELLOW) { targetId regionCode } }"


@pytest.mark.parametrize("role", [Role.DASHBOARD_VIEWER, Role.AUDITOR])
async def test_a_role_reading_no_records_follows_no_record(
    committing_engine: AsyncEngine, pii_key: bytes, role: Role
) -> None:
    # each event names one record and its place down to the grid: a dashboard, which reads
    # figures only (small counts suppressed), follows neither changes nor risk alerts
    async with running_hub(committing_engine, pii_key) as (url, state):
        ws = await _connect(url, {"Authorization": f"Bearer {token(role, [INSIDE])}"})
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for op, document in [("1", CHANGES), ("2", RISK_ALERTS)]:
                await ws.send(json.dumps(
                    {"id": op, "type": "subscribe", "payload": {"query": document}}
                ))  # fmt: skip
                errors = await _refusal(ws, op)
                assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], errors
                assert _local_subscribers(state) == 0
        finally:
            await ws.close()


async def test_a_kind_the_role_does_not_read_is_refused_not_streamed_empty(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    # police read disputes and alerts, not petitions: asking for petitions is an error, as
    # ``records(filter: {kind: [PETITION]})`` is, not a subscription that never hears anything
    async with running_hub(committing_engine, pii_key) as (url, state):
        bearer = f"Bearer {token(Role.PARTNER_POLICE, [INSIDE])}"
        ws = await _connect(url, {"Authorization": bearer})
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await _subscribe(ws, "1", {"kinds": ["POLICE_ALERT", "PETITION"]})
            errors = await _refusal(ws, "1")
            assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], errors
            assert "PETITION" in errors[0]["message"]
            assert "POLICE_ALERT" not in errors[0]["message"]
            assert _local_subscribers(state) == 0
        finally:
            await ws.close()


async def _rows_count(engine: AsyncEngine, n: int) -> bool:
    return len(await _audit_rows(engine)) >= n


@pytest.mark.parametrize(
    "payload", [{}, {"Authorization": "Bearer not-a-token"}], ids=["no-token", "bad-token"]
)
async def test_a_connection_without_a_valid_token_is_closed_before_any_operation(
    committing_engine: AsyncEngine, pii_key: bytes, payload: dict[str, str]
) -> None:
    async with running_hub(committing_engine, pii_key) as (url, _state):
        ws = await _connect(url, payload)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        await ws.close()


@pytest.mark.parametrize("frame", ["not json", "5", '"text"', "[1, 2", "[1, 2]", "[]", "null"])
async def test_a_message_that_is_not_a_json_object_closes_the_socket_with_4400(
    committing_engine: AsyncEngine, pii_key: bytes, frame: str
) -> None:
    headers = {"Authorization": f"Bearer {token(Role.CENTER_STAFF, [INSIDE])}"}
    async with running_hub(committing_engine, pii_key) as (url, _state):
        ws = await _connect(url, {}, additional_headers=headers)
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(frame)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
        finally:
            await ws.close()


async def test_errors_over_the_websocket_carry_their_codes(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    headers = {"Authorization": f"Bearer {token(Role.CENTER_STAFF, [INSIDE])}"}
    async with running_hub(committing_engine, pii_key) as (url, _state):
        ws = await _connect(url, {}, additional_headers=headers)
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            # (a document that does not parse closes the socket: 4400, as the protocol says)
            for op, document in [("1", "subscription { nope { id } }"),
                                 ("2", "subscription { recordChanges { id nope } }")]:
                await ws.send(json.dumps(
                    {"id": op, "type": "subscribe", "payload": {"query": document}}
                ))
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert message["type"] == "error" and message["id"] == op, message
                codes = {error["extensions"]["code"] for error in message["payload"]}
                assert codes == {"GRAPHQL_VALIDATION_FAILED"}, message
        finally:
            await ws.close()


async def test_the_token_may_come_on_the_upgrade_request_instead(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    headers = {"Authorization": f"Bearer {token(Role.CENTER_STAFF, [INSIDE])}"}
    async with running_hub(committing_engine, pii_key) as (url, state):
        assert state.bus is not None
        ws = await _connect(url, {}, additional_headers=headers)
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await _subscribe(ws, "1", {"region": "bad code!"})
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["type"] == "next"  # a refused subscription answers one error result
            assert message["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        finally:
            await ws.close()


@pytest.mark.redis
async def test_changes_reach_subscribers_of_another_process_through_redis(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    redis_url = os.environ.get("GOVHUB_TEST_REDIS_URL")
    if not redis_url:
        service_missing("Redis not configured: set GOVHUB_TEST_REDIS_URL")
        return
    # given a serving hub on Redis, a sync of the same deployment publishing through its own
    # connection, and one of another deployment (another database) on the same Redis
    probe: Redis = Redis.from_url(redis_url)
    try:
        async with running_hub(committing_engine, pii_key, redis_url=redis_url) as (url, state):
            namespace = state.settings.bus_namespace()
            other = state.settings.model_copy(
                update={"database_url": "postgresql+asyncpg://govhub@db/another_city"}
            )
            assert other.bus_namespace() != namespace
            sync_bus = RedisBus(redis_url, namespace)
            other_bus = RedisBus(redis_url, other.bus_namespace())
            bearer = f"Bearer {token(Role.CENTER_STAFF, [INSIDE])}"
            ws = await _connect(url, {"Authorization": bearer})
            try:
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await _subscribe(ws, "1", {})

                async def listening() -> bool:
                    counts = await probe.pubsub_numsub(f"{namespace}:records")
                    return bool(counts and counts[0][1] >= 1)

                await _until(listening)
                # when both syncs announce a change
                await record_announcer(other_bus)(
                    SourceSystem.MEDIATION, [_change(8, RecordKind.DISPUTE, INSIDE)]
                )
                await record_announcer(sync_bus)(
                    SourceSystem.MEDIATION, [_change(9, RecordKind.DISPUTE, INSIDE)]
                )
                # then the subscriber hears its own deployment's (Dispute:9), not the other's
                assert (await _next(ws))["recordId"] == "RGlzcHV0ZTo5"
            finally:
                await ws.close()
                await sync_bus.close()
                await other_bus.close()
    finally:
        await probe.aclose()


async def test_a_subscriber_that_just_disconnects_is_still_on_the_record(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with running_hub(committing_engine, pii_key) as (url, state):
        bearer = f"Bearer {token(Role.CENTER_STAFF, [INSIDE], sub='staff-3')}"
        ws = await _connect(url, {"Authorization": bearer})
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await _subscribe(ws, "1", {})
        await _until(lambda: _local_subscribers(state) == 1)
        await ws.close()  # no "complete": the connection simply goes away
        await _until(lambda: _rows_count(committing_engine, 1))
    [row] = await _audit_rows(committing_engine)
    assert (row.principal, row.operation, row.outcome) == ("staff-3", "Changes", "OK")


async def test_a_socket_is_closed_when_its_token_expires(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with running_hub(committing_engine, pii_key) as (url, state):
        assert state.bus is not None
        announce = record_announcer(state.bus)
        # given a subscriber whose token lives 2 seconds
        short = f"Bearer {token(Role.PARTNER_POLICE, [INSIDE], sub='police-9', ttl_seconds=2)}"
        ws = await _connect(url, {"Authorization": short})
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await _subscribe(ws, "1", {})
            await _until(lambda: _local_subscribers(state) == 1)
            # when a change comes before expiry, it is heard
            await announce(SourceSystem.MEDIATION, [_change(4, RecordKind.DISPUTE, INSIDE)])
            assert (await _next(ws))["recordId"] == "RGlzcHV0ZTo0"
            # then at expiry the socket is closed with 4403, and no later change is delivered
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    assert message["type"] != "next", message
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
            assert closed.value.rcvd.reason == "token expired"
        finally:
            await ws.close()
        # and the closing is on the record, beside the subscription's own row

        async def both_written() -> bool:
            return len(await _audit_rows(committing_engine)) == 2

        await _until(both_written)
        rows = await _audit_rows(committing_engine)
        closing = [row for row in rows if row.operation == "websocket token expired"]
        assert [(row.principal, row.outcome) for row in closing] == [
            ("police-9", "UNAUTHENTICATED")
        ]
        assert any(row.operation == "Changes" for row in rows)


async def test_an_operation_sent_after_expiry_is_refused(
    committing_engine: AsyncEngine, pii_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_hub(committing_engine, pii_key) as (url, _state):
        # given a socket whose token expires, and whose closing is late (a busy server)
        monkeypatch.setattr("hub.app.GovhubGraphQL._close_at_expiry", lambda *_: None)
        short = f"Bearer {token(Role.PARTNER_POLICE, [INSIDE], ttl_seconds=1)}"
        ws = await _connect(url, {"Authorization": short})
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await asyncio.sleep(1.5)
            # when a query is sent after expiry, it is refused UNAUTHENTICATED
            query = {"query": "{ version }"}
            await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": query}))
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["type"] in {"next", "error"}
            payload = message["payload"]
            errors = payload.get("errors", []) if isinstance(payload, dict) else payload
            assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
        finally:
            await ws.close()
