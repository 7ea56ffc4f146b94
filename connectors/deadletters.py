"""Dead letters (死信): list them, and replay them through the current mapping after a fix."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from connectors.base import Connector
from connectors.errors import RecordError
from connectors.sync import parse_record
from db.ingest import ingest_records
from db.models import DeadLetter
from domain.enums import SourceSystem


@dataclass
class ReplayResult:
    source: SourceSystem
    replayed: int = 0
    ingested: int = 0
    still_failing: int = 0


async def open_dead_letters(
    session: AsyncSession, source: SourceSystem | None = None, *, include_resolved: bool = False,
    payloads: bool = True,
) -> list[DeadLetter]:
    """Dead letters oldest first; ``payloads=False`` leaves the sealed raw payload unread
    (a listing shows none, so it opens none)."""
    query = select(DeadLetter).order_by(DeadLetter.id)
    if not payloads:
        query = query.options(defer(DeadLetter.raw, raiseload=True))
    if source is not None:
        query = query.where(DeadLetter.source == source)
    if not include_resolved:
        query = query.where(DeadLetter.resolved_at.is_(None))
    return list((await session.scalars(query)).all())


async def _replay(
    session: AsyncSession, connector: Connector, letter: DeadLetter, result: ReplayResult
) -> None:
    result.replayed += 1
    letter.attempts += 1
    try:
        parsed = parse_record(connector, letter.raw)
    except RecordError as exc:
        letter.error_code, letter.reason = exc.code, exc.reason
        result.still_failing += 1
        return
    letter.source_key = parsed.source_key
    await session.flush()
    await ingest_records(session, [parsed])  # closes this key's open dead letters
    await session.refresh(letter)
    result.ingested += 1


async def replay_dead_letters(
    sessions: async_sessionmaker[AsyncSession], connector: Connector
) -> ReplayResult:
    """Re-parse every open dead letter of the connector's source; ingest what now passes."""
    result = ReplayResult(source=connector.source)
    async with sessions.begin() as session:
        for letter in await open_dead_letters(session, connector.source):
            await _replay(session, connector, letter, result)
    return result


async def replay_dead_letter(
    sessions: async_sessionmaker[AsyncSession], connector: Connector, letter_id: int
) -> ReplayResult:
    """Re-parse one open dead letter of the connector's source (an operator's 重放)."""
    result = ReplayResult(source=connector.source)
    async with sessions.begin() as session:
        letter = await session.get(DeadLetter, letter_id)
        if letter is not None and letter.source == connector.source and letter.resolved_at is None:
            await _replay(session, connector, letter, result)
    return result
