"""Crash safety: kill a `govhub sync` process mid-run, restart, and converge exactly."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import session_factory
from db.models import Record, SyncRun
from domain.enums import SourceSystem
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_support import control, sources_for
from tests.integration.test_sync_convergence import assert_matches_sandbox, converge

pytestmark = pytest.mark.slow
GOVHUB = Path(sys.executable).parent / "govhub"


async def _environment(engine: AsyncEngine, tmp_path: Path, pii_key: bytes) -> dict[str, str]:
    env = {
        **os.environ,
        "GOVHUB_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "GOVHUB_PII_KEY": base64.urlsafe_b64encode(pii_key).decode(),
        "GOVHUB_JWT_SECRET": "x" * 32,
        "GOVHUB_DATA_DIR": str(tmp_path),
        "GOVHUB_SOURCES_FILE": str(tmp_path / "sources.toml"),
    }
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            schema = await connection.scalar(text("SELECT current_schema()"))
        env["GOVHUB_DATABASE_SCHEMA"] = str(schema)
    return env


async def _fetched_so_far(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.coalesce(func.sum(SyncRun.fetched), 0))) or 0)


async def test_killing_the_sync_process_loses_and_duplicates_nothing(
    committing_engine: AsyncEngine, tmp_path: Path, pii_key: bytes
) -> None:
    sessions = session_factory(committing_engine)
    async with Sandbox(SandboxConfig(base_port=0, scale=300, seed=21)) as sb:
        (tmp_path / "sources.toml").write_text(
            render_sources_file(sb.urls, sb.credentials, page_size=10), encoding="utf-8"
        )
        for source in SourceSystem:
            await control(sb, source, latency_ms=60)
        env = await _environment(committing_engine, tmp_path, pii_key)
        # given a sync process that has committed some batches
        process = await asyncio.create_subprocess_exec(
            str(GOVHUB), "sync", env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            if await _fetched_so_far(sessions) >= 40:
                break
            await asyncio.sleep(0.05)
        # when it is killed outright, mid-run
        assert process.returncode is None, "the sync finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        await process.wait()
        async with sessions() as session:
            killed = await session.scalar(select(func.count()).select_from(Record))
            running = await session.scalar(
                select(func.count()).select_from(SyncRun).where(SyncRun.status == "RUNNING")
            )
        assert killed is not None and killed > 0 and running
        # then a restarted sync converges to exactly the sandbox's state
        for source in SourceSystem:
            await control(sb, source, latency_ms=0)
        await converge(committing_engine, sessions, sources_for(sb))
        for source in SourceSystem:
            await assert_matches_sandbox(sb, sessions, source)
