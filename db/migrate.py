"""Alembic, driven from code: migrations are the only way the schema is created."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "db:migrations")
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


_MIGRATION_LOCK = 0x60B4A0D2  # advisory-lock key reserved for migrations


class UnknownRevision(RuntimeError):
    """The database is at a revision this version's migrations do not hold: a newer govhub
    migrated it (or another application's Alembic shares its ``alembic_version``)."""

    def __init__(self, revision: str) -> None:
        super().__init__(
            f"the database's schema is at revision {revision}, which this version of govhub "
            f"does not know (its newest is {head_revision()}): it was migrated by a newer "
            "version; run that version, or restore a backup taken before its migration"
        )
        self.revision = revision


def _known_current(connection: Connection) -> str | None:
    """The database's revision, when this version's migrations hold it."""
    current = _current(connection)
    if current is not None:
        try:
            ScriptDirectory.from_config(alembic_config()).revision_map.get_revision(current)
        except RevisionError:
            raise UnknownRevision(current) from None
    return current


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest).

    On PostgreSQL the transaction first takes an advisory lock, so replicas that start
    together migrate one after another: the first does the work, the rest find it done.
    A database at a revision these migrations do not hold is :class:`UnknownRevision`.
    """
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
            )
        await connection.run_sync(_known_current)
        await connection.run_sync(_upgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def is_at_head(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == head_revision()


@asynccontextmanager
async def migrated_engine(url: str, *, schema: str | None = None) -> AsyncIterator[AsyncEngine]:
    """An engine on ``url`` (tables in ``schema``) with the database at head; disposed on exit."""
    engine = create_engine(url, schema=schema)
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
