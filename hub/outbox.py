"""Write-back operations in the hub: the relay in ``serve``/``demo``, its Prometheus metrics,
and ``govhub outbox list|retry|cancel|purge|run``.

Metrics (``/metrics``):

* ``govhub_outbox_writes{target,state}`` — rows per state (gauge);
* ``govhub_outbox_oldest_open_seconds{target}`` — age of the oldest write not yet settled;
* ``govhub_outbox_attempts_total{target,outcome}`` — delivery outcomes (a counter: with
  ``serve --workers N``, every process's relay added up).

The gauges come from a backlog snapshot the relay task refreshes every few seconds (a scrape
never waits on the database); every process's snapshot is of the same database, so whichever
process takes the scrape answers for the deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Annotated

import structlog
import typer
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.config import load_sources
from connectors.tasks import cancel_and_wait
from connectors.writeback.relay import OutboxRelay, open_writers
from db.engine import create_engine, session_factory
from db.models.base import utcnow
from db.outbox import (
    TargetBacklog,
    backlog,
    cancel_writes,
    known_write_ids,
    list_writes,
    purge_writes,
    replay_writes,
)
from domain.writeback import WriteState
from hub.database import ready_database
from hub.metrics import REGISTRY, register_shared
from hub.output import beijing_time
from hub.settings import Settings
from hub.sync_cli import console, parse_source_names, result_console, sources_of

log = structlog.get_logger(__name__)
SNAPSHOT_SECONDS = 5.0


OUTBOX_ATTEMPTS = Counter(
    "govhub_outbox_attempts_total",
    "Write-back delivery outcomes, by target and outcome",
    ["target", "outcome"],
    registry=REGISTRY,
)


def count_attempt(target: str, outcome: str) -> None:
    OUTBOX_ATTEMPTS.labels(target=target, outcome=outcome).inc()


class OutboxBacklog(Collector):
    """The gauges of the latest backlog snapshot (read from the database)."""

    def __init__(self) -> None:
        self.backlog: list[TargetBacklog] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        states = GaugeMetricFamily("govhub_outbox_writes", "Write-backs per target and state",
                                   labels=["target", "state"])
        oldest = GaugeMetricFamily("govhub_outbox_oldest_open_seconds",
                                   "Age of the oldest write-back not yet settled, per target",
                                   labels=["target"])
        for entry in self.backlog:
            for state, count in sorted(entry.by_state.items()):
                states.add_metric([entry.target.value, state], count)
            oldest.add_metric([entry.target.value], entry.oldest_open_seconds)
        yield from (states, oldest)


OUTBOX_BACKLOG = OutboxBacklog()
register_shared(OUTBOX_BACKLOG)


async def _snapshots(sessions: async_sessionmaker[AsyncSession]) -> None:
    while True:
        try:
            async with sessions() as session:
                OUTBOX_BACKLOG.backlog = await backlog(session)
        except Exception:  # metrics must never take the relay down
            log.exception("outbox_backlog_snapshot_failed")
        await asyncio.sleep(SNAPSHOT_SECONDS)


@contextlib.asynccontextmanager
async def running_relay(
    settings: Settings, sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[OutboxRelay | None]:
    """Deliver the outbox while the app runs (when a sources file is set and delivery is on).

    Every replica may run one: claims are leases, so each row has one sender at a time.
    """
    if settings.sources_file is None or not settings.deliver_writebacks:
        yield None
        return
    async with open_writers(load_sources(settings.sources_file)) as writers:
        relay = OutboxRelay(sessions, writers, settings.delivery_policy(),
                            on_outcome=count_attempt)
        relay.start(settings.outbox_poll_seconds)
        snapshots = asyncio.create_task(_snapshots(sessions), name="outbox:snapshots")
        log.info("outbox_relay_started", targets=sorted(t.value for t in writers),
                 worker=relay.worker)
        try:
            yield relay
        finally:
            await cancel_and_wait([snapshots])
            await relay.stop()


def register(app: typer.Typer, settings_factory: Callable[[], Settings]) -> None:
    """Add ``outbox`` to the main CLI."""
    outbox = typer.Typer(help="Write-backs to the departments' systems (回写发件箱).")
    app.add_typer(outbox, name="outbox")

    async def with_sessions(settings: Settings, work: Callable[
            [async_sessionmaker[AsyncSession]], object]) -> None:
        engine = create_engine(settings.database_url, schema=settings.database_schema)
        try:
            await ready_database(engine)
            result = work(session_factory(engine))
            if asyncio.iscoroutine(result):
                await result
        finally:
            await engine.dispose()

    @outbox.command("list")
    def list_(
        target: Annotated[str | None, typer.Option(help="Only this target system.")] = None,
        state: Annotated[list[str] | None, typer.Option(help="Only these states.")] = None,
        limit: Annotated[int, typer.Option(help="At most this many rows.")] = 200,
    ) -> None:
        """Show write-backs with their state, attempts and last error (payloads stay sealed)."""
        settings = settings_factory()
        chosen = parse_source_names([target] if target else [])
        try:
            wanted = [WriteState(s.upper()) for s in state or []]
        except ValueError as exc:
            console.print(f"[red]unknown state[/red]: {exc}")
            raise typer.Exit(2) from exc
        table = Table(title="write-backs (回写)")

        async def load(sessions: async_sessionmaker[AsyncSession]) -> None:
            async with sessions() as session:
                rows = await list_writes(session, target=next(iter(chosen)) if chosen else None,
                                         states=wanted, limit=limit)
            for column in ("id", "target", "operation"):
                table.add_column(column)
            # an operator copies the reference to find the write at the target: never cut it,
            # other columns wrap instead
            table.add_column("reference", no_wrap=True, min_width=max(
                [len("reference"), *(len(r.idempotency_key) for r in rows)]))
            for column in ("matter", "state", "attempts", "target id", "last error",
                           "next attempt"):
                table.add_column(column)
            for r in rows:
                error = f"{r.last_error_code}: {r.last_error}" if r.last_error_code else ""
                table.add_row(
                    str(r.id), r.target.value, r.operation, r.idempotency_key,
                    r.aggregate_id or "", r.status, str(r.attempts), r.target_ref or "",
                    error[:80],
                    beijing_time(r.next_attempt_at) if r.next_attempt_at else "")

        asyncio.run(with_sessions(settings, load))
        result_console.print(table)

    def change_writes(ids: list[int], change: Callable[[AsyncSession, list[int]], Awaitable[int]],
                      done: str) -> None:
        """Apply ``change`` to the rows ``ids`` and say how many it changed; ids that are no
        row are named on stderr, and when none is a row the command exits 1."""
        settings = settings_factory()
        missing: list[int] = []

        async def run(sessions: async_sessionmaker[AsyncSession]) -> None:
            async with sessions.begin() as session:
                missing.extend(sorted(set(ids) - await known_write_ids(session, ids)))
                changed = await change(session, ids)
            result_console.print(f"{done} {changed} of {len(ids)}")

        asyncio.run(with_sessions(settings, run))
        if missing:
            plural = "s" if len(missing) > 1 else ""
            console.print(f"[red]no write-back{plural} with id{plural}[/red] "
                          f"{', '.join(map(str, missing))}", soft_wrap=True)
        if len(missing) == len(set(ids)):
            raise typer.Exit(1)

    @outbox.command("retry")
    def retry(ids: Annotated[list[int], typer.Argument(help="Outbox row ids.")]) -> None:
        """Give DEAD, FAILED or CANCELLED write-backs a fresh start (read back before resending)."""
        change_writes(ids, replay_writes, "reset")

    outbox.command("replay", help="Same as retry.")(retry)

    @outbox.command("cancel")
    def cancel(ids: Annotated[list[int], typer.Argument(help="Outbox row ids.")]) -> None:
        """Stop write-backs that were not delivered."""
        change_writes(ids, cancel_writes, "cancelled")

    @outbox.command("purge")
    def purge(
        older_than: Annotated[float, typer.Option(
            "--older-than", min=0, help="Days since the write-back was settled.")],
    ) -> None:
        """Delete delivered and cancelled write-backs settled more than DAYS ago (清理); rows
        still owed, FAILED or DEAD are kept for a human."""
        settings = settings_factory()

        async def run(sessions: async_sessionmaker[AsyncSession]) -> None:
            async with sessions.begin() as session:
                purged = await purge_writes(session, utcnow() - timedelta(days=older_than))
            result_console.print(f"清理 {purged} 条已送达或已取消的回写")

        asyncio.run(with_sessions(settings, run))

    @outbox.command("run")
    def run_once(
        passes: Annotated[int, typer.Option(help="Delivery passes to make.")] = 1,
        interval: Annotated[float, typer.Option(
            help="Seconds to wait after a pass that found nothing due.")] = 0.5,
    ) -> None:
        """Deliver what is due now (one pass per target by default), then print the outcomes."""
        settings = settings_factory()
        configs = sources_of(settings)

        async def run(sessions: async_sessionmaker[AsyncSession]) -> None:
            async with open_writers(configs) as writers:
                relay = OutboxRelay(sessions, writers, settings.delivery_policy())
                for done in range(1, passes + 1):
                    if not await relay.run_once() and done < passes:
                        await asyncio.sleep(interval)
            for (target, outcome), count in sorted(relay.stats.outcomes.items()):
                result_console.print(f"{target}: {outcome} {count}")

        asyncio.run(with_sessions(settings, run))
