"""A circuit breaker per source (熔断器): stop hammering a source that keeps failing.

CLOSED → (``threshold`` consecutive failed calls) → OPEN → (``cooldown`` elapsed) → HALF_OPEN:
one trial call; success closes the breaker, failure opens it again. The state is persisted
in ``sync_state`` by the sync engine so it survives restarts and is visible in ``syncStatus``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from connectors.errors import BreakerOpen
from domain.enums import SourceSystem


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass
class CircuitBreaker:
    source: SourceSystem
    threshold: int = 5
    cooldown: float = 30.0
    clock: Callable[[], float] = field(default=time.time)
    state: BreakerState = BreakerState.CLOSED
    consecutive_failures: int = 0
    opened_at: float | None = None

    def before_call(self) -> None:
        """Raise :class:`BreakerOpen` while open; let one trial call through after cool-down."""
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            waited = self.clock() - self.opened_at
            if waited < self.cooldown:
                raise BreakerOpen(self.source, self.cooldown - waited)
            self.state = BreakerState.HALF_OPEN

    def record_success(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at = None

    def record_failure(self) -> None:
        self.consecutive_failures += 1
        if self.state is BreakerState.HALF_OPEN or self.consecutive_failures >= self.threshold:
            self.state = BreakerState.OPEN
            self.opened_at = self.clock()
