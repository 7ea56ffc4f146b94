"""The app's audit writer on both databases: batches from several writers (processes) and
from transactional appends interleave into one chain that verifies; on PostgreSQL a batch is
one round trip after the tail the writer remembers, refused whole when the chain has moved."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.audit import (
    EMPTY_CHAIN,
    AuditEvent,
    ChainTail,
    DriverConnection,
    append_after,
    append_events,
    chain_tail,
    verify_chain,
)
from db.audit_checkpoints import CheckpointFile
from db.engine import session_factory
from db.migrate import migrated_engine
from db.models import AuditEntry
from hub.audit import AuditWriter
from tests.conftest import scratch_schema


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        principal=f"user{n}", role="center_staff", org="综治中心", operation=f"Op{n}",
        document_hash="cd" * 32, variables={"id": n, "名称": "调解"}, record_ids=[n],
        purpose=None, outcome="OK", duration_ms=0.25 * n,
        occurred_at=datetime(2026, 12, 1, tzinfo=UTC) + timedelta(milliseconds=n),
    )  # fmt: skip


async def _verified(engine: AsyncEngine) -> tuple[int, list[str | None]]:
    async with session_factory(engine)() as session:
        checked, problem = await verify_chain(session)
        assert problem is None, problem.describe()
        ids = (await session.scalars(select(AuditEntry.id).order_by(AuditEntry.id))).all()
        operations = (
            await session.scalars(select(AuditEntry.operation).order_by(AuditEntry.id))
        ).all()
    assert list(ids) == list(range(1, checked + 1))
    return checked, list(operations)


async def test_two_writers_and_transactional_appends_make_one_chain(
    committing_engine: AsyncEngine,
) -> None:
    # given two running writers, as two hub processes have, and a staff decision's
    # transactional append (db.decisions) between their batches
    first = AuditWriter(session_factory(committing_engine))
    second = AuditWriter(session_factory(committing_engine))
    first.start()
    second.start()
    try:
        # when both record concurrently, three times, with appends in between
        for round_ in range(3):
            base = round_ * 100
            await asyncio.gather(
                *(first.record(_event(base + n)) for n in range(10)),
                *(second.record(_event(base + 50 + n)) for n in range(10)),
            )
            async with session_factory(committing_engine)() as session:
                await append_events(session, [_event(base + 90), _event(base + 91)])
                await session.commit()
    finally:
        await first.stop()
        await second.stop()
    # then every row is there once, in one chain that verifies, ids without a gap
    checked, operations = await _verified(committing_engine)
    assert checked == 66
    expected = {f"Op{r * 100 + n}" for r in range(3) for n in (*range(10), *range(50, 60), 90, 91)}
    assert set(operations) == expected


async def test_a_writer_follows_rows_appended_behind_its_back(
    committing_engine: AsyncEngine,
) -> None:
    # given a writer that has written (and so remembers the chain's tail)
    writer = AuditWriter(session_factory(committing_engine))
    writer.start()
    try:
        await writer.record(_event(1))
        # when another process appends two rows, then the writer records again
        async with session_factory(committing_engine)() as session:
            await append_events(session, [_event(2), _event(3)])
            await session.commit()
        await writer.record(_event(4))
    finally:
        await writer.stop()
    # then its row follows theirs
    assert await _verified(committing_engine) == (4, ["Op1", "Op2", "Op3", "Op4"])


async def test_a_burst_inside_the_checkpoint_interval_is_anchored_when_it_ends(
    committing_engine: AsyncEngine, tmp_path: Path
) -> None:
    # given a writer that checkpoints at most every half second, and has just done so
    checkpoints = CheckpointFile(tmp_path / "audit-checkpoints.jsonl")
    writer = AuditWriter(
        session_factory(committing_engine), checkpoints=checkpoints, checkpoint_seconds=0.5
    )
    writer.start()
    try:
        await writer.record(_event(1))
        # when two more rows come within the interval, then nothing for longer than it
        await writer.record(_event(2))
        await writer.record(_event(3))
        await asyncio.sleep(1.0)
        latest = checkpoints.latest()
    finally:
        await writer.stop()
    # then a checkpoint anchors them without waiting for another batch (or the shutdown)
    assert latest is not None and latest.sequence == 3


@asynccontextmanager
async def _writer_connection() -> AsyncIterator[
    tuple[AsyncEngine, AsyncConnection, DriverConnection]
]:
    """An empty log on PostgreSQL and a connection held as the audit writer holds its own, with
    its driver connection (what ``append_after`` writes on)."""
    async with (
        scratch_schema("govhub_audit") as (url, schema),
        migrated_engine(url, schema=schema) as engine,
        engine.connect() as held,
    ):
        driver = cast("DriverConnection", (await held.get_raw_connection()).driver_connection)
        yield engine, held, driver


@pytest.mark.postgres
async def test_a_batch_after_a_stale_tail_writes_nothing() -> None:
    async with _writer_connection() as (engine, held, driver):
        # given a chain of two rows written in one round trip after the empty chain
        written, tail = await append_after(driver, [_event(1), _event(2)], EMPTY_CHAIN)
        assert written and tail == await chain_tail(driver) and tail.id == 2
        # when a batch is chained after a tail that is no longer the last row, after one
        # whose hash differs, or after the empty chain
        behind = await append_after(driver, [_event(3)], ChainTail(1, "0" * 64))
        forged = await append_after(driver, [_event(3)], ChainTail(2, "f" * 64))
        from_genesis = await append_after(driver, [_event(3)], EMPTY_CHAIN)
        # then each is refused whole, nothing is written, and the true tail comes back
        assert behind == forged == from_genesis == (False, tail)
        assert (await driver.fetchrow("SELECT count(*) FROM audit_log"))[0] == 2
        # and after the true tail it is written, chained
        assert await append_after(driver, [_event(3)], tail) == (True, await chain_tail(driver))
        await held.close()
        assert await _verified(engine) == (3, ["Op1", "Op2", "Op3"])


@pytest.mark.postgres
@pytest.mark.parametrize("isolation", ["read committed", "repeatable read"])
async def test_a_batch_that_waited_for_the_lock_sees_the_rows_written_meanwhile(
    isolation: str,
) -> None:
    """Another process's transaction holds the chain while this batch waits for it (under
    REPEATABLE READ the function's snapshot predates the lock: the primary key refuses it)."""
    async with _writer_connection() as (engine, held, driver):
        await driver.execute(f"SET default_transaction_isolation = '{isolation}'")
        written, tail = await append_after(driver, [_event(1)], EMPTY_CHAIN)
        assert written
        # given a transactional append that holds the lock (db.decisions' path)
        async with engine.connect() as other:
            transaction = await other.begin()
            await append_events(other, [_event(2)])
            # when a batch after the tail it knew waits for the lock until that commits
            waiting = asyncio.ensure_future(append_after(driver, [_event(3)], tail))
            await asyncio.sleep(0.2)
            assert not waiting.done()
            await transaction.commit()
            # then it is refused without an error, given the tail that now ends the chain
            refused, moved = await waiting
        assert (refused, moved) == (False, await chain_tail(driver)) and moved.id == 2
        assert await append_after(driver, [_event(3)], moved) == (True, await chain_tail(driver))
        await held.close()
        assert await _verified(engine) == (3, ["Op1", "Op2", "Op3"])


