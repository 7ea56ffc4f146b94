"""``govhub sync --workers N``: the sources shared among N processes (多进程同步).

One process syncs its sources concurrently, but runs Python for one of them at a time: on a
first load the parsing, resolution and grading of five sources queue for one core while the
others idle. With ``--workers N`` the command's own process migrates the database, shares the
sources out, shows every source's progress line and prints the summary; each of N worker
processes, configured from the same environment as the command (as ``serve --workers`` builds
its apps), syncs its share exactly as ``sync`` does in one process.

* **Sharing**: the heaviest source first, each onto the process with the least weight so far;
  a source weighs the records it has stored, so a first load (all weigh nothing) deals them
  round in the sources file's order.
* **Together on one database**: a source's sync lock, the linking lock and the grading lock
  are PostgreSQL advisory locks, so two processes never sync one source at once, nor resolve
  or grade at once; SQLite's locks hold within one process, so more than one worker needs
  PostgreSQL.
* **A worker that dies** (killed, out of memory) fails its sources' runs in the summary;
  their committed batches stay, and the next sync resumes them from their checkpoints as after
  any crash. A worker whose command process is gone stops too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from connectors.sync import RunResult
from db.engine import create_engine
from db.ingest import IngestCounts
from db.migrate import upgrade
from db.models import Record
from domain.enums import SourceSystem
from hub.settings import Settings
from hub.sync_cli import chosen_sources, progress_lines, sources_of, sync_sources

Worker = Callable[[list[SourceSystem], bool, Any], None]
"""A worker process's entry point: (its sources, full, the message queue); see
:func:`work_share`."""

_POLL_SECONDS = 0.5


def workers_problem(settings: Settings, workers: int) -> str | None:
    """Why ``sync`` cannot run ``workers`` processes on these settings (None: it can)."""
    if workers > 1 and make_url(settings.database_url).get_backend_name() != "postgresql":
        return (
            f"sync --workers {workers} needs PostgreSQL (GOVHUB_DATABASE_URL): SQLite's sync "
            "and linking locks hold within one process"
        )
    return None


def share_sources(
    sources: Sequence[SourceSystem], weights: Mapping[SourceSystem, int], workers: int
) -> list[list[SourceSystem]]:
    """``sources`` dealt to at most ``workers`` processes, heaviest first onto the lightest.

    Ties go to the process with fewer sources, then the earlier one; every share is non-empty.
    """
    count = max(1, min(workers, len(sources)))
    shares: list[list[SourceSystem]] = [[] for _ in range(count)]
    loads = [0] * count
    for source in sorted(sources, key=lambda s: -weights.get(s, 0)):  # stable: file order
        index = min(range(count), key=lambda i: (loads[i], len(shares[i]), i))
        shares[index].append(source)
        loads[index] += weights.get(source, 0)
    return [share for share in shares if share]


async def stored_weights(settings: Settings) -> dict[SourceSystem, int]:
    """Bring the database to head (once, before the workers start); each source's records."""
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Record.source, func.count()).group_by(Record.source)
            )
            return {SourceSystem(source): int(n) for source, n in rows}
    finally:
        await engine.dispose()


def work_share(settings: Settings, sources: list[SourceSystem], full: bool, messages: Any) -> None:
    """A worker's part, once it is configured: sync ``sources``, telling the command's process
    of each source's progress (``("progress", result)``) and of the end (``("done", pid)``)."""
    _stop_with_parent()

    def report(result: RunResult) -> None:
        messages.put(("progress", _plain(result)))

    asyncio.run(sync_sources(settings, set(sources), full=full, report=report))
    messages.put(("done", os.getpid()))


def _plain(result: RunResult) -> RunResult:
    """The result without a batch's record lists (the summary needs only its counts)."""
    plain = dataclasses.replace(result, counts=IngestCounts())
    plain.counts.add(result.counts)
    return plain


def _stop_with_parent() -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(70)  # as if killed: the sync's batches are committed or not at all

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@dataclass
class _Share:
    process: BaseProcess
    sources: list[SourceSystem]
    done: bool = False


def run_in_processes(
    settings: Settings,
    only: set[SourceSystem] | None,
    *,
    full: bool,
    workers: int,
    worker: Worker,
    show: bool = True,
) -> list[RunResult]:
    """Sync the chosen sources in up to ``workers`` processes; their results in file order."""
    chosen = chosen_sources(sources_of(settings), only)
    weights = asyncio.run(stored_weights(settings))
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited loop
    messages = context.Queue()
    results: dict[SourceSystem, RunResult] = {}
    with progress_lines(chosen, show=show) as report:
        shares = [
            _Share(context.Process(target=worker, args=(share, full, messages), daemon=True), share)
            for share in share_sources(chosen, weights, workers)
        ]
        try:
            for share in shares:
                share.process.start()
            _follow(shares, messages, results, report)
        finally:
            for share in shares:
                if share.process.is_alive():
                    share.process.terminate()
                share.process.join()
    return [results[s] for s in chosen if s in results]


def _follow(
    shares: list[_Share],
    messages: Any,
    results: dict[SourceSystem, RunResult],
    report: Callable[[RunResult], None],
) -> None:
    by_pid = {share.process.pid: share for share in shares}
    while not all(share.done for share in shares):
        try:
            kind, payload = messages.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            # quiet for a while: a process that has ended has said all it will say
            for share in shares:
                if not share.done and share.process.exitcode is not None:
                    share.done = True
                    _fail_unfinished(share, results, report)
            continue
        if kind == "progress":
            results[payload.source] = payload
            report(payload)
        elif kind == "done":
            by_pid[payload].done = True


def _fail_unfinished(
    share: _Share, results: dict[SourceSystem, RunResult], report: Callable[[RunResult], None]
) -> None:
    error = f"the worker process ended (exit code {share.process.exitcode}) before the run did"
    for source in share.sources:
        result = results.get(source) or RunResult(source=source)
        if result.status == "RUNNING":
            result.status, result.error = "FAILED", error
            results[source] = result
            report(result)
