"""One writer of persons at a time, and one of links (归一/关联写锁).

Automatic resolution (after each sync batch, from any source, in any process) and staff
decisions all rewrite ``party_mentions.person_id`` and ``persons``; run concurrently they could
put one person's new mentions into two new persons, or write back a person a staff decision
has just changed. So each takes the linking lock for its transaction: a PostgreSQL
transaction-level advisory lock across processes, and an asyncio lock inside one (SQLite is
embedded and single-process, and serialises its writers anyway).

Re-linking records (``db.matter_links``) rewrites ``links``: two passes at once could add the
same link twice (a unique violation). A sync links the records of a resolution pass in a
transaction of its own under the links lock, after the pass has committed, so one source's
links are written while another source resolves. A staff decision takes both locks, the
linking lock first (nothing holding the links lock waits for the linking lock, so the two
never wait for each other in a circle).

Grading after a sync pass (``db.risk``) reads persons and links but writes neither: it holds
the grading lock instead, built the same way, so one source's grading runs beside another's
resolution; two grading passes still wait for each other (both would add the first grade of a
person they share).
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


def links_lock(session: AsyncSession) -> AbstractAsyncContextManager[None]:
    """Hold the links lock, as :func:`linking_lock` the linking one."""
    return _held(session, "links")


@asynccontextmanager
async def decision_locks(session: AsyncSession) -> AsyncIterator[None]:
    """Hold the linking lock, then the links lock: a staff decision changes both."""
    async with linking_lock(session), links_lock(session):
        yield


def grading_lock(session: AsyncSession) -> AbstractAsyncContextManager[None]:
    """Hold the grading lock, as :func:`linking_lock` the linking one."""
    return _held(session, "grading")


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
