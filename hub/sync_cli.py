"""``govhub sync`` and ``govhub deadletter``: one-off runs with progress and a summary."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
import uvloop
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from connectors.config import SourceConfig, load_sources
from connectors.deadletters import open_dead_letters, replay_dead_letters
from connectors.errors import SourcesFileError
from connectors.registry import build_connector, make_http_client, open_connectors
from connectors.sync import RunResult, sync_source
from connectors.writeback.relay import build_writer
from db.engine import create_engine, session_factory
from domain.enums import SourceSystem
from domain.heap import collect_young_for_bulk_work
from hub.bus import open_bus, record_announcer
from hub.database import ready_database
from hub.matters import build_workflow, check_rule_files, intake_rules, matter_intake
from hub.output import beijing_time, output_console, readable_table, refuse_configuration
from hub.risk import risk_alert_announcer, risk_config
from hub.settings import ConfigErrorCode, Settings, SettingsError

console = output_console()
"""Progress lines and errors (stderr)."""
result_console = output_console(stderr=False)
"""What a command did: its summary table, the dead letters listed (stdout)."""


def sources_of(
    settings: Settings, only: set[SourceSystem] | None = None
) -> dict[SourceSystem, SourceConfig]:
    """The sources file, its enabled sources of ``only`` (all when None) checked buildable;
    exit 2 naming what is wrong, a source ``only`` names that the file leaves out or switches
    off among it (a command asked for it: doing nothing with status 0 would hide that)."""
    if settings.sources_file is None:
        refuse_configuration(
            ConfigErrorCode.MISSING_SETTING,
            "GOVHUB_SOURCES_FILE is not set: point it at a sources TOML",
        )
    try:
        sources = load_sources(settings.sources_file)
        for source in sorted(only or (), key=list(SourceSystem).index):
            if source not in sources:
                raise SourcesFileError(f"sources.{source.value}: not in the sources file "
                                       f"{settings.sources_file}")
            if not sources[source].enabled:
                raise SourcesFileError(f"sources.{source.value}.enabled is false in "
                                       f"{settings.sources_file}: it is neither synced nor "
                                       "written back to")
        check_buildable({s: c for s, c in sources.items() if only is None or s in only})
    except SourcesFileError as exc:
        refuse_configuration(ConfigErrorCode.INVALID_SOURCES_FILE, f"sources file: {exc}")
    return sources


def check_buildable(sources: dict[SourceSystem, SourceConfig]) -> None:
    """Build every enabled source's connector and writer once, sending nothing: a setting
    only a connector reads (a missing credential) is a :class:`SourcesFileError` now, before
    any source runs, rather than a failure of every source later."""
    http = make_http_client()  # handed to the builders, never used
    for source, config in sources.items():
        if config.enabled:
            build_connector(source, config, http)
            build_writer(source, config, http)


def parse_source_names(names: list[str]) -> set[SourceSystem] | None:
    if not names:
        return None
    try:
        return {SourceSystem(name.upper()) for name in names}
    except ValueError as exc:
        known = ", ".join(s.value for s in SourceSystem)
        raise typer.BadParameter(f"unknown source; known: {known}") from exc


def summary_table(results: list[RunResult]) -> Table:
    table = readable_table(
        "sync summary (同步结果)",
        ("source", "status", "fetched", "inserted", "updated", "unchanged", "deleted",
         "dead letters", "retries", "error"),
    )  # fmt: skip
    for r in results:
        colour = "green" if r.ok else "red"
        table.add_row(
            r.source.value, f"[{colour}]{r.status}[/{colour}]", str(r.fetched),
            str(r.counts.inserted), str(r.counts.updated), str(r.counts.unchanged),
            str(r.counts.deleted), str(r.dead_lettered), str(r.retries), r.error or "",
        )  # fmt: skip
    return table


Report = Callable[[RunResult], None]
"""Hears a source's result as its sync goes on, and once more when it ends."""


def chosen_sources(
    configs: dict[SourceSystem, SourceConfig], only: set[SourceSystem] | None
) -> list[SourceSystem]:
    """The enabled sources of the sources file that ``only`` names (all when None), in order."""
    return [s for s, c in configs.items() if c.enabled and (only is None or s in only)]


