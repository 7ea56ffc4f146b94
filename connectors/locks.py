"""One sync per source at a time: a PostgreSQL advisory lock across processes, an asyncio
lock inside one. On SQLite a lock file beside the database (``flock``) keeps two processes
apart too (a manual ``govhub sync`` while ``serve`` or ``demo`` syncs on its schedule); the
kernel releases it when its process ends, however it ends."""

from __future__ import annotations

import asyncio
import fcntl
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.enums import SourceSystem

_LOCAL: dict[tuple[int, SourceSystem], asyncio.Lock] = {}


def advisory_key(source: SourceSystem, schema: str = "public") -> int:
    """Advisory locks are per database; the schema keeps two deployments sharing one apart."""
    return zlib.crc32(f"govhub:sync:{schema}:{source.value}".encode()) & 0x7FFFFFFF


@asynccontextmanager
async def source_lock(engine: AsyncEngine, source: SourceSystem) -> AsyncIterator[bool]:
    """Yield True when this process holds the source's sync lock, False when another does."""
    local = _LOCAL.setdefault((id(engine), source), asyncio.Lock())
    if local.locked():
        yield False
        return
    async with local:
        if engine.dialect.name != "postgresql":
            with _file_lock(engine, source) as held:
                yield held
            return
        async with engine.connect() as connection:
            schema = await connection.scalar(text("SELECT current_schema()"))
            key = advisory_key(source, str(schema))
            got = await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            try:
                yield bool(got)
            finally:
                if got:
                    await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await connection.commit()


@contextmanager
def _file_lock(engine: AsyncEngine, source: SourceSystem) -> Iterator[bool]:
    """The source's lock file beside a database file, held without waiting (True), or held by
    another process (False); an in-memory database has no other process."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        yield True
        return
    path = Path(f"{database}.sync-{source.value}.lock")
    with path.open("a+b") as handle:  # closing it releases the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held = False
        else:
            held = True
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)
