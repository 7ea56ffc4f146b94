"""网格化服务管理平台 over real HTTP: bearer token, page-number paging, region tree, feedback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.systems.sample import NOW, sample_mutator, sample_world

SYSTEM = SourceSystem.GRID


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        SandboxConfig(base_port=0), sample_world(30), mutator=sample_mutator
    ) as sandbox:
        yield sandbox


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    token = sb.credentials[SYSTEM]["token"]
    async with httpx.AsyncClient(
        base_url=sb.urls[SYSTEM], headers={"Authorization": f"Bearer {token}"}
    ) as c:
        yield c


async def events(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v2/events", params=params)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic Z3JpZDpncmlk"])
async def test_missing_or_wrong_bearer_token_is_rejected(sb: Sandbox, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sb.urls[SYSTEM]}/api/v2/events", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_FAILED"


async def test_pages_are_ordered_by_update_time_then_event_no(
    sb: Sandbox,
    client: httpx.AsyncClient,
) -> None:
    first, second = await events(client, page=1, size=20), await events(client, page=2, size=20)

    expected = [
        r.key for r in sorted(sb.world.records[SYSTEM], key=lambda r: (r.updated_at, r.key))
    ]
    assert first["total"] == 30
    assert [e["eventNo"] for e in first["data"] + second["data"]] == expected


async def test_updated_since_accepts_epoch_ms_and_iso(
    sb: Sandbox,
    client: httpx.AsyncClient,
) -> None:
    pivot = sorted(sb.world.records[SYSTEM], key=lambda r: r.updated_at)[25].updated_at

    by_ms = await events(client, updatedSince=int(pivot.timestamp() * 1000))
    by_iso = await events(client, updatedSince=pivot.isoformat())

    assert by_ms["total"] == by_iso["total"] == 5


async def test_bad_paging_parameter_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/events", params={"size": 1000})

    assert response.status_code == 400


async def test_an_update_time_beyond_any_date_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/events", params={"updatedSince": "9" * 20})

    assert response.status_code == 400


async def test_region_tree_nests_township_village_grid(client: httpx.AsyncClient) -> None:
    tree = (await client.get("/api/v2/grids")).json()["data"]
    flat = (await client.get("/api/v2/grids", params={"flat": "true"})).json()["data"]

    assert [n["level"] for n in tree] == ["TOWNSHIP"]
    village = tree[0]["children"][0]
    assert village["parentCode"] == tree[0]["code"]
    assert [g["level"] for g in village["children"]] == ["GRID", "GRID"]
    assert village["children"][0]["population"] == 900
    assert len(flat) == 4


async def test_feedback_is_stored_and_bumps_update_time(
    sb: Sandbox,
    client: httpx.AsyncClient,
) -> None:
    first = (await events(client, size=1))["data"][0]

    response = await client.post(
        f"/api/v2/events/{first['eventNo']}/feedback",
        json={"content": "已上门调解", "handler": "网格员甲"},
    )

    assert response.status_code == 200
    latest = (await events(client, size=100))["data"][-1]
    assert latest["eventNo"] == first["eventNo"]
    assert latest["updateTime"] > first["updateTime"]
    assert latest["updateTime"] >= int(NOW.timestamp() * 1000)
    assert latest["feedbacks"] == [{"content": "已上门调解", "handler": "网格员甲"}]


async def test_feedback_on_unknown_event_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v2/events/NOPE/feedback", json={"content": "x"})

    assert response.status_code == 404


async def test_feedback_that_is_not_utf8_is_400(sb: Sandbox, client: httpx.AsyncClient) -> None:
    event_no = sorted(sb.systems[SYSTEM].store.latest)[0]

    response = await client.post(f"/api/v2/events/{event_no}/feedback",
                                 content="{\"content\": \"已上门\"}".encode("gbk"),
                                 headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


async def test_pages_shift_when_records_change_while_paging(
    sb: Sandbox,
    client: httpx.AsyncClient,
) -> None:
    ordered = [r.key for r in sorted(sb.world.records[SYSTEM], key=lambda r: (r.updated_at, r.key))]
    page1 = await events(client, page=1, size=10)
    moved = page1["data"][0]["eventNo"]
    await client.post(f"/api/v2/events/{moved}/feedback", json={"content": "处置中"})

    page2 = await events(client, page=2, size=10)

    assert page2["data"][0]["eventNo"] == ordered[11]  # ordered[10] slid onto page 1: skipped


async def test_background_mutate_changes_what_incremental_sync_sees(
    sb: Sandbox,
    client: httpx.AsyncClient,
) -> None:
    since = int(NOW.timestamp() * 1000)
    assert (await events(client, updatedSince=since))["total"] == 0

    await client.post("/_sandbox/control", json={"mutate": {"interval_ms": 20, "count": 3}})
    for _ in range(100):
        if (await events(client, updatedSince=since))["total"] >= 3:
            break
        await asyncio.sleep(0.02)
    await client.post("/_sandbox/control", json={"mutate": None})

    changed = await events(client, updatedSince=since)
    stats = (await client.get("/_sandbox/stats")).json()
    assert changed["total"] >= 3
    assert stats["faults_injected"]["mutate"] >= 1
    assert stats["valid_records"] > 30
