"""Event fan-out: in-process, and across processes through Redis."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from hub.bus import LocalBus, RedisBus
from tests.conftest import service_missing


async def _round_trip(bus: LocalBus | RedisBus, channel: str) -> dict[str, object]:
    stream = bus.subscribe(channel)
    receiver = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)  # let the subscription register before publishing
    await bus.publish(channel, {"source": "COURT", "changed": 3})
    try:
        return await asyncio.wait_for(receiver, 5)
    finally:
        await stream.aclose()


async def test_local_bus_delivers_to_subscribers() -> None:
    bus = LocalBus()
    assert await _round_trip(bus, "records") == {"source": "COURT", "changed": 3}


@pytest.mark.redis
async def test_redis_bus_delivers_across_connections() -> None:
    url = os.environ.get("GOVHUB_TEST_REDIS_URL")
    if not url:
        service_missing("Redis not configured: set GOVHUB_TEST_REDIS_URL")
        return
    publisher = RedisBus(url)
    try:
        await publisher.ping()
    except (OSError, RedisConnectionError) as exc:
        await publisher.close()
        service_missing(f"Redis unreachable at {url}: {exc}")
        return
    subscriber = RedisBus(url)
    channel = f"test-{secrets.token_hex(4)}"
    try:
        stream = subscriber.subscribe(channel)
        receiver = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.2)
        await publisher.publish(channel, {"source": "GRID", "changed": 1})
        assert await asyncio.wait_for(receiver, 5) == {"source": "GRID", "changed": 1}
        await stream.aclose()
    finally:
        await publisher.close()
        await subscriber.close()
