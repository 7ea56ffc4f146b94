"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from domain.jsontext import column_json


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

PlanCacheMode = Literal["force_generic_plan", "auto", "force_custom_plan"]
PLAN_CACHE_MODE: PlanCacheMode = "force_generic_plan"
"""PostgreSQL's ``plan_cache_mode`` for govhub's sessions (执行计划缓存).

asyncpg prepares every statement once per connection, but at PostgreSQL's default (``auto``)
a statement that binds a list of ids (``records.id = ANY($1)``, the loaders' shape) is
planned again at every execution: the planner prices its generic plan for an assumed list of
ten and keeps preferring a custom one. Planning the seven-table record read took 0.66 ms of
the server's CPU per execution, executing it 0.08 ms. A generic plan can go wrong where the
best plan depends on a bound value (a ``LIKE`` prefix, a heavily skewed column); govhub's
statements carry jurisdiction bounds as literals and filter regions by ranges, which an
index serves under either plan. ``auto`` restores PostgreSQL's default
(``GOVHUB_DB_PLAN_CACHE_MODE``)."""


def create_engine(
    database_url: str,
    *,
    schema: str | None = None,
    echo: bool = False,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_MAX_OVERFLOW,
    plan_cache_mode: PlanCacheMode = PLAN_CACHE_MODE,
) -> AsyncEngine:
    """Create the async engine; ``schema`` puts a PostgreSQL connection's tables in that schema.

    No ping on checkout: it cost a round trip per checkout, and a connection the server
    dropped fails its statement, is invalidated and replaced (the pool does not hand it out
    again). On PostgreSQL every session starts with ``plan_cache_mode`` (see
    :data:`PLAN_CACHE_MODE`). JSON columns are written by orjson
    (:func:`~domain.jsontext.column_json`)."""
    url = make_url(database_url)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        _prepare_sqlite_path(url)
        connect_args["timeout"] = 120
    elif url.get_driver_name() == "asyncpg":
        server_settings: dict[str, str] = {"plan_cache_mode": plan_cache_mode}
        if schema is not None:
            server_settings["search_path"] = schema
        connect_args["server_settings"] = server_settings
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=max_overflow,
        json_serializer=column_json,
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
