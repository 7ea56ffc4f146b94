"""``matterEvents`` over a real WebSocket: a partner hears only the matters dispatched to its
organisation, staff only those in their jurisdiction, and a dashboard is refused."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import MATTERS_CHANNEL, MatterAnnouncement, MatterEventKind, matter_message
from domain.roles import Role
from tests.integration.auth_support import token
from tests.integration.test_subscriptions import (
    INSIDE,
    OUTSIDE,
    _connect,
    _until,
    running_hub,
)

EVENTS = """
subscription Events($kinds: [MatterEventKind!]) {
  matterEvents(kinds: $kinds) { matterId kind step regionCode detail }
}
"""
ORG = "org:tjw-huibin-001"
AT = datetime(2025, 3, 3, 2, tzinfo=UTC)


def _event(matter_id: int, region: str, org: str | None,
           kind: MatterEventKind = MatterEventKind.STEP_CHANGED) -> MatterAnnouncement:
    return MatterAnnouncement(matter_id, kind, "DISPATCHED", region, org, "DISPATCH", AT)


async def _subscribe(ws: Any, variables: dict[str, object]) -> None:
    message = {"query": EVENTS, "variables": variables, "operationName": "Events"}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": message}))


async def _next(ws: Any) -> dict[str, object]:
    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["type"] == "next", message
    data: dict[str, object] = message["payload"]["data"]["matterEvents"]
    return data


async def test_partners_and_staff_hear_only_their_matters(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with running_hub(committing_engine, pii_key, scan_deadlines=False) as (url, state):
        bus = state.bus
        assert bus is not None

        def listeners() -> int:
            return len(getattr(bus, "_queues", {}).get(MATTERS_CHANNEL, ()))

        partner = await _connect(
            url, {"Authorization": f"Bearer {token(Role.MEDIATOR, [OUTSIDE], org=ORG)}"}
        )
        staff = await _connect(
            url, {"Authorization": f"Bearer {token(Role.CENTER_STAFF, [INSIDE])}"}
        )
        try:
            for ws in (partner, staff):
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await _subscribe(ws, {})
            await _until(lambda: listeners() == 2)
            await bus.publish(MATTERS_CHANNEL, matter_message([
                _event(1, OUTSIDE + "001", "org:other"),  # neither
                _event(2, INSIDE + "001", None),  # staff only
                _event(3, OUTSIDE + "001", ORG),  # the partner only (dispatched to it)
            ]))  # fmt: skip
            assert (await _next(partner))["matterId"] == "TWF0dGVyOjM="  # Matter:3
            heard = await _next(staff)
            assert heard == {"matterId": "TWF0dGVyOjI=", "kind": "STEP_CHANGED",
                             "step": "DISPATCHED", "regionCode": "411202001",
                             "detail": "DISPATCH"}  # fmt: skip
        finally:
            await partner.close()
            await staff.close()


async def test_a_dashboard_follows_no_matters(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with running_hub(committing_engine, pii_key, scan_deadlines=False) as (url, _state):
        ws = await _connect(
            url, {"Authorization": f"Bearer {token(Role.DASHBOARD_VIEWER, [INSIDE])}"}
        )
        try:
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await _subscribe(ws, {})
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            # refused before it runs, by the field rules (the role reads no matters)
            assert message["type"] == "next" and message["payload"]["data"] is None
            assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        finally:
            await ws.close()
