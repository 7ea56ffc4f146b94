"""``govhub risk regrade``: grade every record again under the rules in force (重新研判).

A sync grades what it changes, and a grade stays until its facts change: after an upgrade
that corrects the rules, or an edited ``GOVHUB_RISK_RULES_FILE``, the stored grades are the
old rules' until a record is touched. This command grades every live record (with the records
linked to it, its persons and its matters, as a sync's grading pass does) in chunks, each in
its own transaction under the grading lock, so it can run beside ``serve`` and a sync, and a
stopped run leaves every finished chunk graded. Grades that rise to the alert level are
announced on the bus when ``GOVHUB_REDIS_URL`` is set, as a sync's are. Staff overrides
(人工调整) hold as long as their facts are unchanged, as in a sync.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select

from db.engine import create_engine, session_factory
from db.linking_lock import grading_lock
from db.models import Record
from db.risk import RiskConfig, grade_touched
from hub.bus import open_bus
from hub.database import ready_database
from hub.output import refuse_configuration
from hub.risk import risk_alert_announcer, risk_config
from hub.settings import Settings, SettingsError

console = Console()
CHUNK = 2000
"""Records graded per transaction."""


@dataclass
class Regraded:
    records: int = 0
    alerts: int = 0


async def regrade_all(
    settings: Settings,
    config: RiskConfig,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> Regraded:
    """Grade every live record again under ``config``; ``progress(done, total)`` after each
    chunk."""
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    done = Regraded()
    try:
        await ready_database(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            ids = list(
                await session.scalars(
                    select(Record.id).where(Record.deleted.is_(False)).order_by(Record.id)
                )
            )
        async with contextlib.AsyncExitStack() as stack:
            bus = (
                await stack.enter_async_context(
                    open_bus(settings.redis_url, settings.bus_namespace())
                )
                if settings.redis_url
                else None
            )
            announce = risk_alert_announcer(bus)
            for start in range(0, len(ids), chunk):
                part = ids[start : start + chunk]
                async with sessions.begin() as session, grading_lock(session):
                    alerts = await grade_touched(session, part, config)
                if alerts:
                    await announce(alerts)
                done.records += len(part)
                done.alerts += len(alerts)
                if progress is not None:
                    progress(done.records, len(ids))
    finally:
        await engine.dispose()
    return done


def register(app: typer.Typer, settings_factory: Callable[[], Settings]) -> None:
    """Add ``risk regrade`` to the main CLI."""
    risk = typer.Typer(help="Risk grading (风险研判).", no_args_is_help=True)
    app.add_typer(risk, name="risk")

    @risk.command("regrade")
    def regrade(
        chunk: Annotated[int, typer.Option(min=1, help="Records per transaction.")] = CHUNK,
    ) -> None:
        """Grade every record again under the rules in force (after a rules change)."""
        settings = settings_factory()
        try:  # a bad rules file is named before anything is graded
            config = risk_config(settings)
        except SettingsError as exc:
            refuse_configuration(exc.code, str(exc))
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("重新研判 regrading", total=None)

            def moved(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = asyncio.run(regrade_all(settings, config, chunk=chunk, progress=moved))
        console.print(
            f"regraded {result.records:,} records (with their linked records, persons and "
            f"matters); {result.alerts:,} grades rose to the alert level"
        )
