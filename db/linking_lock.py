"""One writer of persons and links at a time (归一/关联写锁).

Automatic resolution (after each sync batch, from any source, in any process) and staff
decisions all rewrite ``party_mentions.person_id``, ``persons`` and ``links``. Run
concurrently they could create the same link twice (a unique violation) or write back a
person a staff decision has just changed. So each takes this lock for its transaction: a
PostgreSQL transaction-level advisory lock across processes, and an asyncio lock inside one
(SQLite is embedded and single-process, and serialises its writers anyway).

Grading after a sync pass (``db.risk``) reads persons and links but writes neither: it holds
the grading lock instead, built the same way, so one source's grading runs beside another's
resolution; two grading passes still wait for each other (both would add the first grade of a
person they share). Matter intake (``db.matter_intake``) holds a third, for each chunk's
transaction: one source's intake sees the matters another's has just opened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_LOCAL: dict[tuple[int, str], asyncio.Lock] = {}


def linking_lock(session: AsyncSession) -> AbstractAsyncContextManager[None]:
    """Hold the linking lock; the PostgreSQL part lasts until the session's transaction ends."""
    return _held(session, "linking")


def grading_lock(session: AsyncSession) -> AbstractAsyncContextManager[None]:
    """Hold the grading lock, as :func:`linking_lock` the linking one."""
    return _held(session, "grading")


def intake_lock(session: AsyncSession) -> AbstractAsyncContextManager[None]:
    """Hold the matter intake lock, as :func:`linking_lock` the linking one: two sources'
    intake of records linked to each other would otherwise each open a matter, neither seeing
    the other's before it commits."""
    return _held(session, "intake")


@asynccontextmanager
async def _held(session: AsyncSession, name: str) -> AsyncIterator[None]:
    local = _LOCAL.setdefault((id(asyncio.get_running_loop()), name), asyncio.Lock())
    async with local:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            # per schema, as the source locks (connectors.locks): two deployments (or test and
            # benchmark schemas) sharing one database do not wait for one another
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:name || current_schema()))"),
                {"name": f"govhub:{name}:"},
            )
        yield
