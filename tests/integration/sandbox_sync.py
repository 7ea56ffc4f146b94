"""Helpers for syncing a connector against the sandbox over HTTP and reconciling the result.

Reconciliation is against the sandbox's own bookkeeping (``/_sandbox/stats`` and
``/_sandbox/records/{key}``), never against what the connector under test reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.base import Connector
from connectors.breaker import CircuitBreaker
from connectors.config import RetryConfig, SourceConfig
from connectors.sync import RunResult, sync_source
from db.engine import session_factory
from db.models import DeadLetter, Record, SyncState
from domain.enums import SourceSystem
from sandbox.runner import Sandbox

# Tests never wait between retries; the breaker is out of the way (the unit tests cover it).
FAST_RETRY = RetryConfig(attempts=12, total_seconds=30, initial_wait=0, max_wait=0.001, jitter=0)
FAULTS = {
    "error_rate": 0.25,
    "duplicate_rate": 0.1,
    "out_of_order": True,
    "schema_drift": True,
    "latency_ms": 5,
}


@dataclass
class Harness:
    """One sandbox system, its HTTP client and the database a connector syncs into."""

    sandbox: Sandbox
    system: SourceSystem
    http: httpx.AsyncClient
    engine: AsyncEngine
    module: ModuleType

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return session_factory(self.engine)

    def connector(
        self, page_size: int = 20, credentials: dict[str, str] | None = None
    ) -> Connector:
        config = SourceConfig(
            base_url=self.sandbox.urls[self.system],
            credentials=credentials or self.sandbox.credentials[self.system],
            page_size=page_size,
            retry=FAST_RETRY,
        )
        breaker = CircuitBreaker(self.system, threshold=1000, cooldown=1)
        connector: Connector = self.module.build(config, self.http, breaker)
        return connector

    async def sync(
        self,
        *,
        full: bool = False,
        page_size: int = 20,
        credentials: dict[str, str] | None = None,
    ) -> RunResult:
        connector = self.connector(page_size, credentials)
        return await sync_source(self.engine, self.sessions, connector, full=full)

    async def control(self, settings: dict[str, Any]) -> None:
        response = await self.http.post("/_sandbox/control", json=settings)
        assert response.status_code == 200, response.text

    async def stats(self) -> dict[str, Any]:
        response = await self.http.get("/_sandbox/stats")
        stats: dict[str, Any] = response.json()
        return stats

    async def sandbox_record(self, key: str) -> dict[str, Any]:
        response = await self.http.get(f"/_sandbox/records/{key}")
        record: dict[str, Any] = response.json()
        return record

    async def stored(self, model: type[Record] = Record) -> dict[str, Record]:
        """Stored records of the system; pass the kind's model to load its own columns."""
        async with self.sessions() as session:
            rows = await session.scalars(select(model).where(Record.source == self.system))
            return {r.source_key: r for r in rows}

    async def dead_letters(self) -> dict[str | None, DeadLetter]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(DeadLetter).where(
                    DeadLetter.source == self.system, DeadLetter.resolved_at.is_(None)
                )
            )
            return {d.source_key: d for d in rows}

    async def cursor(self) -> str | None:
        async with self.sessions() as session:
            state = await session.get(SyncState, self.system)
            return None if state is None else state.cursor

    async def assert_matches_sandbox(self) -> dict[str, Any]:
        """Stored keys are exactly the valid ones, each at the sandbox's update time.

        The update times come from the system's record store in-process: the same data as
        ``/_sandbox/records/{key}`` without a request per record.
        """
        stats = await self.stats()
        stored = await self.stored()
        assert sorted(stored) == stats["valid_keys"]
        held = self.sandbox.systems[self.system].store.latest
        for key, record in stored.items():
            assert record.source_updated_at == held[key].updated_at, key
        sample = stats["valid_keys"][0]  # and one over HTTP, as an integrator would check
        expected = datetime.fromisoformat((await self.sandbox_record(sample))["updatedAt"])
        assert stored[sample].source_updated_at == expected
        return stats
