"""One read transaction per GraphQL query operation (每次查询一个读事务).

graphql-core resolves sibling fields concurrently and every DataLoader batch runs as its own
task, so each resolver used to check a connection out of the pool for its statement: a page
with regions, parties and persons took four checkouts, a nested query a dozen, and under
load the pool opened new PostgreSQL sessions to keep up. Here a query operation checks out
one connection the first time it reads, runs every read on it in turn (an ``asyncio.Lock``
per statement: a connection runs one statement at a time) inside one transaction, and gives
it back when the operation ends, before its audit row is written.

On PostgreSQL that transaction is the connection's autocommit one: at READ COMMITTED (the
engine's level) every statement sees its own snapshot whether or not a BEGIN came first, so
a BEGIN and a ROLLBACK would cost two round trips per operation and change no answer. SQLite's
read transactions are snapshots shared by their statements, so there the reads keep theirs.

The operation's reads are found through a context variable that the :class:`ReadTransaction`
extension sets for the operation's task: tasks started by it (DataLoader batches, concurrent
fields) copy the variable at creation, so they share the transaction too. Mutations and
subscriptions read as before, each statement on a short connection of its own: a mutation's
payload must see what it just committed, which a snapshot taken before would hide (SQLite's
read transactions are snapshots).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, cast

from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable
from sqlalchemy.util import greenlet_spawn
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from db.driver_select import AfterError, FetchingConnection, after_error, driver_select
from db.queries import AnySelect


class SerialConnection(AsyncConnection):
    """An operation's connection, shared by its resolvers: one statement at a time."""

    def __init__(self, engine: AsyncEngine, connection: Connection) -> None:
        super().__init__(engine, connection)
        self._lock = asyncio.Lock()

    async def driver_fetch(self, statement: AnySelect, params: Any = None) -> list[Any] | None:
        """``statement``'s rows read by the driver itself (``db.driver_select``), by column
        name, or ``None`` when it must go through :meth:`execute`: only on a sound session
        at AUTOCOMMIT, where SQLAlchemy holds no transaction the driver's statement would
        have to join."""
        form = driver_select(statement, self.dialect)
        if form is None or not form.takes(params):
            return None
        arguments = form.arguments(params)
        async with self._lock:
            connection = self.sync_connection
            if connection is None or connection.closed or connection.invalidated:
                return None  # SQLAlchemy reconnects, in its greenlet
            proxied = connection.connection
            if not getattr(proxied.dbapi_connection, "autocommit", False):
                return None  # a session opened again is at the engine's level, not ours
            driver = cast(FetchingConnection, proxied.driver_connection)
            try:
                rows = await driver.fetch(form.sql, *arguments)
            except BaseException as error:
                await self._after_error(proxied, after_error(driver, error), error)
                raise
        return form.converted(rows)

    async def _after_error(
        self, proxied: PoolProxiedConnection, state: AfterError, error: BaseException
    ) -> None:
        """As SQLAlchemy does when its own statement fails so: a lost server invalidates
        every pooled session opened before now, an unsure session is not handed out again,
        and the operation's other reads begin afresh on a new one."""
        if state == "refused":
            return
        if state == "lost":
            # what Connection._handle_dbapi_exception does on a disconnect
            self.sync_engine.pool._invalidate(proxied, error)
        await self.invalidate()
        await self.rollback()

    async def close_after_use(self) -> None:
        """Return the session once no statement of a straggling task is on it (the driver's
        statements pass the adapter's own guard by)."""
        async with self._lock:
            await self.close()

    async def execute(
        self, statement: Executable, parameters: Any = None, **kw: Any
    ) -> CursorResult[Any]:
        # AsyncConnection.scalar and .scalars read through execute; results come buffered,
        # so the lock is held for the round trip only.
        async with self._lock:
            try:
                result: CursorResult[Any] = await super().execute(statement, parameters, **kw)
            except DBAPIError:
                # A failed statement aborts PostgreSQL's transaction: end it, so the
                # operation's other fields still read (in a transaction begun afresh).
                await self.rollback()
                raise
            return result

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """An ORM session on this connection, alone on it while open (its own statements
        follow one another; nobody else's run in between)."""
        async with self._lock:
            session = AsyncSession(bind=self, expire_on_commit=False)
            try:
                yield session
            finally:
                await session.close()


class OperationReads:
    """The read connection of one operation: checked out on first use, closed at the end."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._serial: SerialConnection | None = None
        self._opening = asyncio.Lock()
        self.closed = False

    async def connection(self) -> SerialConnection:
        if self.closed:  # a straggling task of an ended operation must not open one again
            raise RuntimeError("the operation's reads have ended")
        if self._serial is None:
            async with self._opening:
                if self._serial is None:
                    connection = await greenlet_spawn(_checked_out, self._engine.sync_engine)
                    self._serial = SerialConnection(self._engine, connection)
        return self._serial

    async def close(self) -> None:
        """End the read transaction (it wrote nothing) and return the connection."""
        self.closed = True
        connection, self._serial = self._serial, None
        if connection is not None:
            await connection.close_after_use()


def _checked_out(engine: Engine) -> Connection:
    """A pooled connection, at AUTOCOMMIT where statements take their own snapshots (see the
    module's doc): checked out and set in one trip into the synchronous engine (one greenlet,
    not two). Decided once connected: a dialect knows its default level from then on."""
    connection = engine.connect()
    if _statement_snapshots(connection.dialect):
        try:
            connection.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            connection.close()
            raise
    return connection


def _statement_snapshots(dialect: Dialect) -> bool:
    """PostgreSQL at READ COMMITTED (its default, and the engine's): a snapshot per statement."""
    return dialect.name == "postgresql" and dialect.default_isolation_level == "READ COMMITTED"


_CURRENT: ContextVar[OperationReads | None] = ContextVar("govhub_operation_reads", default=None)


def current_reads(engine: AsyncEngine) -> OperationReads | None:
    """The running operation's reads, when they go to ``engine`` (a test may hold two)."""
    reads = _CURRENT.get()
    if reads is None or reads.closed or reads._engine is not engine:
        return None  # a task that outlived its operation reads on a short connection of its own
    return reads


@asynccontextmanager
async def operation_reads(engine: AsyncEngine) -> AsyncIterator[OperationReads]:
    """Share one read transaction among the reads of the enclosed code (and its tasks)."""
    reads = OperationReads(engine)
    token = _CURRENT.set(reads)
    try:
        yield reads
    finally:
        _CURRENT.reset(token)
        await reads.close()


@asynccontextmanager
async def shared_or_own(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The operation's read connection, or a short one of its own outside an operation."""
    reads = current_reads(engine)
    if reads is not None:
        yield await reads.connection()
        return
    async with engine.connect() as own:
        yield own


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a session factory is bound to."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory is not bound to an AsyncEngine")
    return bind


@asynccontextmanager
async def read_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """An ORM session for reads: on the operation's read connection, or a session of its own."""
    reads = current_reads(engine_of(sessions))
    if reads is None:
        async with sessions() as session:
            yield session
        return
    async with (await reads.connection()).session() as session:
        yield session


class ReadTransaction(SchemaExtension):
    """Runs a query operation's reads in one transaction on one connection (see above)."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        sessions = getattr(context.context, "sessions", None)
        if sessions is None or context.operation_type is not OperationType.QUERY:
            yield
            return
        async with operation_reads(engine_of(sessions)):
            yield
