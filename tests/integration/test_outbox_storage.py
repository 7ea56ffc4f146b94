"""The outbox table on both backends: transactional enqueue, per-matter order, leases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import session_factory
from db.models import OutboxMessage
from db.outbox import Aggregate, claim_due, enqueue_write, replay_writes, settle
from domain.enums import SourceSystem
from domain.writeback import WriteOperation, WriteState

REFERRAL = WriteOperation.MEDIATION_REFERRAL
MATTER = Aggregate("matter", "M0001")
LEASE = timedelta(seconds=30)


@pytest.fixture
def sessions(committing_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(committing_engine)


async def count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_write_commits_or_rolls_back_with_the_step_that_asked_for_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            await enqueue_write(session, REFERRAL, {"summary": "s"}, "GH-1", aggregate=MATTER)
            raise RuntimeError("the dispatch failed after enqueueing")
    assert await count(sessions) == 0

    async with sessions.begin() as session:
        await enqueue_write(session, REFERRAL, {"summary": "s"}, "GH-1", aggregate=MATTER)
    with pytest.raises(IntegrityError):  # one reference, one write
        async with sessions.begin() as session:
            await enqueue_write(session, REFERRAL, {"summary": "s"}, "GH-1", aggregate=MATTER)
    assert await count(sessions) == 1


async def test_a_matters_later_write_waits_for_the_earlier_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await enqueue_write(session, REFERRAL, {"summary": "受理"}, "GH-1", aggregate=MATTER)
        await enqueue_write(session, REFERRAL, {"summary": "结案"}, "GH-2", aggregate=MATTER)
        await enqueue_write(session, REFERRAL, {"summary": "other"}, "GH-3",
                            aggregate=Aggregate("matter", "M0002"))

    first = await claim_due(sessions, SourceSystem.MEDIATION, "w", limit=10, lease=LEASE)
    assert [c.reference for c in first] == ["GH-1", "GH-3"]
    assert await claim_due(sessions, SourceSystem.MEDIATION, "w2", limit=10, lease=LEASE) == []

    await settle(sessions, first[0], status=WriteState.CONFIRMED, target_ref="WP1")
    after = await claim_due(sessions, SourceSystem.MEDIATION, "w", limit=10, lease=LEASE)
    assert [c.reference for c in after] == ["GH-2"]


async def test_an_expired_lease_is_reclaimed_as_uncertain_and_the_old_holder_cannot_settle(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await enqueue_write(session, REFERRAL, {"summary": "s"}, "GH-1")
    stale = (await claim_due(sessions, SourceSystem.MEDIATION, "dead", limit=1,
                             lease=timedelta(seconds=-1)))[0]
    assert not stale.uncertain

    taken = (await claim_due(sessions, SourceSystem.MEDIATION, "alive", limit=1, lease=LEASE))[0]

    assert taken.uncertain  # the dead worker may have sent it
    assert not await settle(sessions, stale, status=WriteState.CONFIRMED)
    assert await settle(sessions, taken, status=WriteState.DEAD, last_error_code="TIMEOUT")
    async with sessions.begin() as session:
        assert await replay_writes(session, [taken.id]) == 1
    again = (await claim_due(sessions, SourceSystem.MEDIATION, "alive", limit=1, lease=LEASE))[0]
    assert again.uncertain and again.attempts == 0


async def test_no_blind_send_starts_late_in_a_lease(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from connectors.writeback.base import Delivery
    from connectors.writeback.relay import OutboxRelay
    from db.models.base import utcnow
    from domain.writeback import DeliveryPolicy

    class NeverCalled:
        target, idempotent = SourceSystem.MEDIATION, False

        async def send(self, write: object) -> Delivery:
            raise AssertionError("sent after half the lease was gone")

        async def find(self, write: object) -> Delivery | None:
            return None

    async with sessions.begin() as session:
        await enqueue_write(session, REFERRAL, {"summary": "s"}, "GH-1")
    claim = (await claim_due(sessions, SourceSystem.MEDIATION, "slow", limit=1, lease=LEASE))[0]
    relay = OutboxRelay(sessions, {SourceSystem.MEDIATION: NeverCalled()},
                        DeliveryPolicy(lease_seconds=30),
                        clock=lambda: utcnow() + timedelta(seconds=20))

    changes, outcome = await relay.attempt(NeverCalled(), claim)

    assert outcome == "lease_short" and changes["status"] == WriteState.PENDING
