"""One sync per source at a time: a PostgreSQL advisory lock across processes, an asyncio
lock inside one (SQLite is embedded and single-process by design)."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
            yield True
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
