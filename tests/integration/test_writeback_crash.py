"""A delivering process killed with SIGKILL at random moments, then restarted: every write is
still applied exactly once (the sandbox's ledger is the judge)."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.writeback.relay import OutboxRelay, open_writers
from db.engine import session_factory
from db.models import OutboxMessage
from db.models.base import utcnow
from domain.enums import SourceSystem
from domain.writeback import WriteState
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_support import control, sources_for
from tests.integration.test_sync_crash import _environment
from tests.integration.test_writeback_relay import assert_exactly_once
from tests.integration.writeback_support import FAST, drain, enqueue_many, states

pytestmark = pytest.mark.slow
GOVHUB = Path(sys.executable).parent / "govhub"


async def _settled(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == WriteState.CONFIRMED))
        return int(count or 0)


async def test_killing_the_delivering_process_loses_and_doubles_nothing(
    committing_engine: AsyncEngine, tmp_path: Path, pii_key: bytes,
) -> None:
    sessions = session_factory(committing_engine)
    rng = random.Random(15)
    # scale 700: enough distinct 信访件 (23) for twenty petition results
    async with Sandbox(SandboxConfig(base_port=0, scale=700, seed=15)) as sb:
        (tmp_path / "sources.toml").write_text(
            render_sources_file(sb.urls, sb.credentials), encoding="utf-8")
        for target in SourceSystem:
            await control(sb, target, latency_ms=30, write_error_rate=0.1, write_lost_rate=0.1,
                          write_timeout_rate=0.1, hang_seconds=0.5)
        references = await enqueue_many(sessions, sb, per_target=20)
        env = await _environment(committing_engine, tmp_path, pii_key)

        # given a delivering process killed outright three times, at random moments
        kills = 0
        log = tmp_path / "relay.log"
        for _ in range(3):
            with log.open("ab") as output:
                process = await asyncio.create_subprocess_exec(
                    str(GOVHUB), "outbox", "run", "--passes", "10000", "--interval", "0.1",
                    env=env, stdout=output, stderr=output)
            before = await _settled(sessions)
            async with asyncio.timeout(60):  # wait until this process delivers something
                while True:
                    if await _settled(sessions) > before or process.returncode is not None:
                        break
                    await asyncio.sleep(0.05)
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
            await process.wait()
        assert kills == 3
        settled = await _settled(sessions)
        assert 0 < settled < 100, log.read_text(errors="replace")[-3000:]

        # when a survivor takes over once the dead workers' leases and backoffs are over
        for target in SourceSystem:
            await control(sb, target, latency_ms=0)
        async with open_writers(sources_for(sb, timeout=0.3)) as writers:
            later = OutboxRelay(sessions, writers, FAST, worker="survivor",
                                clock=lambda: utcnow() + timedelta(minutes=10))
            await drain(sessions, later)

        # then every write is applied exactly once and confirmed
        await assert_exactly_once(sb, references)
        assert set((await states(sessions)).values()) == {WriteState.CONFIRMED}
        assert later.stats.outcomes.total() > 0
