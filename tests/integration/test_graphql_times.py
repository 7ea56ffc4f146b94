"""Times over GraphQL are Beijing times: a date-only source field keeps its date, every
``DateTime`` carries ``+08:00``, and filters take a plain date as a Beijing day."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import mediation
from domain.enums import SourceSystem
from domain.roles import Role
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.graphql_world import graphql, graphql_client
from tests.integration.sandbox_sync import Harness

SYSTEM = SourceSystem.MEDIATION
BEIJING_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$")

QUERY_DISPUTES = """
query Disputes($filter: RecordFilter) {
  disputes(first: 100, filter: $filter) {
    totalCount
    nodes { sourceKey occurredAt occurredOn reportedAt reportedOn sourceUpdatedAt updatedAt }
  }
}
"""


@pytest.fixture
async def harness(committing_engine: AsyncEngine) -> AsyncIterator[Harness]:
    async with (
        Sandbox(SandboxConfig(base_port=0, scale=300, profile="clean")) as sandbox,
        httpx.AsyncClient(base_url=sandbox.urls[SYSTEM]) as http,
    ):
        harness = Harness(sandbox, SYSTEM, http, committing_engine, mediation)
        result = await harness.sync(page_size=200)
        assert result.ok, result.error
        yield harness


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes, harness: Harness
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(
        committing_engine, pii_key, role=Role.ADMIN, regions=["411200", "510100"]
    ) as client:
        yield client


async def _disputes(client: httpx.AsyncClient, **filter_: Any) -> dict[str, Any]:
    body = await graphql(client, QUERY_DISPUTES, {"filter": filter_ or None})
    assert "errors" not in body, body
    disputes: dict[str, Any] = body["data"]["disputes"]
    return disputes


def _source_day(text: str) -> date:
    return datetime.strptime(text, "%Y/%m/%d").date()  # the mediation platform's 2026/08/17


async def test_a_date_only_source_field_keeps_its_beijing_date(
    client: httpx.AsyncClient, harness: Harness
) -> None:
    # given disputes whose source gives only the date they happened (occurDate 2026/08/17)
    disputes = (await _disputes(client))["nodes"]
    assert len(disputes) > 20
    for node in disputes[:20]:
        payload = (await harness.sandbox_record(node["sourceKey"]))["payload"]
        occurred = _source_day(payload["occurDate"])
        # then the date is served as that same day, and the instant as its Beijing midnight
        assert node["occurredOn"] == occurred.isoformat(), node
        assert node["occurredAt"] == f"{occurred.isoformat()}T00:00:00+08:00", node
        if payload.get("acceptDate"):
            accepted = _source_day(payload["acceptDate"]).isoformat()
            assert (node["reportedOn"], node["reportedAt"]) == (
                accepted, f"{accepted}T00:00:00+08:00",
            )  # fmt: skip


async def test_every_datetime_carries_the_beijing_offset(client: httpx.AsyncClient) -> None:
    disputes = (await _disputes(client))["nodes"]
    times = [
        node[name]
        for node in disputes
        for name in ("occurredAt", "reportedAt", "sourceUpdatedAt", "updatedAt")
        if node[name] is not None
    ]
    assert times and all(BEIJING_OFFSET.match(value) for value in times), times[:5]


async def test_a_plain_date_filters_by_beijing_day(client: httpx.AsyncClient) -> None:
    # given the day most disputes happened on
    disputes = (await _disputes(client))["nodes"]
    days = [node["occurredOn"] for node in disputes]
    busiest = max(set(days), key=days.count)
    next_day = (date.fromisoformat(busiest) + timedelta(days=1)).isoformat()

    # when filtering from that date up to the next one, as plain dates
    that_day = await _disputes(client, occurredFrom=busiest, occurredTo=next_day)
    # and with the same bounds written as times with their offset
    explicit = await _disputes(
        client,
        occurredFrom=f"{busiest}T00:00:00+08:00",
        occurredTo=f"{next_day}T00:00:00+08:00",
    )

    # then exactly that Beijing day's disputes come back, either way
    assert that_day["totalCount"] == days.count(busiest) > 0
    assert {node["occurredOn"] for node in that_day["nodes"]} == {busiest}
    assert explicit == that_day
