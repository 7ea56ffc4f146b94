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
* **Started at once**: the command's process has imported govhub; while it runs a single thread
  each worker is forked from it, so none imports it again (seconds of CPU each on a small
  machine), nor builds the risk lexicon's matcher again (:func:`prepare_forks`); from a
  process with other threads they start as fresh interpreters.
* **On uvloop**: ``sync`` (one process or N) runs on the event loop uvicorn serves on; a
  sync's many socket writes and reads to PostgreSQL cost less there than on the standard
  library's selector loop.
* **One screen**: a worker's log lines travel to the command's process with its results, and
  are printed there above the progress lines, not written across them.
* **A worker that dies** (killed, out of memory) fails its sources' runs in the summary;
  their committed batches stay, and the next sync resumes them from their checkpoints as after
  any crash. A worker whose command process is gone stops too.
"""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess

import structlog
import uvloop
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from connectors.registry import CONNECTOR_MODULES, tls_context
from connectors.sync import RunResult
from db.engine import create_engine
from db.ingest import IngestCounts
from db.models import Record
from domain.enums import SourceSystem
from domain.heap import collect_young_for_bulk_work
from domain.risk.lexicon import matcher_for
from hub.database import ready_database
from hub.logging import configure_logging
from hub.risk import risk_config
from hub.settings import Settings
from hub.sync_cli import Report, chosen_sources, progress_lines, sources_of, sync_sources

log = structlog.get_logger(__name__)

Worker = Callable[[list[SourceSystem], bool, Connection], None]
"""A worker process's entry point: (its sources, full, the write end of its pipe to the
command's process); see :func:`work_share`."""


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
        await ready_database(engine)  # migrated, and the PII key checked
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Record.source, func.count()).group_by(Record.source)
            )
            return {SourceSystem(source): int(n) for source, n in rows}
    finally:
        await engine.dispose()


def work_share(
    settings: Settings, sources: list[SourceSystem], full: bool, pipe: Connection
) -> None:
    """A worker's part, once it is configured: sync ``sources``, sending the command's process
    each source's result as it goes and its log lines (the pipe closes when the process
    ends)."""
    _stop_with_parent()
    sender = _Sender(pipe)
    configure_logging(json=settings.env == "prod", streams=(sender,), force=True)

    def report(result: RunResult) -> None:
        sender.send(_plain(result))

    collect_young_for_bulk_work()  # a spawned worker's: a forked one has the command's
    # the command's process readied the database (stored_weights) before it started this one
    uvloop.run(sync_sources(settings, set(sources), full=full, report=report, readied=True))


class _Sender:
    """The worker's end of its pipe, for its results and, as a log stream, its log lines
    (formatted and redacted here, printed by the command's process)."""

    def __init__(self, pipe: Connection) -> None:
        self._pipe = pipe
        self._lock = threading.Lock()  # a log line may come from another thread

    def send(self, message: RunResult | str) -> None:
        with self._lock:
            self._pipe.send(message)

    def write(self, text: str) -> int:
        if text:
            self.send(text)
        return len(text)

    def flush(self) -> None:
        pass


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
    pipe: Connection
    """The read end; the worker holds the only write end, so it reads as closed once the
    worker has ended, after everything the worker sent."""


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
    chosen = chosen_sources(sources_of(settings, only), only)
    weights = uvloop.run(stored_weights(settings))
    context = _start_method()
    if isinstance(context, ForkContext):
        prepare_forks(settings, chosen)
    results: dict[SourceSystem, RunResult] = {}
    shares: list[_Share] = []
    try:
        # started before the progress lines, whose refresh runs in a thread of its own
        for sources in share_sources(chosen, weights, workers):
            reading, writing = context.Pipe(duplex=False)
            process = context.Process(target=worker, args=(sources, full, writing), daemon=True)
            shares.append(_Share(process, sources, reading))
            try:
                process.start()
            finally:
                writing.close()  # the worker's copy is the only one: no later one inherits it
        with progress_lines(chosen, show=show) as report:
            _follow(shares, results, report, say=_say)
    finally:
        for share in shares:
            if share.process.is_alive():  # the command is stopping (Ctrl-C, an error)
                share.process.terminate()
            if share.process.pid is not None:
                share.process.join()
            share.pipe.close()
    return [results[s] for s in chosen if s in results]


def prepare_forks(settings: Settings, sources: Sequence[SourceSystem]) -> None:
    """Build once, before the workers are forked, what each would otherwise build for itself:
    the risk lexicon's matcher (a jieba dictionary, 0.15–0.2 s of CPU, built at a worker's
    first grading, so inside the grading lock, one worker after another), the sources'
    connector modules and their clients' TLS settings (:func:`~connectors.registry.tls_context`).
    A worker loading the same rules file again finds the matcher by its words
    (:func:`~domain.risk.lexicon.matcher_for`)."""
    matcher_for(risk_config(settings).rules.lexicon)
    tls_context()
    for source in sources:
        importlib.import_module(CONNECTOR_MODULES[source])


def _start_method() -> ForkContext | SpawnContext:
    """How the workers start: forked from this process while it runs a single thread (it has
    imported govhub and its loop has ended, so a worker begins syncing at once instead of
    importing everything again, seconds of CPU for each worker while the others wait for the
    same cores); otherwise a fresh interpreter each (a fork copies the locks that other
    threads hold, held, with none to release them)."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _say(text: str) -> None:
    # While the progress lines show, rich prints what reaches stderr above them.
    sys.stderr.write(text)
    sys.stderr.flush()


def _follow(
    shares: list[_Share],
    results: dict[SourceSystem, RunResult],
    report: Report,
    *,
    say: Callable[[str], None],
) -> None:
    """Relay every worker's results to ``report``, and its log lines to ``say``, until each
    worker has ended."""
    open_pipes = {share.pipe: share for share in shares}
    while open_pipes:
        for ready in wait(list(open_pipes)):
            share = open_pipes[ready]  # type: ignore[index]  # wait returns what it was given
            try:
                message: RunResult | str = share.pipe.recv()
            except EOFError:  # the worker has ended: all it sent has been read
                del open_pipes[share.pipe]
                share.process.join()
                _fail_unfinished(share, results, report)
                continue
            if isinstance(message, str):
                say(message)
                continue
            results[message.source] = message
            report(message)


def _fail_unfinished(share: _Share, results: dict[SourceSystem, RunResult], report: Report) -> None:
    code = share.process.exitcode
    unfinished = [s for s in share.sources if s not in results or results[s].status == "RUNNING"]
    if code != 0 and not unfinished:  # after its sources' runs ended (closing its connections)
        log.warning("sync_worker_failed", sources=[s.value for s in share.sources], exit_code=code)
    for source in unfinished:
        result = results.get(source) or RunResult(source=source)
        result.status = "FAILED"
        result.error = (
            f"WORKER_DIED: the worker process ended (exit code {code}) before the run did")
        results[source] = result
        report(result)
