"""``govhub sync --workers N``: the sources shared among processes on one PostgreSQL database,
with nothing lost or doubled; a worker that dies fails its sources, not the others; grading
runs beside resolution (the grading lock), one grading pass at a time."""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.sync import RunResult, grade_after_batch
from db.engine import session_factory
from db.linking_lock import grading_lock, linking_lock
from db.models import Record, SyncRun
from db.risk import RiskConfig
from domain.enums import SourceSystem
from domain.heap import BULK_YOUNG_COLLECTION_THRESHOLD
from hub import sync_workers
from hub.demo import render_sources_file
from hub.settings import Settings
from hub.sync_cli import Report
from hub.sync_workers import run_in_processes, work_share
from sandbox.runner import DEFAULT_CREDENTIALS, Sandbox, SandboxConfig
from tests.integration.test_sync_convergence import assert_matches_sandbox

GOVHUB = Path(sys.executable).parent / "govhub"
pytestmark = pytest.mark.postgres


async def _schema(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        return str(await connection.scalar(text("SELECT current_schema()")))


@pytest.mark.slow
async def test_two_worker_processes_store_every_source_exactly(
    fresh_postgres: AsyncEngine, tmp_path: Path, pii_key: bytes
) -> None:
    async with Sandbox(SandboxConfig(base_port=0, scale=300, seed=33)) as sb:
        sources = tmp_path / "sources.toml"
        sources.write_text(render_sources_file(sb.urls, sb.credentials), encoding="utf-8")
        env = {
            **os.environ,
            "GOVHUB_DATABASE_URL": fresh_postgres.url.render_as_string(hide_password=False),
            "GOVHUB_DATABASE_SCHEMA": await _schema(fresh_postgres),
            "GOVHUB_PII_KEY": base64.urlsafe_b64encode(pii_key).decode(),
            "GOVHUB_JWT_SECRET": "x" * 32,
            "GOVHUB_DATA_DIR": str(tmp_path),
            "GOVHUB_SOURCES_FILE": str(sources),
        }
        # when the five sources are synced by two processes
        process = await asyncio.create_subprocess_exec(
            str(GOVHUB), "sync", "--workers", "2", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        summary = (out + err).decode()
        # then each source's run succeeded, and the summary names every one of them
        assert process.returncode == 0, summary[-3000:]
        for source in SourceSystem:
            assert source.value in summary
        sessions = session_factory(fresh_postgres)
        async with sessions() as session:
            runs = (await session.execute(select(SyncRun.source, SyncRun.status))).all()
        assert sorted(runs) == sorted((s, "SUCCEEDED") for s in SourceSystem)
        # and the hub holds exactly the sandbox's records, each at its latest version
        for source in SourceSystem:
            await assert_matches_sandbox(sb, sessions, source)


def _settings(engine: AsyncEngine, schema: str, tmp_path: Path) -> Settings:
    sources = tmp_path / "sources.toml"
    urls = {s: f"http://127.0.0.1:9/{s.value}" for s in SourceSystem}  # never asked
    sources.write_text(render_sources_file(urls, DEFAULT_CREDENTIALS), encoding="utf-8")
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        database_schema=schema,
        sources_file=sources,
        data_dir=tmp_path,
    )


def dying_worker(sources: list[SourceSystem], full: bool, pipe: Connection) -> None:
    """Reports progress for its first source, then dies without a word (as if killed)."""
    pipe.send(RunResult(source=sources[0], fetched=7))
    os._exit(3)


def finishing_worker(sources: list[SourceSystem], full: bool, pipe: Connection) -> None:
    """Reports each source done, the last at the very end, and ends normally."""
    for source in sources:
        pipe.send(RunResult(source=source, status="SUCCEEDED", fetched=1))


async def _noting_sync(
    settings: Settings,
    only: set[SourceSystem] | None,
    *,
    full: bool,
    report: Report,
    readied: bool = False,
) -> list[RunResult]:
    """In place of a worker's sync: each source reports how the worker would have synced."""
    noted = f"readied={readied} young={gc.get_threshold()[0]}"
    for source in sorted(only or ()):
        report(RunResult(source=source, status="SUCCEEDED", error=noted))
    return []


def noting_worker(sources: list[SourceSystem], full: bool, pipe: Connection) -> None:
    """``work_share`` as ``sync --workers`` runs it, its sync replaced by :func:`_noting_sync`."""
    sync_workers.sync_sources = _noting_sync  # type: ignore[attr-defined]  # in this process only
    work_share(Settings(data_dir=Path(tempfile.gettempdir())), sources, full, pipe)


async def test_a_worker_syncs_on_the_database_the_command_readied_collecting_young_rarely(
    fresh_postgres: AsyncEngine, tmp_path: Path
) -> None:
    settings = _settings(fresh_postgres, await _schema(fresh_postgres), tmp_path)
    # when the command's process has migrated the database and started the workers
    results = await asyncio.to_thread(
        run_in_processes, settings, None, full=False, workers=2, worker=noting_worker, show=False
    )
    # then no worker migrates it or checks its key again (seconds of CPU for nothing), and each
    # collects its youngest objects as a bulk load should
    expected = f"readied=True young={BULK_YOUNG_COLLECTION_THRESHOLD}"
    assert [(r.source, r.error) for r in results] == [(s, expected) for s in SourceSystem]


async def test_a_worker_that_dies_fails_its_own_sources_only(
    fresh_postgres: AsyncEngine, tmp_path: Path
) -> None:
    settings = _settings(fresh_postgres, await _schema(fresh_postgres), tmp_path)
    # when every worker dies after its first report
    results = await asyncio.to_thread(
        run_in_processes, settings, None, full=False, workers=2, worker=dying_worker, show=False
    )
    # then every source is in the summary, in the sources file's order, failed and saying why
    assert [r.source for r in results] == list(SourceSystem)
    assert all(r.status == "FAILED" for r in results)
    assert all((r.error or "").startswith("WORKER_DIED: ") and "exit code 3" in (r.error or "")
               for r in results)
    # and what a worker reported before it died is kept
    assert sorted(r.fetched for r in results) == [0, 0, 0, 7, 7]


async def test_a_worker_that_ends_right_after_its_last_report_is_not_failed(
    fresh_postgres: AsyncEngine, tmp_path: Path
) -> None:
    settings = _settings(fresh_postgres, await _schema(fresh_postgres), tmp_path)
    for _ in range(5):  # the last report and the end of the process as close as they come
        results = await asyncio.to_thread(
            run_in_processes, settings, None, full=False, workers=2, worker=finishing_worker,
            show=False,
        )  # fmt: skip
        assert [(r.source, r.status) for r in results] == [(s, "SUCCEEDED") for s in SourceSystem]


async def test_grading_waits_for_grading_not_for_linking(fresh_postgres: AsyncEngine) -> None:
    sessions = session_factory(fresh_postgres)
    other = session_factory(fresh_postgres)
    risk = RiskConfig.default()
    async with sessions.begin() as session:
        count = await session.scalar(select(func.count()).select_from(Record))
    assert count == 0
    # given another process's resolution, holding the linking lock
    async with other.begin() as resolving, linking_lock(resolving):
        # then a grading pass does not wait for it
        result = RunResult(source=SourceSystem.COURT)
        graded = grade_after_batch(sessions, SourceSystem.COURT, [1], result, risk, None)
        assert await asyncio.wait_for(graded, timeout=10)
        assert result.grading_failures == 0
    # given another grading pass, holding the grading lock (on its own connection: the
    # in-process lock of this event loop is not what is tested)
    connection = await fresh_postgres.connect()
    try:
        await connection.begin()
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name || current_schema()))"),
            {"name": "govhub:grading:"},
        )
        async with sessions.begin() as session:
            waiting = asyncio.ensure_future(_hold(grading_lock(session)))
            await asyncio.sleep(0.5)
            # then this one waits until the other commits
            assert not waiting.done()
            await connection.commit()
            await asyncio.wait_for(waiting, timeout=10)
    finally:
        await connection.close()


async def _hold(lock: Any) -> None:
    async with lock:
        pass
