"""The outbox relay (投递): claims due write-backs per target and delivers each exactly once.

One task per target system, so a target that is down only delays its own rows. Within a
target, rows go one at a time in (due time, id) order, and ``db.outbox`` never hands out a
matter's later write while an earlier one to the same target is still open. Per row:

1. If an earlier send's outcome is unknown and the target has no idempotency, read back by
   the write's reference first; found → CONFIRMED, no resend. A miss is only trusted after
   ``reconcile_reads`` reads ``reconcile_delay`` apart (a commit may land late).
   A refused read-back (4xx) → DEAD at once: the outcome stays unknown, for a human.
   An unanswered read-back (with its own retries spent) → UNKNOWN, read again after a
   backoff; it spends no attempt, as nothing was sent, but counts in ``failed_reads``, and
   ``max_attempts`` of them in a row → DEAD, the outcome unknown, for a human.
2. Send. An answer → CONFIRMED (target's id kept) or SENT; a refusal (4xx, SOAP Client fault)
   → FAILED with the target's reason, never retried; no answer → UNKNOWN (or PENDING for an
   idempotent target) with exponential backoff; after ``max_attempts`` sends → DEAD.
3. An open circuit breaker defers the target's rows without spending their attempts.

So ``attempts`` is the number of sends tried: a write is not given up as undeliverable
because its target could not say whether an earlier send had arrived.

Up to ``concurrency`` rows of one target are in flight at once. A non-idempotent send never
starts in the second half of its lease, so it cannot overlap a worker that reclaimed the row.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import random
import secrets
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import (
    BreakerOpen,
    SourceAuthError,
    SourceError,
    SourceRateLimited,
    SourceRequestRejected,
    error_code,
)
from connectors.registry import make_breaker, make_http_client
from connectors.tasks import cancel_and_wait
from connectors.writeback.base import Delivery, Writer
from db.models.base import utcnow
from db.outbox import ClaimedWrite, claim_due, settle
from domain.enums import SourceSystem
from domain.writeback import DeliveryPolicy, WriteState

log = structlog.get_logger(__name__)

WRITER_MODULES: dict[SourceSystem, str] = {
    SourceSystem.COURT: "connectors.writeback.court",
    SourceSystem.MEDIATION: "connectors.writeback.mediation",
    SourceSystem.GRID: "connectors.writeback.grid",
    SourceSystem.POLICE_110: "connectors.writeback.police",
    SourceSystem.PETITION: "connectors.writeback.petition",
}


def build_writer(source: SourceSystem, config: SourceConfig, http: httpx.AsyncClient,
                 breaker: CircuitBreaker | None = None) -> Writer:
    module = importlib.import_module(WRITER_MODULES[source])
    build: Callable[[SourceConfig, httpx.AsyncClient, CircuitBreaker], Writer] = module.build
    return build(config, http, breaker or make_breaker(source, config))


@asynccontextmanager
async def open_writers(
    configs: dict[SourceSystem, SourceConfig], only: set[SourceSystem] | None = None,
) -> AsyncIterator[dict[SourceSystem, Writer]]:
    """One ``httpx.AsyncClient`` and breaker per enabled target, closed on exit."""
    async with AsyncExitStack() as stack:
        writers: dict[SourceSystem, Writer] = {}
        for source, config in configs.items():
            if config.enabled and (only is None or source in only):
                http = await stack.enter_async_context(make_http_client(config))
                writers[source] = build_writer(source, config, http)
        yield writers


@dataclass
class RelayStats:
    """What this relay did since it started (read by the metrics endpoint)."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(target, outcome) → count; outcomes: confirmed, sent, found, failed, unknown, retry,
    dead, deferred, lookup_miss, read_failed, lease_short, lease_lost."""


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class OutboxRelay:
    """Delivers the outbox through ``writers``; ``run_once`` for a CLI pass, ``start`` in serve."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writers: dict[SourceSystem, Writer],
        policy: DeliveryPolicy | None = None,
        *,
        worker: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        on_outcome: Callable[[str, str], None] | None = None,
    ) -> None:
        """``on_outcome(target, outcome)`` is told each outcome :attr:`stats` counts (the hub
        counts them in Prometheus, across its serving processes)."""
        self.sessions = sessions
        self.writers = writers
        self.policy = policy or DeliveryPolicy()
        self.worker = worker or default_worker_id()
        self.clock = clock
        self.rng = rng or random.Random()  # backoff jitter
        self.stats = RelayStats()
        self.on_outcome = on_outcome
        self._tasks: list[asyncio.Task[None]] = []

    async def run_once(self) -> int:
        """One pass over every target's due rows; returns how many rows were handled."""
        handled = await asyncio.gather(*(self.drain(t) for t in self.writers))
        return sum(handled)

    async def drain(self, target: SourceSystem) -> int:
        """Claim one batch of ``target``'s due rows and settle each; the count handled.

        A batch never holds two writes of one matter to one target (``claim_due`` holds back
        a later one while an earlier is open), so its rows may go out side by side.
        """
        writer = self.writers[target]
        claims = await claim_due(
            self.sessions, target, self.worker, limit=self.policy.batch_size,
            lease=timedelta(seconds=self.policy.lease_seconds), now=self.clock())
        gate = asyncio.Semaphore(self.policy.concurrency)

        async def one(claim: ClaimedWrite) -> None:
            async with gate:
                changes, outcome = await self.attempt(writer, claim)
                self._count(target, outcome)
                if not await settle(self.sessions, claim, **changes):
                    self._count(target, "lease_lost")
                    log.warning("outbox_lease_lost", id=claim.id, target=target.value)

        await asyncio.gather(*(one(claim) for claim in claims))
        return len(claims)

    def _count(self, target: SourceSystem, outcome: str) -> None:
        self.stats.outcomes[(target.value, outcome)] += 1
        if self.on_outcome is not None:
            self.on_outcome(target.value, outcome)

    async def attempt(self, writer: Writer, claim: ClaimedWrite) -> tuple[dict[str, Any], str]:
        """Read back if needed, else send; the row's new columns and the outcome's name
        (``dead`` whenever the row is given up, whatever the last failure was)."""
        changes, outcome = await self._attempt(writer, claim)
        return changes, "dead" if changes.get("status") is WriteState.DEAD else outcome

    async def _attempt(self, writer: Writer, claim: ClaimedWrite) -> tuple[dict[str, Any], str]:
        now = self.clock()
        if claim.uncertain and not writer.idempotent:
            try:
                found = await writer.find(claim)
            except BreakerOpen as exc:
                return self._defer(claim, exc, now), "deferred"
            except SourceRequestRejected as exc:
                # the target refuses the read itself: asking again cannot help, and whether
                # the write arrived stays unknown, so it waits for a human (``outbox retry``)
                return {"status": WriteState.DEAD, "last_error_code": "REJECTED",
                        "last_error": f"read-back refused: {exc}"}, "dead"
            except SourceError as exc:
                return self._unanswered_read(claim, exc, now), "read_failed"
            if found is not None:  # an earlier send arrived: no new one, no attempt spent
                return self._delivered(found, now, claim.attempts), "found"
            if claim.lookups + 1 < self.policy.reconcile_reads:
                return {"status": WriteState.UNKNOWN, "lookups": claim.lookups + 1,
                        "failed_reads": 0,
                        "next_attempt_at": now + timedelta(seconds=self.policy.reconcile_delay),
                        }, "lookup_miss"
        if not writer.idempotent and self.clock() > claim.lease_until - timedelta(
                seconds=self.policy.lease_seconds / 2):
            # a slow read-back ate into the lease: a send now could overlap another worker's
            return {"status": WriteState.UNKNOWN if claim.uncertain else WriteState.PENDING,
                    "next_attempt_at": now}, "lease_short"
        try:
            delivery = await writer.send(claim)
        except BreakerOpen as exc:
            return self._defer(claim, exc, now), "deferred"
        except SourceRequestRejected as exc:
            return {"status": WriteState.FAILED, "attempts": claim.attempts + 1,
                    "last_error_code": "REJECTED", "last_error": str(exc)}, "failed"
        except (SourceRateLimited, SourceAuthError) as exc:
            # refused before it was processed: nothing applied, plain backoff
            return self._retry(claim, exc, now, WriteState.PENDING), "retry"
        except SourceError as exc:
            if writer.idempotent:
                return self._retry(claim, exc, now, WriteState.PENDING), "retry"
            return self._unknown(claim, exc, now), "unknown"
        return self._delivered(delivery, now, claim.attempts + 1), (
            "confirmed" if delivery.target_ref else "sent")

    def _delivered(self, delivery: Delivery, now: datetime, attempts: int) -> dict[str, Any]:
        """The row once delivered; ``attempts`` counts every send tried, this one included."""
        state = WriteState.CONFIRMED if delivery.target_ref else WriteState.SENT
        return {"status": state, "attempts": attempts, "target_ref": delivery.target_ref,
                "response": delivery.response,
                "sent_at": now, "confirmed_at": now if delivery.target_ref else None,
                "last_error": None, "last_error_code": None, "lookups": 0, "failed_reads": 0}

    def _retry(self, claim: ClaimedWrite, error: BaseException, now: datetime,
               state: WriteState) -> dict[str, Any]:
        """A send that failed: one attempt spent."""
        attempts = claim.attempts + 1
        if attempts >= self.policy.max_attempts:
            return {"status": WriteState.DEAD, "attempts": attempts,
                    "last_error_code": error_code(error),
                    "last_error": f"gave up after {attempts} attempts: {error}"}
        return {"status": state, "attempts": attempts, "lookups": 0, "failed_reads": 0,
                "next_attempt_at": now + timedelta(seconds=self._backoff(error, attempts)),
                "last_error_code": error_code(error), "last_error": str(error)}

    def _unanswered_read(self, claim: ClaimedWrite, error: BaseException,
                         now: datetime) -> dict[str, Any]:
        """A read-back that got no usable answer (a timeout, a 5xx, a refused credential; its
        own retries spent). Nothing was sent, so no attempt is spent: a target slow to answer
        reads must not make a write sent once look undeliverable. The misses already read
        still count (a failed read says nothing of the write). ``max_attempts`` unanswered in
        a row → DEAD for a human; a retried dead write restarts UNKNOWN, so it is read back
        again before any resend."""
        failed_reads = claim.failed_reads + 1
        if failed_reads >= self.policy.max_attempts:
            return {"status": WriteState.DEAD, "failed_reads": failed_reads,
                    "last_error_code": error_code(error),
                    "last_error": f"read-back unanswered {failed_reads} times in a row, "
                                  f"whether the write arrived is unknown: {error}"}
        return {"status": WriteState.UNKNOWN, "failed_reads": failed_reads,
                "next_attempt_at": now + timedelta(seconds=self._backoff(error, failed_reads)),
                "last_error_code": error_code(error), "last_error": f"read-back failed: {error}"}

    def _backoff(self, error: BaseException, failures: int) -> float:
        retry_after = error.retry_after if isinstance(error, SourceRateLimited) else None
        return max(retry_after or 0.0, self.policy.backoff(failures, self.rng))

    def _unknown(self, claim: ClaimedWrite, error: BaseException, now: datetime) -> dict[str, Any]:
        return self._retry(claim, error, now, WriteState.UNKNOWN)

    @staticmethod
    def _defer(claim: ClaimedWrite, error: BreakerOpen, now: datetime) -> dict[str, Any]:
        """Back to waiting without spending an attempt (the target, not the row, is at fault);
        the error says so, not the row's earlier failure under the breaker's code."""
        status = WriteState.UNKNOWN if claim.uncertain else WriteState.PENDING
        return {"status": status, "last_error_code": "BREAKER_OPEN", "last_error": str(error),
                "next_attempt_at": now + timedelta(seconds=max(error.retry_in, 0.1))}

    # ── running inside serve ──────────────────────────────────────────────────────────────

    async def _loop(self, target: SourceSystem, interval: float) -> None:
        while True:
            try:
                handled = await self.drain(target)
            except Exception:  # the relay must outlive any one pass's surprise
                log.exception("outbox_relay_crashed", target=target.value)
                handled = 0
            if handled < self.policy.batch_size:
                await asyncio.sleep(interval)

    def start(self, interval: float = 1.0) -> None:
        for target in self.writers:
            self._tasks.append(asyncio.create_task(self._loop(target, interval),
                                                   name=f"outbox:{target}"))

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
