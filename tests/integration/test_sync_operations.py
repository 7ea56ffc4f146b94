"""Operating sync: one syncer per source, the CLI's exit status, dead-letter list and replay."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import Batch
from connectors.deadletters import replay_dead_letters
from connectors.sync import sync_source
from db.engine import create_engine, session_factory
from db.models import DeadLetter, Dispute
from domain.enums import SourceSystem
from domain.records import ParsedRecord
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_support import control
from tests.integration.test_sync_engine import ListConnector

GOVHUB = Path(sys.executable).parent / "govhub"


class FixedConnector(ListConnector):
    """The same source after a mapping fix: cases without a key are read from ``no``."""

    def parse(self, raw: Any) -> ParsedRecord:
        if "caseNo" not in raw and "no" in raw:
            raw = {**raw, "caseNo": raw["no"]}
        return super().parse(raw)


async def test_replay_ingests_what_a_fixed_mapping_now_accepts(
    committing_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committing_engine)
    pages = [[{"no": "K1", "v": 1}, {"caseNo": "K2", "v": 1, "idNo": "bad"}]]
    await sync_source(committing_engine, sessions, ListConnector(pages))
    # when the dead letters are replayed through the fixed mapping
    result = await replay_dead_letters(sessions, FixedConnector(pages))
    # then what now passes is ingested and its letter closed; the rest stays open, counted
    assert (result.replayed, result.ingested, result.still_failing) == (2, 1, 1)
    async with sessions() as session:
        keys = set((await session.scalars(select(Dispute.source_key))).all())
        open_letters = (
            await session.scalars(select(DeadLetter).where(DeadLetter.resolved_at.is_(None)))
        ).all()
    assert keys == {"K1"}
    assert [(d.source_key, d.error_code, d.attempts) for d in open_letters] == [
        ("K2", "INVALID_ID_NUMBER", 2)
    ]


@pytest.mark.postgres
async def test_two_processes_never_sync_one_source_at_once(
    committing_engine: AsyncEngine,
) -> None:
    if committing_engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite is single-process")
    # given a second engine, standing in for a second hub process on the same database
    url = committing_engine.url.render_as_string(hide_password=False)
    async with committing_engine.connect() as connection:
        schema = str(await connection.scalar(text("SELECT current_schema()")))
    other = create_engine(url, schema=schema)
    slow = [[{"caseNo": f"C{i}", "v": 1}] for i in range(30)]

    class SlowConnector(ListConnector):
        async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
            async for batch in super().fetch(checkpoint, full=full):
                await asyncio.sleep(0.02)
                yield batch

    try:
        first, second = await asyncio.gather(
            sync_source(committing_engine, session_factory(committing_engine), SlowConnector(slow)),
            sync_source(other, session_factory(other), SlowConnector(slow)),
        )
    finally:
        await other.dispose()
    # then exactly one ran and the other stood aside
    assert sorted([first.status, second.status]) == ["SKIPPED", "SUCCEEDED"]


async def test_govhub_sync_exits_non_zero_when_a_source_fails(
    committing_engine: AsyncEngine, tmp_path: Path, pii_key: bytes
) -> None:
    if committing_engine.dialect.name != "sqlite":
        pytest.skip("the CLI path is the same on both databases; once is enough")
    async with Sandbox(SandboxConfig(base_port=0, scale=100, seed=9)) as sb:
        sources = tmp_path / "sources.toml"
        sources.write_text(render_sources_file(sb.urls, sb.credentials), encoding="utf-8")
        await control(sb, SourceSystem.COURT, down=True)
        env = {
            **os.environ,
            "GOVHUB_DATABASE_URL": committing_engine.url.render_as_string(hide_password=False),
            "GOVHUB_PII_KEY": base64.urlsafe_b64encode(pii_key).decode(),
            "GOVHUB_JWT_SECRET": "x" * 32,
            "GOVHUB_DATA_DIR": str(tmp_path),
            "GOVHUB_SOURCES_FILE": str(sources),
            "COLUMNS": "200",
        }

        async def run(*args: str) -> tuple[int, str, str]:
            process = await asyncio.create_subprocess_exec(
                str(GOVHUB), *args, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            output, errors = await process.communicate()
            return process.returncode or 0, output.decode(), errors.decode()

        failed, failed_output, failed_log = await run("sync", "court", "grid")
        ok, ok_output, _ = await run("sync", "grid")
        listed, listed_output, listed_log = await run("deadletter", "list")
    assert failed == 1 and "FAILED" in failed_output and "SUCCEEDED" in failed_output
    assert ok == 0 and "SUCCEEDED" in ok_output
    assert listed == 0 and "dead letters" in listed_output
    # the result tables go to stdout, apart from the progress lines and logs on stderr
    assert "sync summary" in failed_output and "sync summary" not in failed_log
    assert "dead letters" not in listed_log
