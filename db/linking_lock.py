"""One writer of persons and links at a time (归一/关联写锁).

Automatic resolution (after each sync batch, from any source, in any process) and staff
decisions all rewrite ``party_mentions.person_id``, ``persons`` and ``links``. Run
concurrently they could create the same link twice (a unique violation) or write back a
person a staff decision has just changed. So each takes this lock for its transaction: a
PostgreSQL transaction-level advisory lock across processes, and an asyncio lock inside one
(SQLite is embedded and single-process, and serialises its writers anyway).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_LOCAL: dict[int, asyncio.Lock] = {}


@asynccontextmanager
async def linking_lock(session: AsyncSession) -> AsyncIterator[None]:
    """Hold the linking lock; the PostgreSQL part lasts until the session's transaction ends."""
    local = _LOCAL.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
    async with local:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            # per schema, as the source locks (connectors.locks): two deployments (or test and
            # benchmark schemas) sharing one database do not wait for one another
            await session.execute(text(
                "SELECT pg_advisory_xact_lock(hashtext('govhub:linking:' || current_schema()))"
            ))  # fmt: skip
        yield
