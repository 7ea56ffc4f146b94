"""Incremental resolution in the sync engine, on both databases: every batch's new mentions
are resolved as they arrive, and a failing resolution step never costs the batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import connectors.sync
from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.engine import session_factory
from db.models import Dispute, Link, PartyMention
from db.regions import seed_regions
from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_support import sources_for
from tests.integration.test_sync_engine import ListConnector, _case


async def _unresolved(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(mentions, mentions with neither a person nor an organisation)."""
    async with sessions() as session:
        total = await session.scalar(select(func.count()).select_from(PartyMention))
        open_ = await session.scalar(
            select(func.count()).select_from(PartyMention).where(
                PartyMention.person_id.is_(None), PartyMention.organisation_id.is_(None)
            )
        )  # fmt: skip
    return total or 0, open_ or 0


@pytest.mark.slow
async def test_a_sandbox_sync_resolves_every_new_mention(committing_engine: AsyncEngine) -> None:
    # given a small sandbox world
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        await seed_regions(session)
    async with Sandbox(SandboxConfig(base_port=0, scale=300, seed=3)) as sb:
        configs = sources_for(sb, page_size=50)
        # when the five sources sync concurrently, batch by batch
        async with open_connectors(configs) as connectors:
            results = await asyncio.gather(
                *(sync_source(committing_engine, sessions, c) for c in connectors.values())
            )
        assert all(r.ok and r.resolution_failures == 0 for r in results), results
        # then every mention has a person or organisation, and records are linked
        total, open_ = await _unresolved(sessions)
        assert total > 300 and open_ == 0
        assert sum(r.resolved_mentions for r in results) == total
        async with sessions() as session:
            assert (await session.scalar(select(func.count()).select_from(Link)) or 0) > 0
        # and when the police system changes records and syncs again, nothing is left open
        sb.mutate(SourceSystem.POLICE_110, 10)
        async with open_connectors(configs, only={SourceSystem.POLICE_110}) as connectors:
            again = await sync_source(
                committing_engine, sessions, connectors[SourceSystem.POLICE_110]
            )
        assert again.ok and again.counts.updated > 0
        assert (await _unresolved(sessions))[1] == 0


async def test_a_failing_resolution_step_keeps_the_batch(
    committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a resolution step that fails for every batch, and recovers for the catch-up
    sessions = session_factory(committing_engine)
    real = connectors.sync.resolve_new_mentions
    calls: list[Any] = []

    async def flaky(session: AsyncSession, **kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) <= 2:
            await real(session, **kwargs)  # its writes are rolled back with the step
            raise RuntimeError("resolution crashed")
        return await real(session, **kwargs)

    monkeypatch.setattr(connectors.sync, "resolve_new_mentions", flaky)
    monkeypatch.setattr(connectors.sync, "RESOLVE_EVERY", 1)  # a pass after every batch
    pages = [[_case("A1", 1), _case("A2", 1)], [_case("A3", 1)]]
    # when the source syncs two batches
    result = await sync_source(committing_engine, sessions, ListConnector(pages))
    # then both batches are stored, the run succeeds, and the catch-up resolved them
    assert result.ok and result.counts.inserted == 3 and result.resolution_failures == 2
    async with sessions() as session:
        assert (await session.scalar(select(func.count()).select_from(Dispute))) == 3
    assert await _unresolved(sessions) == (3, 0)
    assert set(calls[-1]["relink"]) and len(calls) == 3  # the failed batches were re-linked


async def test_resolution_runs_per_chunk_of_the_run_not_per_batch(
    committing_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given batches of one record each (a source whose files hold a row or two)
    sessions = session_factory(committing_engine)
    real = connectors.sync.resolve_new_mentions
    passes: list[set[int]] = []

    async def counting(session: AsyncSession, **kwargs: Any) -> Any:
        passes.append(set(kwargs["relink"]))
        return await real(session, **kwargs)

    monkeypatch.setattr(connectors.sync, "resolve_new_mentions", counting)
    monkeypatch.setattr(connectors.sync, "RESOLVE_EVERY", 3)
    pages = [[_case(f"C{n}", 1)] for n in range(7)]
    # when the source syncs seven batches
    result = await sync_source(committing_engine, sessions, ListConnector(pages))
    # then resolution ran after the third and sixth record and once at the end, covering all
    assert result.ok and result.counts.inserted == 7
    assert [len(p) for p in passes] == [3, 3, 1]
    assert len(set().union(*passes)) == 7
    assert await _unresolved(sessions) == (7, 0)


async def test_a_sync_without_resolution_leaves_mentions_for_a_full_run(
    committing_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committing_engine)
    pages = [[_case("B1", 1)]]
    result = await sync_source(committing_engine, sessions, ListConnector(pages), resolve=False)
    assert result.ok and result.resolved_mentions == 0
    assert await _unresolved(sessions) == (1, 1)