class _Refused(Exception):
    sqlstate = "42501"  # insufficient_privilege: CREATE FUNCTION pg_temp.… refused


@pytest.mark.postgres
async def test_a_role_refused_its_session_function_keeps_the_transactional_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    async def refuse(*_: object) -> tuple[bool, ChainTail]:
        calls.append(1)
        raise _Refused("permission denied for schema pg_temp")

    monkeypatch.setattr("hub.audit.append_after", refuse)
    async with (
        scratch_schema("govhub_audit") as (url, schema),
        migrated_engine(url, schema=schema) as engine,
    ):
        writer = AuditWriter(session_factory(engine))
        writer.start()
        try:
            for n in range(1, 4):
                await writer.record(_event(n))
        finally:
            await writer.stop()
        # the first batch tried the one-round-trip path once; every row was written
        assert calls == [1]
        assert await _verified(engine) == (3, ["Op1", "Op2", "Op3"])


async def test_rows_written_in_one_statement_read_back_as_written(
    committing_engine: AsyncEngine,
) -> None:
    writer = AuditWriter(session_factory(committing_engine))
    writer.start()
    try:
        await asyncio.gather(*(writer.record(_event(n)) for n in range(1, 4)))
    finally:
        await writer.stop()
    async with session_factory(committing_engine)() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        count = await session.scalar(select(func.count()).select_from(AuditEntry))
    assert count == 3
    by_operation = {row.operation: row for row in rows}
    assert by_operation["Op2"].variables == {"id": 2, "名称": "调解"}
    assert by_operation["Op2"].record_ids == [2]
    assert by_operation["Op2"].person_ids is None
    assert by_operation["Op2"].org == "综治中心"
    assert by_operation["Op2"].duration_ms == 0.5


@pytest.mark.postgres
async def test_a_batch_reads_the_tail_by_the_key_whatever_the_statistics_say() -> None:
    async with _writer_connection() as (engine, held, driver):
        # given a log counted empty (as a first sync's statistics refresh counts it) when the
        # writer's session makes its first append, and so plans its statements
        await driver.execute("ANALYZE audit_log")
        written, tail = await append_after(driver, [_event(1)], EMPTY_CHAIN)
        assert written
        # and which has grown by two thousand rows since, none of them analysed
        for start in range(2, 2002, 250):
            batch = [_event(n) for n in range(start, start + 250)]
            written, tail = await append_after(driver, batch, tail)
            assert written
        # when a batch is appended
        scans = (
            "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables "
            "WHERE relid = 'audit_log'::regclass"
        )
        # (the counts cover the session's transactions not yet reported: compared within one)
        await driver.execute("BEGIN")
        before = tuple(await driver.fetchrow(scans))
        written, tail = await append_after(driver, [_event(3000)], tail)
        after = tuple(await driver.fetchrow(scans))
        await driver.execute("COMMIT")
        # then it found the tail by the key, without reading the whole log
        assert written and tail.id == 2002
        assert after[0] == before[0] and after[1] > before[1]
        await held.close()
        assert (await _verified(engine))[0] == 2002
