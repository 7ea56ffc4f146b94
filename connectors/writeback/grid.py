"""交办 to the grid platform: ``POST /api/v2/assignments`` with the write's reference as
``bizNo``; no idempotency, so an unknown outcome is settled by ``GET ?bizNo=`` first."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.auth import BearerToken
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import SourceResponseError
from connectors.http import SourceClient
from connectors.writeback.base import Delivery, clients, json_object
from db.outbox import ClaimedWrite
from domain.enums import SourceSystem

PATH = "/api/v2/assignments"
GRID = SourceSystem.GRID


def _delivery(assignment: Any) -> Delivery:
    if not isinstance(assignment, dict) or not assignment.get("assignNo"):
        raise SourceResponseError(GRID, f"{PATH}: no assignNo in the answer")
    return Delivery(str(assignment["assignNo"]),
                    {k: assignment[k] for k in ("assignNo", "status", "assignedAt")
                     if k in assignment})


class GridAssignWriter:
    target = GRID
    idempotent = False

    def __init__(self, send: SourceClient, read: SourceClient) -> None:
        self.send_client, self.read_client = send, read

    async def send(self, write: ClaimedWrite) -> Delivery:
        response = await self.send_client.request(
            "POST", PATH, json={**write.payload, "bizNo": write.reference})
        return _delivery(json_object(response, GRID, PATH).get("data"))

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        response = await self.read_client.request("GET", PATH, params={"bizNo": write.reference})
        found = json_object(response, GRID, PATH).get("data")
        if not isinstance(found, list):
            raise SourceResponseError(GRID, f"{PATH}: lookup answer is not a list")
        return _delivery(found[0]) if found else None


def build(config: SourceConfig, http: httpx.AsyncClient,
          breaker: CircuitBreaker) -> GridAssignWriter:
    auth = BearerToken(config.credential(GRID, "token"))
    return GridAssignWriter(*clients(GRID, config, http, breaker, auth, idempotent=False))
