"""Audit writing for the running app: group commit through one background task.

``AuditWriter.record`` waits until the row is committed (nothing is lost on a crash after a
response was sent), but rows from concurrent requests share one transaction, so audit writes
cost one commit per batch rather than per request.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit import AuditEvent, append_events

log = structlog.get_logger(__name__)

_Pending = tuple[AuditEvent, asyncio.Future[None]]


async def _append(session: AsyncSession, events: list[AuditEvent]) -> None:
    """Append in this transaction, serialised against every other process.

    PostgreSQL: ``append_events`` takes an advisory lock. SQLite: a no-op write first takes
    the database's write lock, so no other process (``uvicorn --workers 2``) reads the same
    chain tail between our read and our insert.
    """
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        await session.execute(text("UPDATE audit_log SET id = id WHERE 0 = 1"))
    await append_events(session, events)


class AuditWriter:
    """Queue + flusher task; ``start``/``stop`` are called by the app's lifespan."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_batch: int = 500) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def record(self, event: AuditEvent) -> None:
        if self._task is None:  # no lifespan (tests, one-off tools): write directly
            async with self.sessions.begin() as session:
                await _append(session, [event])
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((event, done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self.sessions.begin() as session:
                    await _append(session, [event for event, _ in batch])
            except Exception as exc:  # each waiter learns its row was not written
                log.exception("audit_write_failed", rows=len(batch))
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
            finally:
                for _ in batch:
                    self._queue.task_done()
