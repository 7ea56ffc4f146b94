"""The grid platform: 交办 (``POST /api/v2/assignments``, the write's reference as ``bizNo``;
read back by ``GET ?bizNo=``) and 处置反馈 on an event (``POST /api/v2/events/{eventNo}/feedback``,
the reference as ``refNo``; read back in ``GET /api/v2/events/{eventNo}``'s ``feedbacks``).
Neither is idempotent, so an unknown outcome is settled by the read first."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from connectors.auth import BearerToken
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import SourceRequestRejected, SourceResponseError
from connectors.http import SourceClient, raise_for_source_status
from connectors.writeback.base import Delivery, clients, json_object
from db.outbox import ClaimedWrite
from domain.enums import SourceSystem
from domain.writeback import WriteOperation

PATH = "/api/v2/assignments"
EVENT_PATH = "/api/v2/events/{}"
GRID = SourceSystem.GRID


def _delivery(assignment: Any) -> Delivery:
    if not isinstance(assignment, dict) or not assignment.get("assignNo"):
        raise SourceResponseError(GRID, f"{PATH}: no assignNo in the answer")
    return Delivery(str(assignment["assignNo"]),
                    {k: assignment[k] for k in ("assignNo", "status", "assignedAt")
                     if k in assignment})


def _event_lookup_status(response: httpx.Response, who: SourceSystem) -> None:
    """A 404 on the event is an answer: no feedback can be on an event the grid does not hold."""
    if response.status_code != 404:
        raise_for_source_status(response, who)


class GridWriter:
    target = GRID
    idempotent = False

    def __init__(self, send: SourceClient, read: SourceClient) -> None:
        self.send_client, self.read_client = send, read

    async def send(self, write: ClaimedWrite) -> Delivery:
        if write.operation is WriteOperation.GRID_FEEDBACK:
            return await self._feedback(write)
        response = await self.send_client.request(
            "POST", PATH, json={**write.payload, "bizNo": write.reference})
        return _delivery(json_object(response, GRID, PATH).get("data"))

    async def _feedback(self, write: ClaimedWrite) -> Delivery:
        event_no = str(write.payload.get("eventNo") or "")
        if not event_no:
            raise SourceRequestRejected(GRID, "a feedback needs eventNo")
        body = {k: v for k, v in write.payload.items() if k != "eventNo"}
        path = f"{EVENT_PATH.format(quote(event_no, safe=''))}/feedback"
        response = await self.send_client.request(
            "POST", path, json={**body, "refNo": write.reference})
        answer = json_object(response, GRID, path)
        return Delivery(None, {k: answer[k] for k in ("eventNo", "version") if k in answer})

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        if write.operation is WriteOperation.GRID_FEEDBACK:
            event_no = str(write.payload.get("eventNo") or "")
            if not event_no:
                return None  # never sent (``send`` refuses it); the path would be the listing
            path = EVENT_PATH.format(quote(event_no, safe=""))
            response = await self.read_client.request("GET", path, check=_event_lookup_status)
            if response.status_code == 404:
                return None  # the resend meets the grid's refusal and fails with its reason
            event = json_object(response, GRID, path)
            feedbacks = (event.get("data") or {}).get("feedbacks") or []
            if any(isinstance(f, dict) and f.get("refNo") == write.reference
                   for f in feedbacks):
                return Delivery(None, {"eventNo": write.payload.get("eventNo")})
            return None
        response = await self.read_client.request("GET", PATH, params={"bizNo": write.reference})
        found = json_object(response, GRID, PATH).get("data")
        if not isinstance(found, list):
            raise SourceResponseError(GRID, f"{PATH}: lookup answer is not a list")
        return _delivery(found[0]) if found else None


def build(config: SourceConfig, http: httpx.AsyncClient,
          breaker: CircuitBreaker) -> GridWriter:
    auth = BearerToken(config.credential(GRID, "token"))
    return GridWriter(*clients(GRID, config, http, breaker, auth, idempotent=False))
