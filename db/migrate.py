"""Alembic, driven from code: migrations are the only way the schema is created."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest).

    On PostgreSQL the transaction first takes an advisory lock, so replicas that start
    together migrate one after another: the first does the work, the rest find it done.
    """
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
            )
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
