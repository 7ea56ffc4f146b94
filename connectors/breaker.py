"""A circuit breaker per source (熔断器): stop hammering a source that keeps failing.

It counts failed *requests*, not attempts: a request (one ``SourceClient.request``) that
ends in a temporary failure once its retries are spent is one failure, and a request that
succeeds on a retry is none. So the retries of one unlucky request cannot open the breaker
alone (unless ``threshold`` is 1), while a source whose requests keep failing trips it.

CLOSED → (``threshold`` requests in a row failed) → OPEN → (``cooldown`` elapsed) →
HALF_OPEN: exactly one trial attempt; its success closes the breaker, its failure opens it
again at once. Every attempt asks first, retries included, so no request goes on retrying
against an OPEN breaker, and others are refused while the trial is under way.

The state is persisted in ``sync_state`` by the sync engine so it survives restarts and is
visible in ``syncStatus`` (``consecutive_failures`` counts failed requests). The write-back
relay keeps one in memory per target, shared by its sends and read-backs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from connectors.errors import BreakerOpen
from domain.enums import SourceSystem

TRIAL_WAIT = 1.0
"""Seconds a call refused while the half-open trial is under way is told to wait."""


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass
class CircuitBreaker:
    source: SourceSystem
    threshold: int = 3
    cooldown: float = 30.0
    clock: Callable[[], float] = field(default=time.time)
    state: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    """Requests in a row that failed with their retries spent."""
    opened_at: float | None = None
    trial_under_way: bool = False
    """A half-open trial attempt has been let through and has not ended (not persisted: a
    restarted process lets its own trial through)."""

    def before_call(self) -> bool:
        """Before every attempt: raise :class:`BreakerOpen` while open or while another
        attempt is the half-open trial; True when this attempt is the trial."""
        if self.state is BreakerState.CLOSED:
            return False
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            waited = self.clock() - self.opened_at
            if waited < self.cooldown:
                raise BreakerOpen(self.source, self.cooldown - waited)
            self.state = BreakerState.HALF_OPEN
        if self.trial_under_way:
            raise BreakerOpen(self.source, TRIAL_WAIT, trial_under_way=True)
        self.trial_under_way = True
        return True

    def record_success(self) -> None:
        """An attempt got an answer that was not a temporary failure: the source works."""
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at = None
        self.trial_under_way = False

    def record_failed_attempt(self, trial: bool) -> None:
        """An attempt failed temporarily; its request may still retry. Only the trial's
        failure counts at once: the source still fails, so the breaker opens again."""
        if trial:
            self._open()

    def end_trial(self) -> None:
        """The trial ended without telling whether the source works (refused as a bad
        request, or cancelled): the next attempt is the trial."""
        self.trial_under_way = False

    def record_failure(self) -> None:
        """A request failed with its retries spent: one failure toward ``threshold``."""
        self.consecutive_failures += 1
        if self.state is BreakerState.CLOSED and self.consecutive_failures >= self.threshold:
            self._open()

    def _open(self) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = self.clock()
        self.trial_under_way = False
