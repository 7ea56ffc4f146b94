"""Background work owned by the app's lifespan: the sync scheduler (定时同步)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.config import load_sources
from connectors.registry import open_connectors
from connectors.scheduler import SyncScheduler
from connectors.sync import ChangeListener, RiskListener
from db.risk import RiskConfig
from hub.settings import Settings

log = structlog.get_logger(__name__)


@asynccontextmanager
async def scheduled_sync(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    on_changes: ChangeListener | None = None,
    risk: RiskConfig | None = None,
    on_risk_alerts: RiskListener | None = None,
    after_linking: ChangeListener | None = None,
) -> AsyncIterator[SyncScheduler | None]:
    """Sync every enabled source on its schedule while the app runs (when a sources file is set).

    The sources file was validated at start-up (``load_sources`` raises naming the bad key),
    and one ``httpx.AsyncClient`` per source lives exactly as long as the app.
    """
    if settings.sources_file is None or not settings.schedule_sync:
        yield None
        return
    configs = load_sources(settings.sources_file)
    async with open_connectors(configs) as connectors:
        scheduler = SyncScheduler(
            engine, sessions, connectors, configs, on_changes, risk, on_risk_alerts,
            after_linking,
        )
        scheduler.start()
        log.info("sync_scheduler_started", sources=sorted(s.value for s in connectors))
        try:
            yield scheduler
        finally:
            await scheduler.stop()
