"""The transactional outbox (发件箱): enqueue a write-back with the business change, claim due
rows for delivery under a lease, record each outcome, list/replay/cancel for operators.

``enqueue_write`` only adds to the caller's session: the write commits or rolls back with the
workflow step that asked for it (a dispatch's state change and its write-back are one
transaction), and nothing is sent from inside a request.

Claiming is safe across replicas: due rows are selected ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (ignored by SQLite, which serialises writers), then each is taken by a
conditional ``UPDATE`` that only one claimer can win. Every outcome is written under the
claim's token, so a worker whose lease ran out cannot overwrite a row another worker reclaimed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased, defer

from db.matters import matter_scope_conditions
from db.models import Matter, OutboxMessage
from db.models.base import utcnow
from domain.enums import SourceSystem
from domain.workflow.visibility import MatterScope
from domain.writeback import OPEN_STATES, WriteOperation, WriteState

MAX_ERROR_TEXT = 500


@dataclass(frozen=True, slots=True)
class Aggregate:
    """What a write belongs to (e.g. ``Aggregate("matter", "MD2026000123")``): its ordering key."""

    type: str
    id: str


async def enqueue_write(
    session: AsyncSession,
    operation: WriteOperation,
    payload: dict[str, Any],
    reference: str,
    *,
    aggregate: Aggregate | None = None,
) -> OutboxMessage:
    """Add one write-back to the caller's transaction (flushed, not committed).

    ``reference`` must be stable for the logical write (e.g. ``f"{matter_no}-D{step}"``): it
    is the court's Idempotency-Key and the external reference stamped into the other
    systems, and it is unique here, so enqueueing the same write twice fails loudly.
    """
    message = OutboxMessage(
        target=operation.target, operation=operation.value, idempotency_key=reference,
        payload=payload, status=WriteState.PENDING, attempts=0, lookups=0, failed_reads=0,
        aggregate_type=aggregate.type if aggregate else None,
        aggregate_id=aggregate.id if aggregate else None, next_attempt_at=utcnow(),
    )
    session.add(message)
    await session.flush()
    return message


@dataclass(frozen=True, slots=True)
class ClaimedWrite:
    """A row this worker holds under ``token`` until its lease ends."""

    id: int
    target: SourceSystem
    operation: WriteOperation
    reference: str
    payload: dict[str, Any]
    attempts: int
    """Sends tried so far."""
    lookups: int
    failed_reads: int
    """Read-backs in a row the target did not answer."""
    token: str
    uncertain: bool
    """The target may already have applied it (an earlier send's outcome is unknown)."""
    lease_until: datetime
    """After this, another worker may take the row: no send may start close to it."""


def _due(now: datetime) -> ColumnElement[bool]:
    o = OutboxMessage
    waiting = and_(o.status.in_([WriteState.PENDING, WriteState.UNKNOWN]),
                   or_(o.next_attempt_at.is_(None), o.next_attempt_at <= now))
    abandoned = and_(o.status == WriteState.SENDING, o.claimed_until < now)
    return or_(waiting, abandoned)


def _not_behind_an_earlier_write() -> ColumnElement[bool]:
    o, earlier = OutboxMessage, aliased(OutboxMessage)
    blocked = exists().where(
        earlier.target == o.target, earlier.aggregate_type == o.aggregate_type,
        earlier.aggregate_id == o.aggregate_id, earlier.id < o.id,
        earlier.status.in_(list(OPEN_STATES)))
    return or_(o.aggregate_id.is_(None), ~blocked)


async def claim_due(
    sessions: async_sessionmaker[AsyncSession],
    target: SourceSystem,
    worker: str,
    *,
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
) -> list[ClaimedWrite]:
    """Take up to ``limit`` due writes of one target, oldest due first, in one transaction."""
    now = now or utcnow()
    o = OutboxMessage
    claimed: list[ClaimedWrite] = []
    async with sessions.begin() as session:
        candidates = (await session.execute(
            select(o.id, o.status)
            .where(o.target == target, _due(now), _not_behind_an_earlier_write())
            .order_by(o.next_attempt_at, o.id).limit(limit)
            .with_for_update(skip_locked=True, of=o)
        )).all()
        for row_id, status in candidates:
            token = secrets.token_hex(8)
            won = await session.execute(
                update(o).where(o.id == row_id, _due(now)).values(
                    status=WriteState.SENDING, claimed_by=worker[:64], claim_token=token,
                    claimed_until=now + lease, updated_at=now)
                .execution_options(synchronize_session=False))
            if won.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
                continue
            row = await session.get(o, row_id, populate_existing=True)
            assert row is not None
            claimed.append(ClaimedWrite(
                id=row.id, target=row.target, operation=WriteOperation(row.operation),
                reference=row.idempotency_key, payload=dict(row.payload), attempts=row.attempts,
                lookups=row.lookups, failed_reads=row.failed_reads, token=token,
                uncertain=status in (WriteState.UNKNOWN, WriteState.SENDING),
                lease_until=now + lease))
    return claimed


async def settle(
    sessions: async_sessionmaker[AsyncSession], claim: ClaimedWrite, **changes: Any,
) -> bool:
    """Write an outcome under the claim's token and release the lease; False if it was lost."""
    o = OutboxMessage
    if "last_error" in changes and changes["last_error"] is not None:
        changes["last_error"] = str(changes["last_error"])[:MAX_ERROR_TEXT]
    async with sessions.begin() as session:
        result = await session.execute(
            update(o).where(o.id == claim.id, o.claim_token == claim.token,
                            o.status == WriteState.SENDING)
            .values(claimed_by=None, claimed_until=None, claim_token=None, updated_at=utcnow(),
                    **changes)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]  # CursorResult


async def list_writes(
    session: AsyncSession,
    *,
    target: SourceSystem | None = None,
    states: Sequence[WriteState] = (),
    aggregate: Aggregate | None = None,
    matters: MatterScope | None = None,
    limit: int = 200,
) -> list[OutboxMessage]:
    """Rows for operators, oldest first; the sealed payload is not loaded. With ``matters``,
    only the writes of the matters in that scope (a caller's jurisdiction)."""
    query = (select(OutboxMessage).options(defer(OutboxMessage.payload))
             .order_by(OutboxMessage.id).limit(limit))
    if target is not None:
        query = query.where(OutboxMessage.target == target)
    if states:
        query = query.where(OutboxMessage.status.in_(list(states)))
    if aggregate is not None:
        query = query.where(OutboxMessage.aggregate_type == aggregate.type,
                            OutboxMessage.aggregate_id == aggregate.id)
    if matters is not None:
        numbers = select(Matter.number).where(*matter_scope_conditions(matters))
        query = query.where(OutboxMessage.aggregate_type == "matter",
                            OutboxMessage.aggregate_id.in_(numbers))
    return list((await session.scalars(query)).all())


REPLAYABLE = (WriteState.DEAD, WriteState.FAILED, WriteState.CANCELLED)


async def replay_writes(session: AsyncSession, ids: Sequence[int]) -> int:
    """Give DEAD/FAILED/CANCELLED writes a fresh start; returns how many were reset.

    A dead write may have reached the target before its answer was lost, so it restarts as
    UNKNOWN: the relay reads back before it sends again.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status.in_(list(REPLAYABLE)))
        .values(status=WriteState.UNKNOWN, attempts=0, lookups=0, failed_reads=0,
                next_attempt_at=utcnow(),
                last_error=None, last_error_code=None, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


async def known_write_ids(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` are outbox rows (whatever their state)."""
    found = await session.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(list(ids))))
    return set(found.all())


