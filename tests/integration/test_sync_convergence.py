"""Nothing lost, whatever the sources do: all five connectors against the faulty sandbox.

Compared record by record against the sandbox's own reconciliation (``/_sandbox/stats``,
``/_sandbox/records/{key}``), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.config import SourceConfig
from connectors.registry import open_connectors
from connectors.sync import RunResult, sync_source
from db.engine import session_factory
from db.models import Record, SyncState
from db.regions import seed_regions
from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_support import (
    control,
    hub_state,
    sandbox_versions,
    sources_for,
    stats,
)

pytestmark = pytest.mark.slow

HOSTILE: dict[str, Any] = {
    "error_rate": 0.25,
    "hang_rate": 0.02,
    "hang_seconds": 3.0,
    "reset_rate": 0.02,
    "rate_429": 0.1,
    "retry_after_s": 0,
    "duplicate_rate": 0.1,
    "out_of_order": True,
    "schema_drift": True,
    "malformed_rate": 0.02,
}


async def sync_all(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    configs: dict[SourceSystem, SourceConfig],
) -> dict[SourceSystem, RunResult]:
    async with open_connectors(configs) as connectors:
        results = await asyncio.gather(
            *(sync_source(engine, sessions, c) for c in connectors.values())
        )
    return {r.source: r for r in results}


async def converge(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    configs: dict[SourceSystem, SourceConfig],
    rounds: int = 12,
) -> None:
    """Sync until every source succeeds with nothing new to write."""
    for _ in range(rounds):
        results = await sync_all(engine, sessions, configs)
        quiet = all(
            r.ok and r.counts.inserted == r.counts.updated == r.counts.deleted == 0
            for r in results.values()
        )
        if quiet:
            return
    pytest.fail(f"no convergence after {rounds} rounds: {results}")


async def assert_matches_sandbox(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession], source: SourceSystem
) -> None:
    expected = await stats(sb, source)
    live, deleted, dead = await hub_state(sessions, source)
    # exactly the valid records, no more, no fewer
    extra = sorted(set(live) - set(expected["valid_keys"]))
    missing = sorted(set(expected["valid_keys"]) - set(live))
    assert not extra and not missing, (
        f"{source}: extra {extra[:5]} (deleted in sandbox: "
        f"{sorted(set(extra) & set(expected['deleted_keys']))[:5]}), missing {missing[:5]}"
    )
    # each at its latest version
    latest = await sandbox_versions(sb, source, expected["valid_keys"])
    stale = [k for k, iso in latest.items() if live[k] != datetime.fromisoformat(iso)]
    assert not stale, f"{source}: stale records {stale[:5]}"
    # every malformed one dead-lettered; deleted ones marked so
    assert sorted(dead) == expected["malformed_keys"], source
    assert set(expected["deleted_keys"]) <= deleted | set(expected["malformed_keys"]), source


@pytest.fixture
def sessions(committing_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(committing_engine)


async def test_zero_loss_under_faults_and_live_change(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # given five faulty systems that keep changing while we read them
    async with sessions.begin() as session:
        await seed_regions(session)
    async with Sandbox(SandboxConfig(base_port=0, scale=400, seed=11)) as sb:
        configs = sources_for(sb, page_size=25, timeout=1.0)
        for source in SourceSystem:
            await control(sb, source, **HOSTILE, mutate={"interval_ms": 150, "count": 3})
        # when we sync a few rounds under live change, then let the sources settle
        for _ in range(2):
            await sync_all(committing_engine, sessions, configs)
        for source in SourceSystem:
            await control(sb, source, mutate=None)
        await converge(committing_engine, sessions, configs)
        # then the hub holds exactly the sandbox's valid records at their latest version
        for source in SourceSystem:
            await assert_matches_sandbox(sb, sessions, source)
            assert (await stats(sb, source))["faults_injected"], source


async def test_a_sync_with_no_change_writes_nothing(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with Sandbox(SandboxConfig(base_port=0, scale=200, seed=5)) as sb:
        configs = sources_for(sb)
        first = await sync_all(committing_engine, sessions, configs)
        assert all(r.ok and r.counts.inserted > 0 for r in first.values())
        async with sessions() as session:
            before = {
                (r.source, r.source_key): r.updated_at
                for r in (await session.scalars(select(Record))).all()
            }
        second = await sync_all(committing_engine, sessions, configs)
        for result in second.values():
            assert result.ok
            assert (result.counts.inserted, result.counts.updated, result.counts.deleted) == (
                0, 0, 0,
            ), result.source  # fmt: skip
        async with sessions() as session:
            after = {
                (r.source, r.source_key): r.updated_at
                for r in (await session.scalars(select(Record))).all()
            }
        assert after == before


async def test_one_failed_run_does_not_open_the_breaker_and_the_next_run_goes_ahead(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with Sandbox(SandboxConfig(base_port=0, scale=200, seed=3)) as sb:
        # given a breaker that opens at as many failures as one request makes attempts
        configs = {SourceSystem.COURT: sources_for(
            sb, attempts=3, breaker_threshold=3, cooldown=30)[SourceSystem.COURT]}
        # when the court is down for one run, which spends all its retries, then back
        await control(sb, SourceSystem.COURT, down=True)
        failed = (await sync_all(committing_engine, sessions, configs))[SourceSystem.COURT]
        await control(sb, SourceSystem.COURT, down=False)
        # then that run is one failure and the breaker stays closed (kept in sync_state) …
        assert failed.error is not None and failed.error.startswith("SERVER_ERROR"), failed.error
        async with sessions() as session:
            state = await session.get(SyncState, SourceSystem.COURT)
            assert state is not None
            assert (state.breaker_state, state.consecutive_failures) == ("CLOSED", 1)
        # … so the next run, well inside the cool-down, syncs everything
        again = (await sync_all(committing_engine, sessions, configs))[SourceSystem.COURT]
        assert again.ok, again.error
        await assert_matches_sandbox(sb, sessions, SourceSystem.COURT)
        async with sessions() as session:
            state = await session.get(SyncState, SourceSystem.COURT)
            assert state is not None
            assert (state.breaker_state, state.consecutive_failures) == ("CLOSED", 0)


async def test_one_source_down_opens_its_breaker_and_spares_the_others(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with Sandbox(SandboxConfig(base_port=0, scale=200, seed=3)) as sb:
        configs = sources_for(sb, attempts=2, breaker_threshold=2, cooldown=0.3)
        await control(sb, SourceSystem.COURT, down=True)
        # when the court is down for two runs
        for _ in range(2):
            results = await sync_all(committing_engine, sessions, configs)
        # then its breaker is open and persisted, and the other four synced fully
        assert not results[SourceSystem.COURT].ok
        async with sessions() as session:
            state = await session.get(SyncState, SourceSystem.COURT)
            assert state is not None and state.breaker_state == "OPEN"
        for source in SourceSystem:
            if source is not SourceSystem.COURT:
                assert results[source].ok, source
                await assert_matches_sandbox(sb, sessions, source)
        # when it comes back and the cool-down has passed, it recovers
        await control(sb, SourceSystem.COURT, down=False)
        await asyncio.sleep(0.4)
        await converge(committing_engine, sessions, configs)
        async with sessions() as session:
            state = await session.get(SyncState, SourceSystem.COURT)
            assert state is not None and state.breaker_state == "CLOSED"
        await assert_matches_sandbox(sb, sessions, SourceSystem.COURT)
