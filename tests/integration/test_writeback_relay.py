"""Write-back over real HTTP: each target applies each write exactly once, under faults.

Counts come from the sandbox's own write ledger (``/_sandbox/writes``), not from the hub.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.errors import SourceRequestRejected, SourceServerError, SourceTimeout
from connectors.writeback.base import Delivery
from connectors.writeback.relay import OutboxRelay, open_writers
from db.engine import session_factory
from db.models import OutboxMessage
from db.outbox import (
    Aggregate,
    ClaimedWrite,
    backlog,
    claim_due,
    enqueue_write,
    replay_writes,
)
from domain.enums import SourceSystem
from domain.writeback import OPEN_STATES, WriteOperation, WriteState
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_support import control, sources_for
from tests.integration.writeback_support import (
    FAST,
    OPERATIONS,
    drain,
    enqueue_many,
    ledger,
    live_keys,
    payload_for,
    states,
)

ALL = tuple(OPERATIONS)
WRITE_FAULTS = {"write_error_rate": 0.2, "write_lost_rate": 0.15, "write_timeout_rate": 0.15,
                "hang_seconds": 1.0}


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(base_port=0, scale=600, seed=15)) as sandbox:
        yield sandbox


@pytest.fixture
def sessions(committing_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(committing_engine)


async def assert_exactly_once(sb: Sandbox, references: dict[SourceSystem, list[str]]) -> None:
    for target, refs in references.items():
        book = await ledger(sb, target)
        assert book["duplicates"] == 0, target
        assert set(book["references"].values()) == {1}, target
        if target is SourceSystem.PETITION:  # keyed by 信访件编号: a resend replaces its row
            assert len(book["references"]) == len(refs)
        else:
            assert sorted(book["references"]) == sorted(refs), target


async def test_every_target_applies_each_write_once_under_write_faults(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given write faults on every system: 5xx before applying, lost and hanging answers after
    for target in ALL:
        await control(sb, target, **WRITE_FAULTS)
    references = await enqueue_many(sessions, sb, per_target=12)

    # when the relay delivers everything, its sends timing out before the hung answers
    async with open_writers(sources_for(sb, timeout=0.3, attempts=3)) as writers:
        await drain(sessions, OutboxRelay(sessions, writers, FAST))

    # then each write was applied exactly once and is confirmed with the target's id
    await assert_exactly_once(sb, references)
    assert set((await states(sessions)).values()) == {WriteState.CONFIRMED}
    async with sessions() as session:
        attempts = (await session.scalars(select(OutboxMessage.attempts))).all()
    assert min(attempts) >= 1 and max(attempts) > 1  # the faults cost some rows a second send
    injected = {t: sb.systems[t].faults.injected for t in ALL}
    assert all(c["write_lost_after_apply"] + c["write_timeout_after_apply"] > 0
               for c in injected.values())


async def test_each_send_counts_as_an_attempt_the_successful_one_included(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    await enqueue_many(sessions, sb, per_target=2)
    async with open_writers(sources_for(sb)) as writers:
        await drain(sessions, OutboxRelay(sessions, writers, FAST))
    async with sessions() as session:
        rows = (await session.execute(select(OutboxMessage.status, OutboxMessage.attempts))).all()
    assert len(rows) == 2 * len(ALL)
    assert {(status, attempts) for status, attempts in rows} == {(WriteState.CONFIRMED, 1)}


async def test_a_relay_that_died_after_sending_leaves_nothing_lost_or_doubled(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given each write was sent by a worker that died before recording the answer
    references = await enqueue_many(sessions, sb, per_target=3)
    async with open_writers(sources_for(sb)) as writers:
        for target, writer in writers.items():
            for claim in await claim_due(sessions, target, "doomed", limit=10,
                                         lease=timedelta(seconds=-1)):
                await writer.send(claim)  # applied; the lease is already over

        # when another worker takes over
        await drain(sessions, OutboxRelay(sessions, writers, FAST, worker="survivor"))

    # then it read back (or resent idempotently) instead of applying a second time
    await assert_exactly_once(sb, references)
    assert set((await states(sessions)).values()) == {WriteState.CONFIRMED}


async def test_two_relays_on_one_database_never_send_a_row_twice(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    for target in ALL:
        await control(sb, target, write_lost_rate=0.1, write_error_rate=0.1)
    references = await enqueue_many(sessions, sb, per_target=10)

    async with (open_writers(sources_for(sb, timeout=0.5)) as first,
                open_writers(sources_for(sb, timeout=0.5)) as second):
        one = OutboxRelay(sessions, first, FAST, worker="replica-1")
        two = OutboxRelay(sessions, second, FAST, worker="replica-2")
        await drain(sessions, one, two)

    await assert_exactly_once(sb, references)
    assert not one.stats.outcomes[("COURT", "lease_lost")]
    assert not two.stats.outcomes[("COURT", "lease_lost")]


async def test_a_rejected_write_fails_fast_and_a_down_target_waits_alone(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given the 110 platform down, and one court filing the court will refuse
    await control(sb, SourceSystem.POLICE_110, down=True)
    references = await enqueue_many(sessions, sb, per_target=2)
    async with sessions.begin() as session:
        from db.outbox import enqueue_write
        from domain.writeback import WriteOperation

        await enqueue_write(session, WriteOperation.COURT_FILING, {"cause": "无案由类型"},
                            "GH-BAD-1")

    # when the relay runs until everything but the 110 rows is settled
    async with open_writers(sources_for(sb, breaker_threshold=2, cooldown=30)) as writers:
        relay = OutboxRelay(sessions, writers, FAST)
        for _ in range(30):
            await relay.run_once()

    # then the bad filing failed with the court's reason, once; the 110 rows wait, unspent
    found = await states(sessions)
    assert found["GH-BAD-1"] == WriteState.FAILED
    for ref in references[SourceSystem.POLICE_110]:
        assert found[ref] in (WriteState.PENDING, WriteState.UNKNOWN)
    others = [r for t, refs in references.items() if t is not SourceSystem.POLICE_110
              for r in refs]
    assert all(found[r] == WriteState.CONFIRMED for r in others)
    assert (await ledger(sb, SourceSystem.POLICE_110))["applied"] == 0
    assert relay.stats.outcomes[("COURT", "failed")] == 1
    # and the backlog (what the metrics and `outbox list` show) has them waiting, aging
    async with sessions() as session:
        waiting = {entry.target: entry for entry in await backlog(session)}
    police = waiting[SourceSystem.POLICE_110]
    assert sum(n for s, n in police.by_state.items() if s in OPEN_STATES) == 2
    assert police.oldest_open_seconds > 0
    assert waiting[SourceSystem.GRID].oldest_open_seconds == 0


async def test_grid_feedbacks_are_read_back_from_the_event_before_any_resend(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    await control(sb, SourceSystem.GRID, **WRITE_FAULTS)
    events = live_keys(sb, SourceSystem.GRID)[:15]
    async with sessions.begin() as session:
        for n, event_no in enumerate(events):
            await enqueue_write(session, WriteOperation.GRID_FEEDBACK,
                                {"eventNo": event_no, "content": "已调解", "status": "已办结"},
                                f"GH-FB-{n}", aggregate=Aggregate("matter", f"F{n}"))

    async with open_writers(sources_for(sb, timeout=0.3, attempts=3)) as writers:
        await drain(sessions, OutboxRelay(sessions, writers, FAST))

    book = await ledger(sb, SourceSystem.GRID)
    assert book["references"] == {f"GH-FB-{n}": 1 for n in range(len(events))}
    assert set((await states(sessions)).values()) == {WriteState.SENT}


BAD_INPUT = {  # per target, a write its system refuses, and a word of the refusal it gives
    SourceSystem.COURT: ({"cause": "民间借贷纠纷"}, "caseType"),  # no 案件类型
    SourceSystem.MEDIATION: ({"disputeType": "02"}, "summary"),  # no 案情
    SourceSystem.GRID: ({"title": "交办"}, "content"),  # no 交办内容
    SourceSystem.POLICE_110: ({"JJDBH": "J411202209901010001", "CLJG": "已调解"}, "JJDBH 不存在"),
    SourceSystem.PETITION: ({"信访件编号": "XF4112022099", "办理结果": "已办结"}, "信访件不存在"),
}
"""The 110 alert and the 信访件 do not exist: the systems refuse a result for them."""


async def test_bad_input_fails_fast_on_every_target_and_blocks_no_other_write(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given on every target one write it will refuse, beside two good ones, each of its matter
    references = await enqueue_many(sessions, sb, per_target=2)
    async with sessions.begin() as session:
        for target, (payload, _) in BAD_INPUT.items():
            await enqueue_write(session, OPERATIONS[target], payload, f"GH-BAD-{target.value}",
                                aggregate=Aggregate("matter", f"MBAD{target.value}"))

    # when the relay runs, with faults that would make a retried refusal show
    for target in ALL:
        await control(sb, target, write_error_rate=0.2)
    async with open_writers(sources_for(sb, timeout=2.0)) as writers:
        relay = OutboxRelay(sessions, writers, FAST)
        await drain(sessions, relay)

    # then each bad write failed at its first answer with the target's reason, never resent …
    async with sessions() as session:
        bad = {row.target: row for row in await session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.like("GH-BAD-%")))}
    for target, (_, reason) in BAD_INPUT.items():
        row = bad[target]
        assert (row.status, row.last_error_code) == (WriteState.FAILED, "REJECTED"), target
        assert row.attempts == 1 and reason in (row.last_error or ""), (target, row.last_error)
        assert relay.stats.outcomes[(target.value, "failed")] == 1
    # … and every good write was delivered, once
    found = await states(sessions)
    assert all(found[r] == WriteState.CONFIRMED for refs in references.values() for r in refs)
    await assert_exactly_once(sb, references)


async def test_a_feedback_on_a_missing_event_fails_at_once_after_an_unknown_first_send(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given a 处置反馈 on an event the grid does not hold, whose first send's outcome is
    # unknown (the worker that sent it died), so the relay reads back before resending
    async with sessions.begin() as session:
        await enqueue_write(session, WriteOperation.GRID_FEEDBACK,
                            {"eventNo": "WG4112029999", "content": "已调解"}, "GH-FB-GONE",
                            aggregate=Aggregate("matter", "FGONE"))
    await claim_due(sessions, SourceSystem.GRID, "doomed", limit=1,
                    lease=timedelta(seconds=-1))

    # when the relay settles it
    async with open_writers(sources_for(sb)) as writers:
        relay = OutboxRelay(sessions, writers, FAST)
        await drain(sessions, relay)

    # then the read-back of the missing event is a miss, and the grid's refusal fails the
    # write with its reason at one send, instead of read-backs spending attempts until DEAD
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == "GH-FB-GONE"))
    assert row is not None
    assert (row.status, row.last_error_code, row.attempts) == (
        WriteState.FAILED, "REJECTED", 1)
    assert "事件不存在" in (row.last_error or "")
    assert (await ledger(sb, SourceSystem.GRID))["applied"] == 0


async def test_a_write_given_up_counts_as_dead_and_a_deferred_one_says_why(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given the court down, and a relay that gives up after two sends
    await control(sb, SourceSystem.COURT, down=True)
    async with sessions.begin() as session:
        await enqueue_write(session, WriteOperation.COURT_FILING,
                            payload_for(sb, WriteOperation.COURT_FILING, 1), "GH-DOWN-1")
    policy = replace(FAST, max_attempts=2)

    # when it tries until it gives up
    async with open_writers(sources_for(sb, attempts=1)) as writers:
        relay = OutboxRelay(sessions, writers, policy)
        await drain(sessions, relay)

    # then the row is DEAD, and the outcome an operator reads in the metrics says so
    assert (await states(sessions))["GH-DOWN-1"] == WriteState.DEAD
    assert relay.stats.outcomes[("COURT", "dead")] == 1
    assert relay.stats.outcomes[("COURT", "retry")] == 1

    # given a second write while the breaker is open after the first failure
    async with sessions.begin() as session:
        await enqueue_write(session, WriteOperation.COURT_FILING,
                            payload_for(sb, WriteOperation.COURT_FILING, 2), "GH-DOWN-2")
    async with open_writers(sources_for(sb, attempts=1, breaker_threshold=1,
                                        cooldown=30)) as writers:
        relay = OutboxRelay(sessions, writers, FAST)
        await relay.run_once()  # 503: the breaker opens
        async with sessions.begin() as session:
            await session.execute(update(OutboxMessage).values(next_attempt_at=None))
        await relay.run_once()  # deferred by the open breaker

    # then its error code and its text tell the same story: the breaker, not the old 503
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == "GH-DOWN-2"))
    assert row is not None
    assert relay.stats.outcomes[("COURT", "deferred")] == 1
    assert (row.status, row.attempts, row.last_error_code) == (
        WriteState.PENDING, 1, "BREAKER_OPEN")
    assert "circuit open" in (row.last_error or "")


@pytest.mark.parametrize(
    ("operation", "payload", "key", "target", "named"),
    [
        # a 警情反馈 with no 接警单编号: the platform would refuse every read-back until DEAD
        (WriteOperation.POLICE_FEEDBACK, {"CLJG": "已调解"}, "GH-POLI-NOJJDBH",
         SourceSystem.POLICE_110, "JJDBH"),
        # a 处置反馈 with no 事件编号: read-backs of no event until DEAD
        (WriteOperation.GRID_FEEDBACK, {"content": "已调解"}, "GH-FB-NOEVENT",
         SourceSystem.GRID, "eventNo"),
    ],
    ids=["alert", "event"],
)
async def test_a_feedback_naming_nothing_fails_at_once_after_its_worker_died(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession], operation: WriteOperation,
    payload: dict[str, str], key: str, target: SourceSystem, named: str,
) -> None:
    # given a feedback that names no alert or event, claimed by a worker that died before
    # sending it
    async with sessions.begin() as session:
        await enqueue_write(session, operation, payload, key,
                            aggregate=Aggregate("matter", f"NONE-{key}"))
    await claim_due(sessions, target, "doomed", limit=1, lease=timedelta(seconds=-1))

    # when the relay settles it
    async with open_writers(sources_for(sb)) as writers:
        await drain(sessions, OutboxRelay(sessions, writers, FAST))

    # then no read-back is asked for what is not named: the write fails with the reason, once
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == key))
    assert row is not None
    assert (row.status, row.last_error_code, row.attempts) == (
        WriteState.FAILED, "REJECTED", 1)
    assert named in (row.last_error or "")


class RefusedReadBack:
    """A target whose sends time out and which refuses the read-back itself (a 4xx)."""

    target = SourceSystem.MEDIATION
    idempotent = False

    def __init__(self) -> None:
        self.sends = self.reads = 0

    async def send(self, write: ClaimedWrite) -> Delivery:
        self.sends += 1
        raise SourceTimeout(self.target, "timed out (ReadTimeout)")

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        self.reads += 1
        raise SourceRequestRejected(self.target, "request rejected (400): 参数错误")


async def test_a_refused_read_back_is_not_asked_again_and_waits_for_a_human(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given a referral whose send timed out, at a target that refuses the read-back
    async with sessions.begin() as session:
        await enqueue_write(session, WriteOperation.MEDIATION_REFERRAL, {"summary": "委派"},
                            "GH-READ-REFUSED")
    writer = RefusedReadBack()

    # when the relay settles it
    await drain(sessions, OutboxRelay(sessions, {SourceSystem.MEDIATION: writer}, FAST))

    # then the refusal (a 4xx: asking again cannot help) ends the row at once as DEAD, the
    # outcome still unknown, neither resent nor read again until an operator retries it
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == "GH-READ-REFUSED"))
    assert row is not None
    assert (writer.sends, writer.reads) == (1, 1)
    assert (row.status, row.last_error_code, row.attempts) == (WriteState.DEAD, "REJECTED", 1)
    assert (row.last_error or "").startswith("read-back refused: MEDIATION: request rejected")


class SlowToReadBack:
    """A target that applies a referral but loses the answer to its send, then leaves the
    first ``unanswered`` read-backs unanswered (a 503) before it finds the referral."""

    target = SourceSystem.MEDIATION
    idempotent = False

    def __init__(self, unanswered: int) -> None:
        self.unanswered = unanswered
        self.sends = self.reads = 0

    async def send(self, write: ClaimedWrite) -> Delivery:
        self.sends += 1
        raise SourceTimeout(self.target, "timed out (ReadTimeout)")

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        self.reads += 1
        if self.reads <= self.unanswered:
            raise SourceServerError(self.target, "server error 503")
        return Delivery("TJ-0001", {"externalRef": write.reference})


async def _row(sessions: async_sessionmaker[AsyncSession], key: str) -> OutboxMessage:
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == key))
    assert row is not None
    return row


async def _referral_at_slow_reader(
    sessions: async_sessionmaker[AsyncSession], key: str, unanswered: int,
) -> tuple[SlowToReadBack, OutboxRelay]:
    """A referral waiting to go to a :class:`SlowToReadBack`, and a relay of three attempts."""
    async with sessions.begin() as session:
        await enqueue_write(session, WriteOperation.MEDIATION_REFERRAL, {"summary": "委派"}, key)
    writer = SlowToReadBack(unanswered)
    return writer, OutboxRelay(sessions, {SourceSystem.MEDIATION: writer},
                               replace(FAST, max_attempts=3))


async def test_an_unanswered_read_back_spends_no_attempt_of_the_write(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given a referral sent once, its answer lost, at a target that leaves two read-backs
    # unanswered, under a policy of three attempts
    writer, relay = await _referral_at_slow_reader(sessions, "GH-READ-SLOW", unanswered=2)

    # when the relay settles it
    await drain(sessions, relay)

    # then the third read-back finds it: confirmed, sent once, one attempt spent
    row = await _row(sessions, "GH-READ-SLOW")
    assert (writer.sends, writer.reads) == (1, 3)
    assert (row.status, row.attempts, row.target_ref) == (WriteState.CONFIRMED, 1, "TJ-0001")
    assert (row.failed_reads, row.last_error) == (0, None)


async def test_read_backs_unanswered_too_often_wait_for_a_human_then_read_back_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given a referral sent once, its answer lost, at a target that answers no read-back
    writer, relay = await _referral_at_slow_reader(sessions, "GH-READ-DOWN", unanswered=1000)

    # when the relay settles it
    await drain(sessions, relay)

    # then after three unanswered read-backs in a row it is DEAD, saying so, never resent
    row = await _row(sessions, "GH-READ-DOWN")
    assert (writer.sends, writer.reads) == (1, 3)
    assert (row.status, row.attempts, row.failed_reads, row.last_error_code) == (
        WriteState.DEAD, 1, 3, "SERVER_ERROR")
    assert (row.last_error or "").startswith("read-back unanswered 3 times in a row")
    assert relay.stats.outcomes[("MEDIATION", "read_failed")] == 2
    assert relay.stats.outcomes[("MEDIATION", "dead")] == 1

    # when an operator retries it once the target answers again
    writer.unanswered = 0
    async with sessions.begin() as session:
        assert await replay_writes(session, [row.id]) == 1
    await drain(sessions, relay)

    # then it is read back first and found: confirmed without a second send
    row = await _row(sessions, "GH-READ-DOWN")
    assert (writer.sends, writer.reads) == (1, 4)
    assert (row.status, row.target_ref, row.failed_reads) == (WriteState.CONFIRMED, "TJ-0001", 0)


async def test_a_write_whose_target_reads_nothing_for_a_while_is_applied_once(
    sb: Sandbox, sessions: async_sessionmaker[AsyncSession],
) -> None:
    # given a referral the platform applied but whose answer was lost
    await control(sb, SourceSystem.MEDIATION, write_lost_rate=1.0)
    async with sessions.begin() as session:
        await enqueue_write(session, WriteOperation.MEDIATION_REFERRAL,
                            payload_for(sb, WriteOperation.MEDIATION_REFERRAL, 1), "GH-READ-LATE")
    policy = replace(FAST, max_attempts=4)
    async with open_writers(sources_for(sb, attempts=2)) as writers:
        relay = OutboxRelay(sessions, writers, policy)
        await relay.run_once()
        assert (await _row(sessions, "GH-READ-LATE")).status == WriteState.UNKNOWN

        # when the platform is down for as many read-backs as the policy has attempts, less one
        await control(sb, SourceSystem.MEDIATION, write_lost_rate=0.0, down=True)
        for _ in range(policy.max_attempts - 1):
            async with sessions.begin() as session:
                await session.execute(update(OutboxMessage).values(next_attempt_at=None))
            await relay.run_once()
        await control(sb, SourceSystem.MEDIATION, down=False)
        await drain(sessions, relay)

    # then the referral is confirmed from its read-back, sent and applied once
    row = await _row(sessions, "GH-READ-LATE")
    assert (row.status, row.attempts) == (WriteState.CONFIRMED, 1)
    assert relay.stats.outcomes[("MEDIATION", "read_failed")] == policy.max_attempts - 1
    await assert_exactly_once(sb, {SourceSystem.MEDIATION: ["GH-READ-LATE"]})
