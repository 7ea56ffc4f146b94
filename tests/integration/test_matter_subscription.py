"""``matterEvents`` over a real WebSocket: a partner hears only the matters dispatched to its
organisation, staff only those in their jurisdiction, and a dashboard is refused."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import MATTERS_CHANNEL, MatterAnnouncement, MatterEventKind, matter_message
from domain.roles import Role
from tests.integration.auth_support import token
from tests.integration.test_graphql_matters import (
    MUTATION_ADMIT,
    MUTATION_ASSESS,
    MUTATION_DISPATCH,
    MUTATION_OPEN,
    RESULT,
)
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
MUTATION_REDISPATCH = f"""
mutation($id: ID!, $org: String!) {{ redispatchMatter(id: $id, input: {{org: $org,
  track: PEOPLES_MEDIATION, reason: "改派"}}) {{ {RESULT} }} }}
"""
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


async def test_the_organisation_a_matter_is_taken_from_hears_it(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    """改派 (REDISPATCH) takes the matter from one organisation to another: the first hears
    it too, so its worklist drops the matter and an open page says it changed."""
    async with running_hub(committing_engine, pii_key, scan_deadlines=False) as (url, state):
        http = url.replace("ws://", "http://")
        staff = {"Authorization": f"Bearer {token(Role.CENTER_STAFF, [INSIDE], sub='staff-1')}"}

        async def ask(document: str, **variables: object) -> dict[str, Any]:
            async with httpx.AsyncClient() as client:
                body = (await client.post(http, json={"query": document, "variables": variables},
                                          headers=staff)).json()  # fmt: skip
            assert "errors" not in body, body
            (result,) = body["data"].values()
            return dict(result)

        opened = await ask(MUTATION_OPEN, input={
            "origin": "WALK_IN", "title": "改派", "regionCode": INSIDE + "001"})  # fmt: skip
        gid = opened["matter"]["id"]
        await ask(MUTATION_ADMIT, id=gid)
        await ask(MUTATION_ASSESS, id=gid)
        await ask(MUTATION_DISPATCH, id=gid, org=ORG)
        partner = await _connect(
            url, {"Authorization": f"Bearer {token(Role.MEDIATOR, [OUTSIDE], org=ORG)}"}
        )
        try:
            assert json.loads(await partner.recv())["type"] == "connection_ack"
            await _subscribe(partner, {})
            await _until(lambda: len(getattr(state.bus, "_queues", {}).get(MATTERS_CHANNEL, ())))
            await ask(MUTATION_REDISPATCH, id=gid, org="org:tjw-huibin-002")
            heard = await _next(partner)
            assert (heard["matterId"], heard["detail"]) == (gid, "REDISPATCH")
        finally:
            await partner.close()
