"""The configured database made ready for a command (数据库就绪): migrated to the newest schema,
and opened by the configured PII key (``db.key_check``), or the command stops, saying why."""

from __future__ import annotations

import typer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.key_check import PiiKeyMismatch, check_pii_key
from db.migrate import UnknownRevision, upgrade
from domain.masking import mask_text
from hub.output import output_console, refuse_configuration
from hub.settings import ConfigErrorCode


async def reachable_database(engine: AsyncEngine) -> None:
    """Open ``engine``'s database once, or stop the command in one line (exit 2) saying why,
    the password hidden."""
    postgresql = engine.dialect.name == "postgresql"
    try:
        async with engine.connect() as connection:
            # NULL when no schema of the search path exists (GOVHUB_DATABASE_SCHEMA misspelt
            # or not created): every statement would fail, the migration's first with a trace
            schema = await connection.scalar(text("SELECT current_schema()")) if postgresql else ""
            path = await connection.scalar(text("SHOW search_path")) if postgresql else ""
    except (OSError, DBAPIError) as exc:  # refused, no such database, no such host
        reason = getattr(exc, "orig", None) or exc
        output_console().print(
            f"[red]database error:[/red] cannot open {engine.url.render_as_string()}: "
            f"{type(reason).__name__}: {mask_text(str(reason)).splitlines()[0][:300]}"
        )
        raise typer.Exit(2) from exc
    if schema is None:
        output_console().print(
            f"[red]database error:[/red] {engine.url.render_as_string()} has no schema "
            f"{path}: create it, or correct GOVHUB_DATABASE_SCHEMA", soft_wrap=True,
        )
        raise typer.Exit(2)


async def ready_database(engine: AsyncEngine) -> None:
    """Migrate ``engine``'s database, then check the PII key against it (exit 2 if it is not
    the key that sealed it)."""
    # reached first, so a failing migration is not mistaken for an unreachable database
    await reachable_database(engine)
    try:
        await upgrade(engine)
    except UnknownRevision as exc:  # an older replica restarted after an upgrade, say
        output_console().print(f"[red]database error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    try:
        await check_pii_key(engine)
    except PiiKeyMismatch as exc:
        refuse_configuration(ConfigErrorCode.PII_KEY_MISMATCH, str(exc))
