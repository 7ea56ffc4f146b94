"""Helpers for the connector tests: build a connector against the sandbox, sync it, and
reconcile what was stored with the sandbox's own ``/_sandbox/stats`` record by record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import Connector
from connectors.config import BreakerConfig, RetryConfig, SourceConfig
from connectors.registry import build_connector
from connectors.sync import RunResult, sync_source
from db.engine import session_factory
from db.models import DeadLetter, Record, Region
from db.regions import seed_regions
from domain.enums import RegionLevel, SourceSystem
from sandbox.runner import Sandbox

CODE_OF_MALFORMATION = {
    "bad_id_check": "INVALID_ID_NUMBER",
    "missing_required": "MISSING_FIELD",
    "impossible_date": "INVALID_DATE",
    "broken_encoding": "BAD_ENCODING",
}
FAULTS = {"error_rate": 0.25, "duplicate_rate": 0.1, "out_of_order": True, "schema_drift": True}


def source_config(sb: Sandbox, system: SourceSystem, *, page_size: int = 20) -> SourceConfig:
    """Tiny retry waits, many attempts and a breaker that does not trip on injected faults."""
    return SourceConfig(
        base_url=sb.urls[system],
        credentials=sb.credentials[system],
        page_size=page_size,
        retry=RetryConfig(attempts=12, initial_wait=0, max_wait=0.1, jitter=0),
        breaker=BreakerConfig(threshold=1000),
    )


@asynccontextmanager
async def connector_for(
    sb: Sandbox, system: SourceSystem, *, page_size: int = 20
) -> AsyncIterator[Connector]:
    config = source_config(sb, system, page_size=page_size)
    # No keep-alive: the sandbox's pre-bound sockets lack TCP_NODELAY, so a reused connection
    # waits ~40 ms per response (Nagle vs delayed ACK); a fresh one answers in ~1 ms.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=config.url, limits=limits, timeout=10) as http:
        yield build_connector(system, config, http)


async def sync(engine: AsyncEngine, connector: Connector, *, full: bool = False) -> RunResult:
    result = await sync_source(engine, session_factory(engine), connector, full=full)
    assert result.ok, result.error
    return result


@asynccontextmanager
async def seeded(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The seed regions loaded, and every region removed afterwards, leaves first: the
    parent reference is ON DELETE RESTRICT, so a plain ``DELETE FROM regions`` fails."""
    async with session_factory(engine).begin() as session:
        await seed_regions(session)
    try:
        yield engine
    finally:
        async with engine.begin() as connection:
            for level in reversed(RegionLevel):
                await connection.execute(delete(Region).where(Region.level == level))


async def control(sb: Sandbox, system: SourceSystem, **settings: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sb.urls[system]) as client:
        response = await client.post("/_sandbox/control", json=settings)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def mutate(sb: Sandbox, system: SourceSystem, count: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=sb.urls[system]) as client:
        response = await client.post("/_sandbox/mutate", json={"count": count})
        changed: list[dict[str, Any]] = response.json()["changed"]
        return changed


async def stats(sb: Sandbox, system: SourceSystem) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=sb.urls[system]) as client:
        body: dict[str, Any] = (await client.get("/_sandbox/stats")).json()
        return body


async def stored(engine: AsyncEngine, system: SourceSystem) -> dict[str, Record]:
    async with session_factory(engine)() as session:
        rows = await session.scalars(select(Record).where(Record.source == system))
        return {r.source_key: r for r in rows}


async def open_dead_letters(engine: AsyncEngine, system: SourceSystem) -> dict[str | None, str]:
    async with session_factory(engine)() as session:
        rows = await session.scalars(
            select(DeadLetter).where(DeadLetter.source == system, DeadLetter.resolved_at.is_(None))
        )
        return {d.source_key: d.error_code for d in rows}


async def assert_matches_sandbox(
    engine: AsyncEngine, sb: Sandbox, system: SourceSystem, connector: Connector
) -> None:
    """Stored live records are exactly the valid keys, each as the sandbox's latest clean
    payload maps (update time, title, status, category, region); malformed keys are
    dead-lettered with the code of their flaw; deleted keys are absent or marked deleted."""
    truth = await stats(sb, system)
    records = await stored(engine, system)
    live = {k for k, r in records.items() if not r.deleted}
    assert sorted(live ^ set(truth["valid_keys"])) == []
    async with httpx.AsyncClient(base_url=sb.urls[system]) as client:
        responses = await asyncio.gather(
            *(client.get(f"/_sandbox/records/{key}") for key in truth["valid_keys"])
        )
    for key, response in zip(truth["valid_keys"], responses, strict=True):
        latest = response.json()
        record, expected = records[key], connector.parse(latest["payload"])
        assert record.source_updated_at == datetime.fromisoformat(latest["updatedAt"])
        assert (record.title, record.status, record.category, record.region_code) == (
            expected.title, expected.status, expected.category, expected.region_code,
        )  # fmt: skip
    letters = await open_dead_letters(engine, system)
    assert letters == {
        key: CODE_OF_MALFORMATION[flaw["kind"]] for key, flaw in truth["malformed"].items()
    }
    for key in truth["deleted_keys"]:
        assert key not in records or records[key].deleted


async def snapshot(engine: AsyncEngine, system: SourceSystem) -> dict[str, tuple[Any, ...]]:
    """What a no-op sync must leave untouched: each row's write time and content hash."""
    return {
        k: (r.updated_at, r.content_hash, r.deleted)
        for k, r in (await stored(engine, system)).items()
    }
