"""``govhub report``: a region's figures for a period as XLSX or CSV (月研判报表), audited.

The operator's report reads every record and matter and hides no small cell; staff download
their own from the console (``monthlyReport``), within their jurisdiction and role."""

from __future__ import annotations

import asyncio
import getpass
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from db.audit import AuditEvent, append_events
from db.engine import create_engine, session_factory
from db.models import Region
from db.report import Period, build_report, write_csv, write_xlsx
from domain.enums import RegionLevel
from domain.scope import EVERYTHING
from domain.validators import InvalidIdentifier, validate_division_code
from domain.workflow.visibility import ALL_MATTERS
from hub.database import ready_database
from hub.settings import Settings

console = Console(stderr=True)


class ReportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return "unknown"


async def run_report(
    settings: Settings, region: str, period: Period, level: RegionLevel, fmt: ReportFormat,
    output: Path,
) -> list[Path]:  # fmt: skip
    """Build and write the report, and put the read on the audit log."""
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    started = time.perf_counter()
    try:
        await ready_database(engine)
        async with engine.connect() as connection:
            known = await connection.scalar(select(Region.code).where(Region.code == region))
        if known is None:
            console.print(
                f"[red]unknown region[/red] {region}: not in the region tree "
                "(load the area's codes: `govhub migrate --seed-regions`, or check the code)"
            )
            raise typer.Exit(2)
        async with engine.connect() as connection:  # the operator's report: every figure
            sheets = await build_report(
                connection, region, period, level, scope=EVERYTHING, matters=ALL_MATTERS,
                min_cell=0,
            )  # fmt: skip
        if fmt is ReportFormat.XLSX:
            write_xlsx(sheets, output)
            written = [output]
        else:
            written = write_csv(sheets, output, f"govhub-{region}-{period.label}")
        event = AuditEvent(
            principal=f"cli:{_user()}", role=None, org=None, operation="report",
            document_hash=None,
            variables={"region": region, "period": period.label, "level": level.value,
                       "format": fmt.value},
            record_ids=None, purpose=None, outcome="OK",
            duration_ms=(time.perf_counter() - started) * 1000, occurred_at=datetime.now(UTC),
        )  # fmt: skip
        async with session_factory(engine).begin() as session:
            await append_events(session, [event])
        return written
    finally:
        await engine.dispose()


def register(app: typer.Typer, settings_factory: Callable[[], Settings]) -> None:
    """Add ``report`` to the main CLI."""

    @app.command()
    def report(
        region: Annotated[str, typer.Option(help="Region code, e.g. 411200 (区划代码).")],
        period: Annotated[str, typer.Option(help="2026-03, 2026-Q1 or 2026 (报告期).")],
        level: Annotated[
            RegionLevel, typer.Option(help="Level of the by-region sheet (区划层级).")
        ] = RegionLevel.COUNTY,
        fmt: Annotated[ReportFormat, typer.Option("--format", help="xlsx or csv.")] = (
            ReportFormat.XLSX
        ),
        output: Annotated[
            Path | None,
            typer.Option(help="File (xlsx) or directory (csv); default: in the current one."),
        ] = None,
    ) -> None:
        """Write a region's figures and KPIs for a period, with their definitions (月研判)."""
        try:
            parsed = Period.parse(period)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--period") from exc
        try:  # a prefix (4112) or a made-up code would give an empty or partial report
            region = validate_division_code(region)
        except InvalidIdentifier as exc:
            raise typer.BadParameter(
                f"{exc} (a whole code: 411200 for a city, 410000 for a province)",
                param_hint="--region",
            ) from exc
        settings = settings_factory()
        target = output or Path(
            f"govhub-{region}-{parsed.label}.xlsx" if fmt is ReportFormat.XLSX else "."
        )
        written = asyncio.run(run_report(settings, region, parsed, level, fmt, target))
        for path in written:
            console.print(f"written: {path}")
