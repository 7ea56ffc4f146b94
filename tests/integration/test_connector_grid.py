"""The grid connector against the sandbox over HTTP, on both databases: reconciliation,
idempotence, incremental sync, page drift under live changes, faults, the region tree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.grid import GridConnector
from db.engine import session_factory
from db.models import Region, SyncState
from domain.enums import RegionLevel, SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.connector_checks import (
    FAULTS,
    assert_matches_sandbox,
    connector_for,
    control,
    mutate,
    seeded,
    snapshot,
    stats,
    sync,
)

GRID = SourceSystem.GRID


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(base_port=0, scale=300, profile="clean")) as sandbox:
        yield sandbox


@pytest.fixture
async def db(committing_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    async with seeded(committing_engine) as engine:
        yield engine


async def test_clean_sync_reconciles_then_a_rerun_writes_nothing_and_changes_arrive(
    db: AsyncEngine, sb: Sandbox
) -> None:
    await control(sb, GRID, malformed_rate=0.08)
    async with connector_for(sb, GRID) as connector:
        first = await sync(db, connector)
        await assert_matches_sandbox(db, sb, GRID, connector)
        assert first.dead_lettered > 0

        before = await snapshot(db, GRID)
        again = await sync(db, connector)
        assert (again.counts.inserted, again.counts.updated) == (0, 0)
        assert await snapshot(db, GRID) == before

        held = set(before)
        # the checkpoint is inclusive: the records at the newest instant are read again
        newest = max(r.updated_at for r in sb.systems[GRID].store.latest.values())
        at_checkpoint = {
            k for k, r in sb.systems[GRID].store.latest.items() if r.updated_at == newest
        }
        changed = await mutate(sb, GRID, 12)
        incremental = await sync(db, connector)
    malformed = set((await stats(sb, GRID))["malformed_keys"])
    new = {c["key"] for c in changed} - held - malformed
    assert incremental.dead_lettered == len(({c["key"] for c in changed} | at_checkpoint)
                                            & malformed)
    assert incremental.counts.inserted == len(new)
    assert incremental.counts.updated == len({c["key"] for c in changed} & held)
    await assert_matches_sandbox(db, sb, GRID, connector)
    async with session_factory(db)() as session:
        state = await session.get(SyncState, GRID)
    assert state is not None and state.watermark is not None and state.watermark[:4] == "2026"


async def test_region_tree_lands_under_the_seeded_counties(db: AsyncEngine, sb: Sandbox) -> None:
    token = sb.credentials[GRID]["token"]
    async with httpx.AsyncClient(
        base_url=sb.urls[GRID], headers={"Authorization": f"Bearer {token}"}
    ) as client:
        nodes = (await client.get("/api/v2/grids", params={"flat": "true"})).json()["data"]
    async with connector_for(sb, GRID) as connector:
        assert isinstance(connector, GridConnector)
        async with session_factory(db).begin() as session:
            assert await connector.sync_regions(session) == (len(nodes), 0)
        await sync(db, connector)  # the tree again, inside the first batch: nothing changes
    async with session_factory(db)() as session:
        regions = {r.code: r for r in (await session.scalars(select(Region))).all()}
    for node in nodes:
        region = regions[node["code"]]
        assert (region.name, region.level.value, region.parent_code, region.population) == (
            node["name"], node["level"], node["parentCode"], node["population"],
        )  # fmt: skip
    township = next(n for n in nodes if n["level"] == "TOWNSHIP")
    assert regions[township["parentCode"]].level is RegionLevel.COUNTY  # a seeded county


async def test_a_changed_tree_is_updated_by_the_next_sync(db: AsyncEngine, sb: Sandbox) -> None:
    async with connector_for(sb, GRID) as connector:
        await sync(db, connector)
        index, grid = next(
            (i, r) for i, r in enumerate(sb.world.regions) if r.level is RegionLevel.GRID
        )
        sb.world.regions[index] = replace(grid, name=f"{grid.name}（调整）")
        await sync(db, connector)
    async with session_factory(db)() as session:
        stored_grid = await session.get(Region, grid.code)
    assert stored_grid is not None and stored_grid.name.endswith("（调整）")


async def test_records_moving_to_the_end_while_paging_are_not_skipped(
    db: AsyncEngine, sb: Sandbox
) -> None:
    async with connector_for(sb, GRID, page_size=5) as connector:
        await control(sb, GRID, latency_ms=15, mutate={"interval_ms": 50, "count": 5})
        await sync(db, connector)
        await control(sb, GRID, mutate=None, latency_ms=0)
        assert (await stats(sb, GRID))["faults_injected"]["mutate"] >= 3  # changed mid-sync
        await asyncio.sleep(0.1)  # let a mutation already under way land
        await sync(db, connector)
    await assert_matches_sandbox(db, sb, GRID, connector)


async def test_faults_do_not_change_what_converges(db: AsyncEngine, sb: Sandbox) -> None:
    async with connector_for(sb, GRID, page_size=5) as connector:
        await sync(db, connector)
        await mutate(sb, GRID, 15)  # earlier versions exist now, for out-of-order delivery
        await control(sb, GRID, **FAULTS)
        await sync(db, connector)
        await assert_matches_sandbox(db, sb, GRID, connector)
        await sync(db, connector, full=True)  # every stale copy again: nothing goes back
        await assert_matches_sandbox(db, sb, GRID, connector)
    injected = (await stats(sb, GRID))["faults_injected"]
    assert {"duplicate", "out_of_order", "schema_drift"} <= set(injected)
