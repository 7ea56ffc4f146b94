"""The shared HTTP client for one source: auth, error mapping, retry and circuit breaker.

One ``httpx.AsyncClient`` per source, owned by whoever runs the sync (the app's lifespan or
the CLI) and closed by it. Temporary failures are retried by the policy of
``connectors.retry`` — never a retry inside a retry. Every attempt asks the source's breaker
first (an open breaker ends the request, even between its retries), and a request that still
fails once its retries are spent counts as one failure of the source (``connectors.breaker``).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import RetryCallState
from tenacity.wait import wait_base

from connectors.auth import NoAuth, SourceAuth
from connectors.breaker import CircuitBreaker
from connectors.errors import (
    SourceAuthError,
    SourceConnectionError,
    SourceRateLimited,
    SourceRequestRejected,
    SourceServerError,
    SourceTimeout,
    TemporarySourceError,
)
from connectors.retry import RetrySettings, Sleep, build_retrying
from domain.enums import SourceSystem


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (a number or an HTTP date); None if absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time())


def raise_for_source_status(response: httpx.Response, who: SourceSystem) -> None:
    """Map an HTTP error status onto the connector error tree."""
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        raise SourceRateLimited(who, "rate limited (429)", retry_after)
    if status >= 500:
        raise SourceServerError(who, f"server error {status}")
    reason = rejection_reason(response)
    if status in (401, 403):  # the reason tells a wrong secret from a clock or an expiry
        raise SourceAuthError(
            who, f"credentials refused ({status})" + (f": {reason}" if reason else ""))
    raise SourceRequestRejected(
        who, f"request rejected ({status})" + (f": {reason}" if reason else ""))


REASON_FIELDS = ("error_description", "errmsg", "message", "error", "msg")
"""Where the legacy systems put a refusal's reason in a JSON answer, the most specific first."""
MAX_REASON = 200


def rejection_reason(response: httpx.Response) -> str:
    """The target's own words for a 4xx (its JSON reason field, else its text), shortened;
    empty when it gives none. Kept so a FAILED write-back says why the target refused it,
    and a refused credential which of the source's checks failed."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for name in REASON_FIELDS:
            value = body.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()[:MAX_REASON]
    try:
        return " ".join(response.text.split())[:MAX_REASON]
    except (UnicodeDecodeError, LookupError):
        return ""


StatusCheck = Callable[[httpx.Response, SourceSystem], None]
"""Maps an error response onto ``connectors.errors`` (raises) or lets it pass (returns)."""


@dataclass
class SourceClient:
    """Calls to one source with its auth, retry policy and breaker."""

    source: SourceSystem
    http: httpx.AsyncClient
    auth: SourceAuth = field(default_factory=NoAuth)
    retry: RetrySettings = field(default_factory=RetrySettings)
    breaker: CircuitBreaker | None = None
    sleep: Sleep | None = None
    wait: wait_base | None = None
    retries: int = 0
    """Retries made so far (for ``sync_runs``)."""

    def _count_retry(self, _state: RetryCallState) -> None:
        self.retries += 1

    async def request(
        self,
        method: str,
        url: str,
        *,
        check: StatusCheck = raise_for_source_status,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries; return a 2xx/3xx response or raise from ``connectors.errors``.

        ``check`` maps each response's status onto the error tree inside the retry loop, so a
        ``TemporarySourceError`` it raises is retried, and counted by the breaker once the
        retries are spent. A protocol whose errors need the body (SOAP faults arrive as HTTP
        500) passes its own.
        """
        retrying = build_retrying(
            self.retry, sleep=self.sleep, wait=self.wait, on_retry=self._count_retry
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._guarded(method, url, check, **kwargs)
        except TemporarySourceError:
            # One failure per request, not per attempt: one request's retries alone must not
            # open the breaker for the whole source.
            if self.breaker is not None:
                self.breaker.record_failure()
            raise
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    async def _guarded(
        self, method: str, url: str, check: StatusCheck, **kwargs: Any
    ) -> httpx.Response:
        if self.breaker is None:
            return await self._send_authenticated(method, url, check, **kwargs)
        trial = self.breaker.before_call()  # BreakerOpen is no TemporarySourceError: no retry
        try:
            response = await self._send_authenticated(method, url, check, **kwargs)
        except TemporarySourceError:
            self.breaker.record_failed_attempt(trial)
            raise
        except BaseException:
            if trial:  # refused as a bad request, or cancelled: the source is still untried
                self.breaker.end_trial()
            raise
        self.breaker.record_success()
        return response

    async def _send_authenticated(
        self, method: str, url: str, check: StatusCheck, **kwargs: Any
    ) -> httpx.Response:
        response = await self._send_once(method, url, **kwargs)
        if response.status_code == 401 and await self.auth.refresh(self.http):
            response = await self._send_once(method, url, **kwargs)
        check(response, self.source)
        return response

    async def _send_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            request = self.http.build_request(method, url, **kwargs)
            await self.auth.prepare(self.http, request)
            response = await self.http.send(request)
            await response.aread()
        except httpx.TimeoutException as exc:
            raise SourceTimeout(self.source, f"timed out ({type(exc).__name__})") from exc
        except httpx.ConnectError as exc:  # a wrong host or port: say which, never userinfo
            where = request.url.netloc.decode("ascii")
            problem = f"cannot connect to {where} ({type(exc).__name__})"
            raise SourceConnectionError(self.source, problem) from exc
        except httpx.TransportError as exc:
            problem = f"transport error ({type(exc).__name__})"
            raise SourceConnectionError(self.source, problem) from exc
        return response
