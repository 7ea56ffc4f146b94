"""The whole path on both databases: sandbox → sync → resolve → evaluate, and the CLI."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.engine import is_sqlite, session_factory
from db.linking_eval import evaluate_linking
from db.models import Link, PartyMention, Region
from db.regions import seed_regions
from db.resolution import resolve_all
from hub.cli import app
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.truth import truth_document
from tests.integration.sandbox_support import sources_for

pytestmark = pytest.mark.slow


@pytest.fixture
async def regions_cleared(committing_engine: AsyncEngine) -> AsyncIterator[None]:
    """The grid sync adds regions beneath each other; remove them leaves first afterwards."""
    yield
    async with committing_engine.begin() as connection:
        await connection.execute(delete(PartyMention))
        await connection.execute(delete(Link))
        for _ in range(8):  # province → city → county → township → village → grid
            parents = select(Region.parent_code).where(Region.parent_code.is_not(None))
            await connection.execute(delete(Region).where(Region.code.not_in(parents)))


async def test_a_synced_sandbox_world_is_resolved_and_linked_precisely(
    committing_engine: AsyncEngine,
    regions_cleared: None,
    pii_key: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a small sandbox world synced by the five connectors
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        await seed_regions(session)
    async with Sandbox(SandboxConfig(base_port=0, scale=400, seed=5)) as sb:
        async with open_connectors(sources_for(sb, page_size=100)) as connectors:
            results = await asyncio.gather(
                *(sync_source(committing_engine, sessions, c) for c in connectors.values())
            )
        assert all(r.ok for r in results), results
        truth = truth_document(sb.world)
    # (the sync resolved and linked batch by batch, nearly as well as a full run does; an
    # incremental step never merges two stored persons, so its recall depends on the order in
    # which the five sources happened to arrive — the full run below restores it)
    async with sessions() as session:
        incremental = await evaluate_linking(session, truth)
    assert incremental.persons.precision >= 0.97 and incremental.persons.recall >= 0.90
    assert incremental.matters.precision >= 0.95 and incremental.matters.recall >= 0.93
    # when everything is resolved and linked
    async with sessions.begin() as session:
        counts = await resolve_all(session)
    assert counts.mentions > 0
    # then person resolution and matter linking agree with the ground truth
    async with sessions() as session:
        result = await evaluate_linking(session, truth)
    assert result.records >= 390 and result.skipped_records == 0
    assert result.persons.precision >= 0.97 and result.persons.recall >= 0.95, result.persons
    assert result.matters.precision >= 0.95 and result.matters.recall >= 0.93, result.matters
    if not is_sqlite(committing_engine):
        return
    # and the command line prints the same figures from the stored links
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("GOVHUB_DATABASE_URL", committing_engine.url.render_as_string(False))
    monkeypatch.setenv("GOVHUB_PII_KEY", base64.urlsafe_b64encode(pii_key).decode("ascii"))
    monkeypatch.setenv("GOVHUB_JWT_SECRET", "test-secret")
    outcome = await asyncio.to_thread(
        CliRunner().invoke, app, ["eval", "linking", "--truth", str(path), "--no-resolve"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert f"{result.persons.precision:.4f}" in outcome.output
    assert f"{result.matters.recall:.4f}" in outcome.output
