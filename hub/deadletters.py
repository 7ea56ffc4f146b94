"""Dead letters replayed from the API (``replayDeadLetter``): through the source's connector
as configured in the sources file, the same path as ``govhub deadletter replay``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.config import load_sources
from connectors.deadletters import replay_dead_letter
from connectors.registry import open_connectors
from domain.enums import SourceSystem


class SourceDeadLetters:
    """``schema.context.DeadLetterReplayer`` over the sources file (read on each replay, so
    a mapping fixed in it applies without a restart)."""

    def __init__(self, sources_file: Path) -> None:
        self.sources_file = sources_file

    async def replay(
        self, sessions: async_sessionmaker[AsyncSession], source: SourceSystem, letter_id: int
    ) -> bool:
        async with open_connectors(load_sources(self.sources_file), {source}) as connectors:
            connector = connectors.get(source)
            if connector is None:  # the source is switched off
                return False
            result = await replay_dead_letter(sessions, connector, letter_id)
        return result.ingested > 0
