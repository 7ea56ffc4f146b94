"""Audit writing for the running app: group commit through one background task.

``AuditWriter.record`` waits until the row is committed (nothing is lost on a crash after a
response was sent), but rows from concurrent requests share one transaction, so audit writes
cost one commit per batch rather than per request. A batch is written on a Core connection of
the sessions' engine: the rows are inserted, never read back, so an ORM session's unit of
work would only cost time.

On PostgreSQL a batch is one round trip on a connection the writer keeps, chained after the
tail it remembers (``db.audit.append_after``: a function of that session takes the advisory
lock, checks that the chain still ends there, and inserts the rows). When another process
appended meanwhile, the call returns the tail it found and the batch is chained after that
and sent again; on any error the batch takes the transactional path below, and a database
that refuses the session its function (no ``TEMP`` privilege) keeps that path. Five round
trips a batch cost more CPU than the read they audit.

One request's row must never fail another's: every event is made storable before it is
queued (``AuditEvent.storable``), and should a batch still fail, its rows are written again
one transaction each, so only a row that cannot be stored fails (its own request).
After a committed batch, a signed checkpoint of the chain's head is written outside the
database (``db.audit_checkpoints``) at most every ``checkpoint_seconds``; a batch within that
time of the last one is anchored when it is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import cast

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from connectors.tasks import cancel_and_wait
from db.audit import (
    AuditEvent,
    ChainTail,
    DriverConnection,
    append_after,
    append_events,
    chain_tail,
    prepare_append,
)
from db.audit_checkpoints import Checkpoint, CheckpointFile, write_checkpoint
from resolvers.reads import engine_of

log = structlog.get_logger(__name__)

_INSUFFICIENT_PRIVILEGE = "42501"

_Pending = tuple[AuditEvent, asyncio.Future[None]]


async def _append(session: AsyncConnection, events: list[AuditEvent]) -> None:
    """Append in this transaction, serialised against every other process (``append_events``
    takes PostgreSQL's advisory lock, or SQLite's write lock)."""
    await append_events(session, events)


class AuditWriter:
    """Queue + flusher task; ``start``/``stop`` are called by the app's lifespan."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_batch: int = 500,
        *,
        checkpoints: CheckpointFile | None = None,
        checkpoint_seconds: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self._engine = engine_of(sessions)
        self.max_batch = max_batch
        self.checkpoints = checkpoints
        self.checkpoint_seconds = checkpoint_seconds
        self._last_checkpoint = float("-inf")
        self._owed_checkpoint: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        dialect = self._engine.dialect
        self._direct = dialect.name == "postgresql" and dialect.driver == "asyncpg"
        self._held: AsyncConnection | None = None
        self._driver: DriverConnection | None = None
        self._tail: ChainTail | None = None

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
        if self._owed_checkpoint is not None:  # the forced one below covers it
            await cancel_and_wait([self._owed_checkpoint])
            self._owed_checkpoint = None
        await self._release()
        await self.checkpoint(force=True)

    async def record(self, event: AuditEvent) -> None:
        event = event.storable()
        if self._task is None:  # no lifespan (tests, one-off tools): write directly
            async with self._engine.begin() as connection:
                await _append(connection, [event])
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((event, done))
        await done

    def latest_checkpoint(self) -> Checkpoint | None:
        return self.checkpoints.latest() if self.checkpoints is not None else None

    async def checkpoint(self, *, force: bool = False) -> None:
        """Sign and write the chain's head; when one was written within the interval, write
        it once the interval is over instead, so the rows of a burst that ends inside it are
        anchored as well (else deleting them would go unseen until another batch came)."""
        now = time.monotonic()
        if self.checkpoints is None:
            return
        wait = self.checkpoint_seconds - (now - self._last_checkpoint)
        if not force and wait > 0:
            if self._owed_checkpoint is None:
                self._owed_checkpoint = asyncio.create_task(
                    self._checkpoint_after(wait), name="audit-checkpoint"
                )
            return
        self._last_checkpoint = now
        try:
            async with self.sessions() as session:
                await write_checkpoint(session, self.checkpoints)
        except Exception:  # a missed checkpoint is retried with the next batch
            self._last_checkpoint = float("-inf")
            log.exception("audit_checkpoint_failed")

    async def _checkpoint_after(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._owed_checkpoint = None  # rows committed from now on owe another
        await self.checkpoint()

    async def _write(self, batch: list[_Pending]) -> None:
        """One statement for the batch (PostgreSQL), else one transaction; on failure, one
        transaction per row, so a row that cannot be stored fails only its own request."""
        if self._direct and await self._append_direct(batch):
            for _, done in batch:
                _settle(done, None)
            return
        try:
            async with self._engine.begin() as connection:
                await _append(connection, [event for event, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                log.error("audit_write_failed", error=type(exc).__name__)
                _settle(batch[0][1], exc)
                return
            log.warning("audit_batch_failed", rows=len(batch), error=type(exc).__name__)
            for pending in batch:
                await self._write([pending])
            return
        for _, done in batch:
            _settle(done, None)

    async def _append_direct(self, batch: list[_Pending]) -> bool:
        """The batch in one round trip after the remembered tail; ``False`` when it must take
        the transactional path (any error, or the chain moved under it three times)."""
        events = [event for event, _ in batch]
        try:
            driver = await self._driver_connection()
            if self._tail is None:
                self._tail = await chain_tail(driver)
            for _ in range(3):
                written, self._tail = await append_after(driver, events, self._tail)
                if written:
                    return True
        except Exception as exc:  # the transactional path settles it, row by row if need be
            if getattr(exc, "sqlstate", None) == _INSUFFICIENT_PRIVILEGE:
                self._direct = False  # the role may not create its session's function
            log.warning("audit_direct_append_failed", rows=len(events), error=type(exc).__name__)
            await self._release()
        return False

    async def _driver_connection(self) -> DriverConnection:
        if self._driver is None:
            held = await self._engine.connect()
            try:
                raw = (await held.get_raw_connection()).driver_connection
                if raw is None:
                    raise RuntimeError("the held connection has no driver connection")
                driver = cast("DriverConnection", raw)
                await prepare_append(driver)
                self._driver = driver
            except BaseException:
                await held.close()
                raise
            self._held = held
        return self._driver

    async def _release(self) -> None:
        """Give the held connection back (a broken one is discarded by the pool)."""
        held, self._held, self._driver, self._tail = self._held, None, None, None
        if held is not None:
            with contextlib.suppress(Exception):
                await held.close()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
                await self.checkpoint()
            finally:
                for _ in batch:
                    self._queue.task_done()


def _settle(done: asyncio.Future[None], error: Exception | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:  # the waiter learns its row was not written
        done.set_exception(error)
