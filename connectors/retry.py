"""Retry policies (重试策略), defined once, built from tenacity's composable parts.

Only :class:`~connectors.errors.TemporarySourceError` is retried: transport errors, timeouts,
5xx and 429 — the last honouring ``Retry-After``. Waits are exponential with jitter, bounded by
attempts and by total time. Sleep is injectable so tests never wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from connectors.errors import SourceRateLimited, TemporarySourceError

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetrySettings:
    attempts: int = 5
    total_seconds: float = 60.0
    initial_wait: float = 0.5
    max_wait: float = 20.0
    jitter: float = 0.5


class wait_retry_after(wait_base):  # named like tenacity's own strategies
    """Wait what a 429's ``Retry-After`` asked for, or fall back to another strategy."""

    def __init__(self, fallback: wait_base, ceiling: float) -> None:
        self.fallback = fallback
        self.ceiling = ceiling

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, SourceRateLimited) and error.retry_after is not None:
            return min(error.retry_after, self.ceiling)
        return self.fallback(retry_state)


def build_retrying(
    settings: RetrySettings,
    *,
    sleep: Sleep | None = None,
    wait: wait_base | None = None,
    on_retry: Callable[[RetryCallState], None] | None = None,
) -> AsyncRetrying:
    """An ``AsyncRetrying`` for one source call; ``sleep``/``wait`` are for tests."""
    base_wait = wait or wait_exponential_jitter(
        multiplier=settings.initial_wait, max=settings.max_wait, jitter=settings.jitter
    )
    kwargs: dict[str, object] = {}
    if sleep is not None:
        kwargs["sleep"] = sleep
    return AsyncRetrying(
        stop=stop_after_attempt(settings.attempts) | stop_after_delay(settings.total_seconds),
        wait=wait_retry_after(base_wait, ceiling=settings.max_wait * 3),
        retry=retry_if_exception_type(TemporarySourceError),
        reraise=True,
        before_sleep=on_retry,
        **kwargs,  # type: ignore[arg-type]
    )
