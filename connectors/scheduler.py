"""Runs each source on its schedule inside ``serve`` and ``demo`` (定时同步)."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.base import Connector
from connectors.config import SourceConfig
from connectors.sync import ChangeListener, RiskListener, RunResult, sync_source
from connectors.tasks import cancel_and_wait
from db.risk import RiskConfig
from domain.enums import SourceSystem

log = structlog.get_logger(__name__)


class SyncScheduler:
    """One task per source: sync, sleep its interval, repeat — a failing source never
    delays the others, and the PostgreSQL advisory lock keeps replicas from overlapping."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        connectors: dict[SourceSystem, Connector],
        configs: dict[SourceSystem, SourceConfig],
        on_changes: ChangeListener | None = None,
        risk: RiskConfig | None = None,
        on_risk_alerts: RiskListener | None = None,
        after_linking: ChangeListener | None = None,
    ) -> None:
        self.engine = engine
        self.on_changes = on_changes
        self.risk = risk
        self.on_risk_alerts = on_risk_alerts
        self.after_linking = after_linking
        self.sessions = sessions
        self.connectors = connectors
        self.configs = configs
        self.last: dict[SourceSystem, RunResult] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def _loop(self, source: SourceSystem) -> None:
        interval = self.configs[source].schedule_seconds
        while not self._stopping:  # a run that lost its cancellation starts no other
            try:
                self.last[source] = await sync_source(
                    self.engine,
                    self.sessions,
                    self.connectors[source],
                    on_changes=self.on_changes,
                    risk=self.risk,
                    on_risk_alerts=self.on_risk_alerts,
                    after_linking=self.after_linking,
                )
            except Exception:  # a scheduler must outlive any one run's surprise
                log.exception("scheduled_sync_crashed", source=source.value)
            await asyncio.sleep(interval)

    def start(self) -> None:
        for source in self.connectors:
            self._tasks.append(asyncio.create_task(self._loop(source), name=f"sync:{source}"))

    async def stop(self) -> None:
        """Cancel every source's loop and wait until each has ended (a run cut short leaves
        its committed batches, and the next run resumes after them)."""
        self._stopping = True
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