async def cancel_writes(session: AsyncSession, ids: Sequence[int]) -> int:
    """Stop writes that were not delivered (PENDING, UNKNOWN, DEAD, FAILED)."""
    cancellable = [WriteState.PENDING, WriteState.UNKNOWN, WriteState.DEAD, WriteState.FAILED]
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status.in_(cancellable))
        .values(status=WriteState.CANCELLED, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


PURGEABLE = (WriteState.CONFIRMED, WriteState.SENT, WriteState.CANCELLED)
"""Settled rows a purge may delete: delivered or cancelled, never one still owed or failed."""


async def purge_writes(session: AsyncSession, before: datetime) -> int:
    """Delete delivered and cancelled writes last changed before ``before``; the count."""
    last_change = func.coalesce(OutboxMessage.updated_at, OutboxMessage.created_at)
    result = await session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.status.in_(list(PURGEABLE)), last_change < before)
        .execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of a DELETE


@dataclass(frozen=True, slots=True)
class TargetBacklog:
    """Per target: rows by state and the age of the oldest write still open."""

    target: SourceSystem
    by_state: dict[str, int]
    oldest_open_seconds: float


async def backlog(session: AsyncSession, now: datetime | None = None) -> list[TargetBacklog]:
    now = now or utcnow()
    o = OutboxMessage
    counts = (await session.execute(
        select(o.target, o.status, func.count(), func.min(o.created_at))
        .group_by(o.target, o.status))).all()
    found: dict[SourceSystem, tuple[dict[str, int], float]] = {}
    for target, status, count, oldest in counts:
        by_state, age = found.get(target, ({}, 0.0))
        by_state[status] = count
        if status in OPEN_STATES and oldest is not None:
            age = max(age, (now - oldest).total_seconds())
        found[target] = (by_state, age)
    return [TargetBacklog(t, s, a) for t, (s, a) in sorted(found.items())]
