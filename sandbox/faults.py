"""Injectable faults for the simulated systems (故障注入).

Every system carries one :class:`FaultState`. Its :class:`FaultSettings` are set at start-up
from a profile (``clean`` | ``flaky`` | ``hostile``) and changed at runtime with
``POST /_sandbox/control`` on the system's own port (see ``sandbox.control``); the control,
stats and record endpoints under ``/_sandbox/`` are never subject to faults.

Transport-level faults are applied by :class:`FaultMiddleware`, in this order:

``down``
    every request is answered ``503`` with ``{"code": "SYSTEM_DOWN"}`` (the port stays open
    so the control endpoint keeps working; "connection refused" is not simulated).
``storm_429`` / ``rate_429``
    ``429`` with a ``Retry-After`` header (seconds). A storm is continuous while
    ``storm_period_s`` is 0, else it lasts ``storm_length_s`` out of every ``storm_period_s``.
``latency_ms``
    added delay (plus up to 50 % jitter).
``hang_rate``
    the request sleeps ``hang_seconds`` (default 30 s; released at shutdown) and then gets 504.
``error_rate``
    a random ``500`` / ``502`` / ``503``.
``reset_rate``
    the response starts (200, a declared ``Content-Length``) and the connection is closed
    mid-body: an HTTP client sees a broken connection (httpx: ``RemoteProtocolError`` or
    ``ReadError``, as the close reaches it).

Write faults (``write_error_rate``, ``write_lost_rate``, ``write_timeout_rate``) are decided by
the write handlers (``sandbox.writes``): a 5xx before applying is answered by the handler; a
lost answer or a hang *after* applying is left in the request scope under
:data:`WRITE_FAULT_SCOPE_KEY` and carried out here, on the way out.

Record-level faults (``malformed_rate``, ``duplicate_rate``, ``out_of_order``,
``schema_drift``) are applied where records are delivered (``sandbox.systems.delivery``), and
``mutate`` drives a background task (``sandbox.control``). Every decision draws from one
``random.Random`` seeded per system, so a run is reproducible for a given request sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROFILES = ("clean", "flaky", "hostile")
WRITE_FAULT_SCOPE_KEY = "sandbox.write_fault"
"""Scope key a write handler sets to ``"lost"`` or ``"hang"`` after applying (sandbox.writes)."""


MAX_MUTATE_COUNT = 10_000
"""The most changes one mutation round makes: a round runs on the event loop all five systems
share, and 10 000 holds them about two seconds (100 000 held them for twenty)."""


@dataclass(slots=True)
class MutateSettings:
    """Background change: call ``mutate_world`` every ``interval_ms`` for ``count`` records."""

    interval_ms: int = 1000
    count: int = 5


@dataclass(slots=True)
class FaultSettings:
    """What a system currently injects; the JSON shape of ``/_sandbox/control``."""

    down: bool = False
    latency_ms: int = 0
    error_rate: float = 0.0
    hang_rate: float = 0.0
    hang_seconds: float = 30.0
    reset_rate: float = 0.0
    rate_429: float = 0.0
    storm_429: bool = False
    storm_period_s: float = 0.0
    storm_length_s: float = 1.5
    retry_after_s: int = 1
    malformed_rate: float = 0.0
    duplicate_rate: float = 0.0
    out_of_order: bool = False
    schema_drift: bool = False
    write_error_rate: float = 0.0
    write_lost_rate: float = 0.0
    write_timeout_rate: float = 0.0
    mutate: MutateSettings | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update from control JSON, all or nothing.

        The whole request is checked first (:meth:`validated`): a ``ValueError`` leaves every
        setting as it was."""
        self.apply(self.validated(changes))

    def apply(self, checked: dict[str, Any]) -> None:
        """Set what :meth:`validated` returned."""
        for name, value in checked.items():
            setattr(self, name, value)

    def validated(self, changes: dict[str, Any]) -> dict[str, Any]:
        """``changes`` checked and converted to the field types, without applying them.

        Unknown keys, wrong types, fractions for whole numbers, rates outside [0, 1] and
        negative durations raise ``ValueError`` naming the key."""
        known = {f.name for f in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown control key: {name}")
            if name == "mutate":  # null stops it; {} starts it with the defaults
                checked[name] = None if value is None else _mutate_settings(value)
                continue
            current = getattr(self, name)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be a boolean")
            else:
                value = (_whole(name, value) if isinstance(current, int)
                         else float(_non_negative(name, value)))
                if name.endswith("_rate") and value > 1:
                    raise ValueError(f"{name} must be between 0 and 1, not {value}")
            checked[name] = value
        return checked


def _non_negative(name: str, value: Any) -> float:
    """``value`` if it is a number of at least 0, else a ``ValueError`` naming the key."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number")
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {value}")
    return value


def _whole(name: str, value: Any) -> int:
    """``value`` as an int if it is a whole number of at least 0 (``2.0`` is, ``0.5`` is not:
    cutting it to 0 would set something else than asked), else a ``ValueError``."""
    number = _non_negative(name, value)
    if number != int(number):
        raise ValueError(f"{name} must be a whole number, not {number}")
    return int(number)


def _mutate_settings(value: Any) -> MutateSettings:
    if not isinstance(value, dict):
        raise ValueError("mutate must be an object like {\"interval_ms\": 200, \"count\": 5}")
    known = {f.name for f in fields(MutateSettings)}
    for name in value:
        if name not in known:
            raise ValueError(f"unknown mutate key: {name}")
    settings = MutateSettings(**{name: _whole(f"mutate.{name}", v) for name, v in value.items()})
    check_mutate_count(settings.count, "mutate.count")
    return settings


def check_mutate_count(count: int, name: str = "count") -> None:
    """A ``ValueError`` naming ``name`` when one round would make more than
    :data:`MAX_MUTATE_COUNT` changes."""
    if count > MAX_MUTATE_COUNT:
        raise ValueError(f"{name} must be at most {MAX_MUTATE_COUNT}, not {count}")


def with_write_faults(settings: FaultSettings, rate: float) -> FaultSettings:
    """``settings`` with write faults at ``rate`` in all, split evenly between a 5xx before
    applying, a lost answer after applying and a timeout after applying (any profile)."""
    if not 0 <= rate <= 1:
        raise ValueError(f"write fault rate must be between 0 and 1, not {rate}")
    settings.write_error_rate = settings.write_lost_rate = settings.write_timeout_rate = rate / 3
    return settings


def profile_settings(profile: str) -> FaultSettings:
    """The start-up settings of a named profile."""
    if profile == "clean":
        return FaultSettings()
    if profile == "flaky":
        return FaultSettings(latency_ms=20, error_rate=0.10, rate_429=0.03, malformed_rate=0.01,
                             write_error_rate=0.05, write_lost_rate=0.03, write_timeout_rate=0.02)
    if profile == "hostile":
        return FaultSettings(
            latency_ms=50, error_rate=0.25, hang_rate=0.02, hang_seconds=30.0, reset_rate=0.02,
            rate_429=0.05, storm_429=True, storm_period_s=20.0, storm_length_s=2.0,
            malformed_rate=0.02, duplicate_rate=0.05, out_of_order=True, schema_drift=True,
            write_error_rate=0.10, write_lost_rate=0.05, write_timeout_rate=0.05,
            mutate=MutateSettings(interval_ms=1000, count=5),
        )
    raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")


@dataclass(slots=True)
class FaultState:
    """The live settings of one system, its seeded random source and what it injected."""

    settings: FaultSettings
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = field(default_factory=time.monotonic)

    def chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def count(self, kind: str, n: int = 1) -> None:
        self.injected[kind] += n

    def in_storm(self) -> bool:
        s = self.settings
        if not s.storm_429:
            return False
        if s.storm_period_s <= 0:
            return True
        return (time.monotonic() - self.started) % s.storm_period_s < s.storm_length_s


class FaultMiddleware:
    """ASGI middleware applying transport-level faults to everything outside ``/_sandbox/``."""

    def __init__(self, app: ASGIApp, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        state, s = self.state, self.state.settings
        if s.down:
            state.count("down")
            await _send_json(send, 503, {"code": "SYSTEM_DOWN", "message": "系统维护中"})
            return
        if state.in_storm() or state.chance(s.rate_429):
            state.count("rate_limited")
            await _send_json(send, 429, {"code": "TOO_MANY_REQUESTS", "message": "请求过于频繁"},
                             [(b"retry-after", str(s.retry_after_s).encode())])
            return
        if s.latency_ms > 0:
            state.count("latency")
            await asyncio.sleep(s.latency_ms * (1 + 0.5 * state.rng.random()) / 1000)
        if state.chance(s.hang_rate):
            state.count("hang")
            await self._hang(s.hang_seconds)
            await _send_json(send, 504, {"code": "GATEWAY_TIMEOUT"})
            return
        if state.chance(s.error_rate):
            status = state.rng.choice((500, 502, 503))
            state.count(f"error_{status}")
            await _send_json(send, status, {"code": "SERVER_ERROR", "message": "内部错误"})
            return
        if state.chance(s.reset_rate):
            state.count("reset")
            await _send_reset(send)
            return
        await self.app(scope, receive, self._write_faulted(scope, send))

    def _write_faulted(self, scope: Scope, send: Send) -> Send:
        """``send``, unless the handler applied a write and chose to lose or delay its answer."""
        swallowing = False

        async def guarded(message: Message) -> None:
            nonlocal swallowing
            fault = scope.get(WRITE_FAULT_SCOPE_KEY)
            if swallowing:
                return
            if fault is None or message["type"] != "http.response.start":
                await send(message)
                return
            swallowing = True  # the handler's own answer never leaves
            if fault == "lost":
                await _send_reset(send)
            else:
                await self._hang(self.state.settings.hang_seconds)
                await _send_json(send, 504, {"code": "GATEWAY_TIMEOUT"})
        return guarded

    async def _hang(self, seconds: float) -> None:
        # Waiting on the closing event keeps the hang cancellable: shutdown releases it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.state.closing.wait(), timeout=seconds)


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(data)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": data})


async def _send_reset(send: Send) -> None:
    """Start a response and return without finishing it: uvicorn closes the transport."""
    await send({
        "type": "http.response.start", "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
    })
    await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})


class _IncompleteResponseFilter(logging.Filter):
    """Silence uvicorn's error line for the connection resets injected on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def silence_injected_resets() -> None:
    """Install the filter on uvicorn's error logger once."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _IncompleteResponseFilter) for f in logger.filters):
        logger.addFilter(_IncompleteResponseFilter())
