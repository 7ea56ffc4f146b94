"""Idempotent upsert of parsed source records (入库), one batch per transaction.

Keyed on ``(source, source_key)``. A version older than the stored one never overwrites it; an
unchanged re-delivery (same content hash) writes nothing; a tombstone marks the record deleted.
Party mentions are replaced whenever their record changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    CourtFiling,
    DeadLetter,
    Dispute,
    GridEvent,
    PartyMention,
    Petition,
    PoliceAlert,
    Record,
)
from domain.enums import CaseStatus, RecordKind, SourceSystem
from domain.records import ParsedRecord

KIND_MODELS: dict[RecordKind, type[Record]] = {
    RecordKind.DISPUTE: Dispute,
    RecordKind.GRID_EVENT: GridEvent,
    RecordKind.POLICE_ALERT: PoliceAlert,
    RecordKind.PETITION: Petition,
    RecordKind.COURT_FILING: CourtFiling,
}

_COMMON = (
    "category", "title", "summary", "reported_at", "region_code", "address", "status",
    "risk_level", "source_status", "source_category", "source_updated_at", "source_version",
    "raw",
)  # fmt: skip


@dataclass
class IngestCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def add(self, other: IngestCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted


def _version_of(record: Record) -> tuple[datetime, str]:
    return (record.source_updated_at, record.source_version or "")


def _assign(target: Record, parsed: ParsedRecord, digest: str) -> None:
    for name in _COMMON:
        setattr(target, name, getattr(parsed, name))
    target.occurred_at = parsed.occurred_at or parsed.reported_at or parsed.source_updated_at
    target.title = parsed.title[:256]
    target.deleted = False
    target.content_hash = digest
    for name, value in parsed.fields.items():
        setattr(target, name, value)


def _mentions(record_id: int, parsed: ParsedRecord) -> list[PartyMention]:
    return [
        PartyMention(
            record_id=record_id,
            position=position,
            role=party.role,
            source_role=party.source_role,
            name=party.name[:128],
            is_organisation=party.is_organisation,
            id_number=party.id_number,
            phone=party.phone,
            uscc=party.uscc,
            address=party.address,
        )
        for position, party in enumerate(parsed.parties)
    ]


def _tombstone(parsed: ParsedRecord) -> Record:
    """A deleted record known only by its key and deletion time."""
    when = parsed.source_updated_at
    record = KIND_MODELS[parsed.kind](
        kind=parsed.kind, source=parsed.source, source_key=parsed.source_key,
        category=parsed.category, title=parsed.title, occurred_at=when,
        status=CaseStatus.WITHDRAWN, source_updated_at=when,
        source_version=parsed.source_version, deleted=True, raw=parsed.raw,
    )  # fmt: skip
    # Kinds whose own columns are required get the key and time they are named by.
    for column, value in (("alert_number", parsed.source_key), ("alarm_time", when),
                          ("case_number", parsed.source_key)):  # fmt: skip
        if hasattr(record, column) and getattr(record, column) is None:
            setattr(record, column, value)
    return record


async def ingest_records(session: AsyncSession, batch: Sequence[ParsedRecord]) -> IngestCounts:
    """Store a batch; returns what happened to each record. The caller commits."""
    counts = IngestCounts()
    if not batch:
        return counts
    source = batch[0].source
    keys = sorted({parsed.source_key for parsed in batch})
    existing: dict[str, Record] = {
        record.source_key: record
        for record in (
            await session.scalars(
                select(KIND_MODELS[batch[0].kind]).where(
                    Record.source == source, Record.source_key.in_(keys)
                )
            )
        ).all()
    }
    for parsed in batch:
        if parsed.source != source:
            raise ValueError("a batch holds records of one source")
        current = existing.get(parsed.source_key)
        if current is None and parsed.deleted:
            # Keep a tombstone even for a record we never held: an older version delivered
            # late (out of order) must not bring the deleted record back to life.
            existing[parsed.source_key] = _tombstone(parsed)
            session.add(existing[parsed.source_key])
            counts.deleted += 1
            continue
        if current is None:
            digest = parsed.content_hash()
            model = KIND_MODELS[parsed.kind]
            record = model(kind=parsed.kind, source=parsed.source, source_key=parsed.source_key)
            _assign(record, parsed, digest)
            session.add(record)
            await session.flush()
            session.add_all(_mentions(record.id, parsed))
            existing[parsed.source_key] = record
            counts.inserted += 1
            continue
        if parsed.version_key() < _version_of(current):
            counts.unchanged += 1  # an older version delivered late: never overwrite newer
            continue
        if parsed.deleted:
            if current.deleted:
                counts.unchanged += 1
            else:
                current.deleted = True
                current.source_updated_at = parsed.source_updated_at
                counts.deleted += 1
            continue
        digest = parsed.content_hash()
        same_version = parsed.version_key() == _version_of(current)
        if same_version and digest == current.content_hash and not current.deleted:
            counts.unchanged += 1  # a re-delivery (overlap, duplicate, drifted extra field)
            continue
        _assign(current, parsed, digest)
        await session.execute(delete(PartyMention).where(PartyMention.record_id == current.id))
        session.add_all(_mentions(current.id, parsed))
        counts.updated += 1
    await session.flush()
    await resolve_dead_letters(session, source, keys)
    return counts


async def resolve_dead_letters(
    session: AsyncSession, source: SourceSystem, keys: Sequence[str]
) -> None:
    """A key that now ingests cleanly closes its open dead letters."""
    await session.execute(
        update(DeadLetter)
        .where(
            DeadLetter.source == source,
            DeadLetter.source_key.in_(keys),
            DeadLetter.resolved_at.is_(None),
        )
        .values(resolved_at=datetime.now(UTC))
    )
