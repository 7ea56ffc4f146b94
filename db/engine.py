"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry


def _prepare_sqlite_path(url: URL) -> None:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets dashboards read while a sync writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Five sources may sync at once into one file: a writer waits its turn rather than fail
    # a batch (it is retried at the next sync anyway, but a failed batch costs a whole round).
    cursor.execute("PRAGMA busy_timeout=120000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


POOL_SIZE = 20
"""Connections the pool keeps open: a query operation holds one (``resolvers.reads``), so
this many concurrent operations run without opening a PostgreSQL session."""
POOL_MAX_OVERFLOW = 10
"""Connections opened beyond the pool under a burst, closed when given back."""


def create_engine(
    database_url: str,
    *,
    schema: str | None = None,
    echo: bool = False,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_MAX_OVERFLOW,
) -> AsyncEngine:
    """Create the async engine; ``schema`` puts a PostgreSQL connection's tables in that schema.

    No ping on checkout: it cost a round trip per checkout, and a connection the server
    dropped fails its statement, is invalidated and replaced (the pool does not hand it out
    again)."""
    url = make_url(database_url)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        _prepare_sqlite_path(url)
        connect_args["timeout"] = 120
    elif schema is not None:
        connect_args["server_settings"] = {"search_path": schema}
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=max_overflow,
    )
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


@asynccontextmanager
async def scratch_schema(url: str, prefix: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL schema on the server at ``url``, dropped on exit (tests and
    benchmarks); yields its name, for ``create_engine(url, schema=...)``."""
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield schema
        finally:
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()
