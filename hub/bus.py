"""Event fan-out between hub processes (事件总线): in-process alone, Redis pub/sub when several run.

Used to tell every process (and its GraphQL subscriptions) that records changed. Messages are
small JSON documents that never carry personal information.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from connectors.sync import ChangeListener
from domain.enums import SourceSystem
from domain.events import RECORDS_CHANNEL, ChangedRecord, change_message

if TYPE_CHECKING:
    from redis.asyncio import Redis


class EventBus(Protocol):
    """Publish a JSON message on a channel; subscribe to receive them."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]: ...

    async def close(self) -> None: ...


class LocalBus:
    """Fan-out inside one process: each subscriber gets its own queue."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for queue in self._queues.get(channel, set()):
            queue.put_nowait(message)

    async def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues.setdefault(channel, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues[channel].discard(queue)

    async def close(self) -> None:
        self._queues.clear()


class RedisBus:
    """Fan-out across processes through Redis pub/sub, on channels ``<namespace>:<channel>``:
    the processes of one deployment share a namespace (``Settings.bus_namespace``), and
    another deployment on the same Redis has its own."""

    def __init__(self, url: str, namespace: str = "govhub") -> None:
        # imported here: a process with no Redis configured (``govhub sync`` on its own, the
        # other commands) is spared its import, a fifth of a second
        from redis.asyncio import Redis

        self._redis: Redis = Redis.from_url(url)
        self._namespace = namespace

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._redis.publish(
            f"{self._namespace}:{channel}", json.dumps(message, ensure_ascii=False)
        )

    async def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(f"{self._namespace}:{channel}")
        try:
            async for item in pubsub.listen():
                if item["type"] == "message":
                    yield json.loads(item["data"])
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()


async def redis_reachable(url: str, wait_seconds: float = 2.0) -> bool:
    """Whether Redis at ``url`` answers a PING within ``wait_seconds`` (readiness): a
    process that cannot reach it neither hears nor tells the others of any change."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client: Redis = Redis.from_url(
        url, socket_connect_timeout=wait_seconds, socket_timeout=wait_seconds
    )
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


def record_announcer(bus: EventBus) -> ChangeListener:
    """A sync listener that publishes each committed batch's changes on ``records``."""

    async def announce(_source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
        await bus.publish(RECORDS_CHANNEL, change_message(changes, datetime.now(UTC)))

    return announce


@asynccontextmanager
async def open_bus(redis_url: str | None, namespace: str = "govhub") -> AsyncIterator[EventBus]:
    """Redis when a URL is configured (channels under ``namespace``), in-process otherwise;
    closed on exit."""
    bus: EventBus = RedisBus(redis_url, namespace) if redis_url else LocalBus()
    try:
        yield bus
    finally:
        await bus.close()
