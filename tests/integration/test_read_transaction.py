"""One read transaction per query operation (plus its audit row), and no new connections
under concurrent load (resolvers/reads.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from resolvers.reads import current_reads, operation_reads, shared_or_own
from tests.integration.graphql_world import (
    DriverReads,
    graphql,
    graphql_client,
    seed_world,
    unlink_regions,
)

QUERY_PAGE = """
query Page {
  records(first: 50) {
    totalCount
    edges { node { id title region { code name } parties { role person { id name } } } }
  }
}
"""

QUERY_BY_ID = """
query ById($id: ID!) { node(id: $id) { id ... on Record { title status region { code } } } }
"""

# The timeline entries' roles keep these on the general path, several statements each (a
# selection PostgreSQL builds as JSON reads in one: tests/integration/test_page_json.py).
QUERY_NESTED = """
query Nested {
  records(first: 5) {
    edges { node { id parties { role person { id name records { roles record { id title } } } } } }
  }
}
"""


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_world(committing_engine, records=60)
    async with graphql_client(committing_engine, pii_key) as client:
        yield client
    await unlink_regions(committing_engine)


def _is_audit(statement: str) -> bool:
    return "audit_log" in statement or "pg_advisory_xact_lock" in statement


@contextmanager
def read_transactions(engine: AsyncEngine) -> Iterator[list[tuple[int, int]]]:
    """(connection, transaction) of every read statement run while open."""
    seen: list[tuple[int, int]] = []

    def note(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not _is_audit(statement):
            seen.append((id(conn.connection.dbapi_connection), id(conn.get_transaction())))

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def _audit_rows(engine: AsyncEngine) -> int:
    # Counted, not caught as statements: on PostgreSQL the audit writer inserts on its own
    # driver connection (db.audit.append_after), past SQLAlchemy's events.
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM audit_log")) or 0)


@contextmanager
def new_connections(engine: AsyncEngine) -> Iterator[list[object]]:
    opened: list[object] = []

    def note(dbapi_connection: Any, _record: Any) -> None:
        opened.append(dbapi_connection)

    event.listen(engine.sync_engine.pool, "connect", note)
    try:
        yield opened
    finally:
        event.remove(engine.sync_engine.pool, "connect", note)


@pytest.mark.parametrize("query", [QUERY_PAGE, QUERY_BY_ID, QUERY_NESTED], ids=lambda q: q[7:14])
async def test_a_query_reads_in_one_transaction_and_is_audited(
    client: httpx.AsyncClient,
    committing_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    # given a record id for the by-id query
    first = await graphql(client, "{ records(first: 1) { edges { node { id } } } }")
    record_id = first["data"]["records"]["edges"][0]["node"]["id"]
    # when the query runs
    audited = await _audit_rows(committing_engine)
    driver = DriverReads(monkeypatch)
    with read_transactions(committing_engine) as reads:
        body = await graphql(client, query, {"id": record_id} if "$id" in query else None)
    # then it answers in full
    assert "errors" not in body, body
    assert body["data"]
    # and its reads (several statements; by id one: the record with its region) ran on one
    # connection in one transaction; on PostgreSQL the by-id statement builds the answer, and
    # once seen the operation's connection hands it to the driver itself
    if driver.calls:  # a by-id statement seen before: one, by the operation's connection
        assert query is QUERY_BY_ID and (reads, driver.calls) == ([], 1)
    else:
        assert len(reads) >= (1 if query is QUERY_BY_ID else 2)
        assert len(set(reads)) == 1, reads
    # and the operation was audited, once
    assert await _audit_rows(committing_engine) == audited + 1


async def test_sixteen_concurrent_clients_open_no_new_connections(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given the pool warmed by two rounds of 16 concurrent pages (the audit writer keeps a
    # connection of its own from its first batch on, so the second round needs 17)
    for _ in range(2):
        await asyncio.gather(*(graphql(client, QUERY_PAGE) for _ in range(16)))
    # when 16 clients read pages and nested queries concurrently, five rounds
    with new_connections(committing_engine) as opened:
        for _ in range(5):
            bodies = await asyncio.gather(
                *(graphql(client, QUERY_PAGE if n % 2 else QUERY_NESTED) for n in range(16))
            )
    # then every answer is complete and no new database connection was opened
    assert all("errors" not in body for body in bodies)
    assert opened == []


async def test_a_failed_read_leaves_the_operations_other_reads_answering(
    engine: AsyncEngine,
) -> None:
    # given an operation's shared read connection
    async with operation_reads(engine) as reads:
        connection = await reads.connection()
        # when one of its statements fails (PostgreSQL then aborts the transaction)
        with pytest.raises(DBAPIError):
            await connection.execute(text("SELECT id FROM no_such_table"))
        # then the next read of the same operation still answers
        assert (await connection.execute(text("SELECT 41 + 1"))).scalar_one() == 42


async def test_a_task_outliving_its_operation_reads_on_a_connection_of_its_own(
    engine: AsyncEngine,
) -> None:
    # given a task started by an operation (a DataLoader batch, a sibling field) that is
    # still running when the operation ends, as after a sibling's error
    release = asyncio.Event()

    async def straggler() -> int:
        await release.wait()
        async with shared_or_own(engine) as connection:
            return int((await connection.execute(text("SELECT 7"))).scalar_one())

    async with operation_reads(engine) as reads:
        task = asyncio.create_task(straggler())
    # when it reads after the operation's connection went back to the pool
    release.set()
    # then it reads on a short connection it closes itself: none is left for the collector
    assert await task == 7
    assert reads.closed and current_reads(engine) is None
    with pytest.raises(RuntimeError):
        await reads.connection()


async def test_postgresql_reads_send_no_begin_at_read_committed(engine: AsyncEngine) -> None:
    # given an operation's reads on PostgreSQL, whose default isolation is READ COMMITTED
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's transactions only")
    async with operation_reads(engine) as reads:
        connection = await reads.connection()
        # when two statements, a moment apart, ask when their transaction began
        first = (await connection.execute(text("SELECT now()"))).scalar_one()
        await asyncio.sleep(0.02)
        second = (await connection.execute(text("SELECT now()"))).scalar_one()
    # then each ran in a transaction of its own (no BEGIN held one open between them): each
    # statement sees what was committed when it started, as in a READ COMMITTED transaction
    assert second > first


async def test_postgresql_reads_skip_begin_and_rollback_sqlite_keeps_its_snapshot(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # given the reads' isolation as each statement sees it
    levels: list[str | None] = []

    def note(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not _is_audit(statement):
            levels.append(conn.get_execution_options().get("isolation_level"))

    event.listen(committing_engine.sync_engine, "before_cursor_execute", note)
    try:
        body = await graphql(client, QUERY_NESTED)
    finally:
        event.remove(committing_engine.sync_engine, "before_cursor_execute", note)
    assert "errors" not in body, body
    # then on PostgreSQL (READ COMMITTED: a snapshot per statement anyway) no BEGIN is sent;
    # SQLite's reads share one snapshot transaction
    postgres = committing_engine.dialect.name == "postgresql"
    assert len(levels) >= 3
    assert set(levels) == ({"AUTOCOMMIT"} if postgres else {None})


async def test_the_first_operation_on_a_fresh_engine_reads_as_every_other(
    committing_engine: AsyncEngine,
) -> None:
    # given an engine that has never connected (its dialect learns its default level then)
    fresh = create_async_engine(committing_engine.url)
    try:
        async with operation_reads(fresh) as reads:
            # when an operation reads on it
            connection = await reads.connection()
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
            level = connection.sync_connection.get_execution_options().get("isolation_level")
        # then it reads as on any engine: on PostgreSQL at AUTOCOMMIT (no BEGIN, no ROLLBACK)
        assert level == ("AUTOCOMMIT" if fresh.dialect.name == "postgresql" else None)
    finally:
        await fresh.dispose()