@contextlib.contextmanager
def progress_lines(sources: list[SourceSystem], *, show: bool = True) -> Iterator[Report]:
    """A live line per source while the block runs; yields the :data:`Report` that updates it."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"),
        TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
        console=console, disable=not show,
    ) as progress:  # fmt: skip
        tasks: dict[SourceSystem, TaskID] = {
            s: progress.add_task(s.value, total=None, info="starting") for s in sources
        }

        def report(result: RunResult) -> None:
            info = (
                f"fetched {result.fetched}  new {result.counts.inserted}  "
                f"updated {result.counts.updated}  dead {result.dead_lettered}"
            )
            progress.update(tasks[result.source], info=info)
            if result.status != "RUNNING":
                progress.update(tasks[result.source], total=1, completed=1)

        yield report


async def run_sync(
    settings: Settings, only: set[SourceSystem] | None, *, full: bool, show: bool = True
) -> list[RunResult]:
    """Sync the chosen sources concurrently in this process, a progress line each."""
    with progress_lines(chosen_sources(sources_of(settings, only), only), show=show) as report:
        return await sync_sources(settings, only, full=full, report=report)


async def sync_sources(
    settings: Settings,
    only: set[SourceSystem] | None,
    *,
    full: bool,
    report: Report,
    readied: bool = False,
) -> list[RunResult]:
    """Sync the chosen sources concurrently in this process; ``report`` hears of each.
    ``readied``: the command's process has migrated the database and checked the PII key
    against it (``sync --workers N``), so this process does not again."""
    configs = sources_of(settings, only)
    risk = risk_config(settings)
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    sessions = session_factory(engine)
    try:
        if not readied:
            await ready_database(engine)
        async with contextlib.AsyncExitStack() as stack:
            # Serving processes hear of the changes through Redis; alone, nobody would.
            announce, bus = None, None
            alert = risk_alert_announcer(None)
            if settings.redis_url:
                bus = await stack.enter_async_context(
                    open_bus(settings.redis_url, settings.bus_namespace())
                )
                announce = record_announcer(bus)
                alert = risk_alert_announcer(bus)
            follow = matter_intake(build_workflow(settings, sessions, bus), intake_rules(settings))
            connectors = await stack.enter_async_context(open_connectors(configs, only))

            async def one(source: SourceSystem) -> RunResult:
                result = await sync_source(
                    engine,
                    sessions,
                    connectors[source],
                    full=full,
                    progress=report,
                    on_changes=announce,
                    risk=risk,
                    on_risk_alerts=alert,
                    after_linking=follow,
                )
                report(result)
                return result

            return list(await asyncio.gather(*(one(s) for s in connectors)))
    finally:
        await engine.dispose()


def register(
    app: typer.Typer, settings_factory: Callable[[], Settings], worker: Callable[..., None]
) -> None:
    """Add ``sync`` and ``deadletter`` to the main CLI."""
    deadletter = typer.Typer(help="Records that could not be ingested (死信).")
    app.add_typer(deadletter, name="deadletter")

    @app.command()
    def sync(
        sources: Annotated[list[str] | None, typer.Argument(help="Sources (default: all).")] = None,
        full: Annotated[bool, typer.Option("--full", help="Ignore checkpoints.")] = False,
        workers: Annotated[
            int,
            typer.Option(
                min=1,
                help="Processes to share the sources among, one per core; more than one "
                "needs PostgreSQL.",
            ),
        ] = 1,
    ) -> None:
        """Sync sources now: a progress line per source, a summary, non-zero exit on failure."""
        from hub.sync_workers import run_in_processes, workers_problem

        settings = settings_factory()
        only = parse_source_names(sources or [])
        try:  # a rules file that does not load stops the command before it syncs anything
            check_rule_files(settings)
        except SettingsError as exc:
            refuse_configuration(exc.code, str(exc))
        problem = workers_problem(settings, workers)
        if problem is not None:
            refuse_configuration(ConfigErrorCode.INVALID_SETTING, problem)
        collect_young_for_bulk_work()  # here and in each worker (forked from here, or not)
        if workers == 1:
            results = uvloop.run(run_sync(settings, only, full=full))
        else:
            results = run_in_processes(settings, only, full=full, workers=workers, worker=worker)
        result_console.print(summary_table(results))
        if not all(r.ok for r in results):
            raise typer.Exit(1)

    @deadletter.command("list")
    def list_(
        source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
        all_: Annotated[bool, typer.Option("--all", help="Include resolved ones.")] = False,
    ) -> None:
        """Show dead letters with their reason (the payload stays sealed)."""
        settings = settings_factory()
        chosen = parse_source_names([source] if source else [])
        columns = ("id", "source", "key", "code", "reason", "attempts", "last seen", "resolved")
        table = readable_table("dead letters (死信)", columns)

        async def load() -> None:
            engine = create_engine(settings.database_url, schema=settings.database_schema)
            try:
                await ready_database(engine)
                async with session_factory(engine)() as session:
                    only = next(iter(chosen)) if chosen else None
                    for d in await open_dead_letters(session, only, include_resolved=all_,
                                                     payloads=False):
                        table.add_row(
                            str(d.id), d.source.value, d.source_key or "-", d.error_code,
                            d.reason, str(d.attempts), beijing_time(d.last_seen_at, "%H:%M"),
                            "yes" if d.resolved_at else "",
                        )  # fmt: skip
            finally:
                await engine.dispose()

        uvloop.run(load())
        result_console.print(table)

    @deadletter.command("replay")
    def replay(
        source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    ) -> None:
        """Re-parse open dead letters with the current mapping; ingest what now passes."""
        settings = settings_factory()
        picked = parse_source_names([source] if source else [])
        configs = sources_of(settings, picked)
        chosen = picked or set(configs)

        async def run() -> None:
            engine = create_engine(settings.database_url, schema=settings.database_schema)
            try:
                await ready_database(engine)
                async with open_connectors(configs, chosen) as connectors:
                    for connector in connectors.values():
                        r = await replay_dead_letters(session_factory(engine), connector)
                        result_console.print(
                            f"{r.source.value}: replayed {r.replayed}, ingested {r.ingested}, "
                            f"still failing {r.still_failing}"
                        )
            finally:
                await engine.dispose()

        uvloop.run(run())
