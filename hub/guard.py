"""What a hostile caller meets before GraphQL (入口防护): a body cap and a rate limit.

Pure ASGI middleware, in front of everything else:

- a request body larger than ``GOVHUB_MAX_BODY_BYTES`` (default 1 MiB) is answered 413,
  whether it says so in ``Content-Length`` or streams past the cap;
- requests to ``/graphql`` without a valid token count against their client address, and
  past ``GOVHUB_UNAUTHENTICATED_PER_MINUTE`` in a minute they are answered 429 with
  ``Retry-After`` — before they reach the audit, so no one can grow the log without a token.
  Counts live in the process, or in Redis when ``GOVHUB_REDIS_URL`` is set (shared by
  replicas). The address is the connection's peer: behind a proxy, configure it to pass the
  client's address (uvicorn ``--proxy-headers``).

Both answer a GraphQL-shaped JSON body (``errors[0].extensions.code``:
``PAYLOAD_TOO_LARGE``, ``RATE_LIMITED``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)

WINDOW_SECONDS = 60


class AttemptCounter(Protocol):
    """Counts attempts per key in fixed windows; returns (count, seconds left in window)."""

    async def hit(self, key: str) -> tuple[int, int]: ...

    async def close(self) -> None: ...


class LocalCounter:
    """In-process fixed windows; old windows are dropped as new ones open."""

    async def close(self) -> None:
        return None

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, key: str) -> tuple[int, int]:
        now = self._clock()
        window = int(now // WINDOW_SECONDS)
        if window != self._window:
            self._window, self._counts = window, {}
        self._counts[key] = count = self._counts.get(key, 0) + 1
        return count, max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


class RedisCounter:
    """Fixed windows shared by every replica: ``INCR`` + ``EXPIRE`` per address and window."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._fallback = LocalCounter(time.time)  # while Redis cannot be reached

    async def hit(self, key: str) -> tuple[int, int]:
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        name = f"govhub:unauth:{window}:{key}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, WINDOW_SECONDS * 2)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("rate_limit_redis_unavailable", error=type(exc).__name__)
            return await self._fallback.hit(key)
        return int(count), max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))

    async def close(self) -> None:
        await self._redis.aclose()


def attempt_counter(redis_url: str | None) -> AttemptCounter:
    """Redis-backed when a URL is configured (replicas share counts), else in-process."""
    return RedisCounter(Redis.from_url(redis_url)) if redis_url else LocalCounter()


def _error(status: int, code: str, message: str, headers: dict[str, str]) -> tuple[Message, ...]:
    body = json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    ).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(name.encode(), value.encode()) for name, value in headers.items()]
    return (
        {"type": "http.response.start", "status": status, "headers": raw},
        {"type": "http.response.body", "body": body},
    )


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over ``max_bytes``, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes."
        for part in _error(413, "PAYLOAD_TOO_LARGE", message, {"connection": "close"}):
            await send(part)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)


class UnauthenticatedLimit:
    """429 once a client address has sent ``per_minute`` requests to ``path`` this minute
    without a valid token (``is_authenticated`` decides from the ``Authorization`` header)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        is_authenticated: Callable[[str | None], bool],
        counter: AttemptCounter,
        path: str = "/graphql",
    ) -> None:
        self.app = app
        self.per_minute = per_minute
        self.is_authenticated = is_authenticated
        self.counter = counter
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or self.per_minute <= 0:
            await self.app(scope, receive, send)
            return
        raw = dict(scope["headers"]).get(b"authorization")
        if self.is_authenticated(raw.decode("latin-1") if raw is not None else None):
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        count, retry_after = await self.counter.hit(address)
        if count <= self.per_minute:
            await self.app(scope, receive, send)
            return
        if count == self.per_minute + 1:  # once per address and window, not per request
            log.warning("unauthenticated_rate_limited", limit=self.per_minute)
        message = "Too many requests without a valid token from this address; retry later."
        for part in _error(429, "RATE_LIMITED", message, {"retry-after": str(retry_after)}):
            await send(part)
