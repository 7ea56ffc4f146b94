"""Idempotent upsert of parsed source records (入库), one batch per transaction.

Keyed on ``(source, source_key)``. A version older than the stored one never overwrites it; an
unchanged re-delivery (same content hash) writes nothing; a tombstone marks the record deleted.
Party mentions are replaced whenever their record changes; a new mention that is the same
party as an old one (see :func:`same_party_level`) keeps its resolution — person,
organisation, match confidence and evidence, and a staff decision (人工确认) — so a source
update never undoes what staff decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from db.bulk import COMMON_COLUMNS, insert_new, store_blocking_keys, write_updates
from db.linking_facts import MentionRow
from db.models import DeadLetter, PartyMention, PersonBlockingKey, Record
from db.models.records import kind_models
from db.queries import in_list
from domain.enums import CaseStatus, RecordChangeKind, RecordKind, SourceSystem
from domain.events import ChangedRecord
from domain.records import ParsedRecord
from domain.stats import kpi_class

KIND_MODELS: dict[RecordKind, type[Record]] = kind_models()


@dataclass
class IngestCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    # records this batch inserted, changed or withdrew (not summed by ``add``: per batch)
    changed_ids: list[int] = field(default_factory=list, repr=False, compare=False)
    # the same records with what happened to each, for subscribers (per batch too)
    changes: list[ChangedRecord] = field(default_factory=list, repr=False, compare=False)
    # the party mentions of the records inserted in bulk, as linking reads them, for the
    # resolution pass that follows (``db.resolution.resolve_new_mentions``; per batch too)
    mentions: list[MentionRow] = field(default_factory=list, repr=False, compare=False)

    def add(self, other: IngestCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted


def _change_facts(changed: dict[int, tuple[Record, RecordChangeKind]]) -> list[ChangedRecord]:
    return [
        ChangedRecord(record.id, record.kind, record.source, record.region_code, change)
        for record_id, (record, change) in changed.items()
    ]


def _version_of(record: Record) -> tuple[datetime, str]:
    return (record.source_updated_at, record.source_version or "")


def _assign(target: Record, parsed: ParsedRecord, digest: str) -> None:
    for name in COMMON_COLUMNS:
        setattr(target, name, getattr(parsed, name))
    target.occurred_at = parsed.occurred_at or parsed.reported_at or parsed.source_updated_at
    # The source's grade is a fact the risk rules read; ``risk_level`` is what they compute
    # (``db.risk``), and until then a new record shows the source's.
    target.source_risk_level = parsed.risk_level
    if target.risk_level is None:
        target.risk_level = parsed.risk_level
    target.title = parsed.title[:256]
    target.deleted = False
    target.content_hash = digest
    for name, value in parsed.fields.items():
        setattr(target, name, value)
    target.kpi_class = kpi_class(parsed.kind, parsed.fields)


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
    """A deleted record known only by its key and deletion time: deleted, WITHDRAWN, like a
    held record once deleted, but with no content (no region: outside every jurisdiction)."""
    when = parsed.source_updated_at
    record = KIND_MODELS[parsed.kind](
        kind=parsed.kind, source=parsed.source, source_key=parsed.source_key,
        category=parsed.category, title=parsed.title[:256], occurred_at=when,
        status=CaseStatus.WITHDRAWN, source_updated_at=when,
        source_version=parsed.source_version, deleted=True, raw=parsed.raw,
    )  # fmt: skip
    # Kinds whose own columns are required get the key and time they are named by.
    for column, value in (("alert_number", parsed.source_key), ("alarm_time", when),
                          ("case_number", parsed.source_key)):  # fmt: skip
        if hasattr(record, column) and getattr(record, column) is None:
            setattr(record, column, value)
    return record


_ASSIGNED = (
    *COMMON_COLUMNS, "occurred_at", "source_risk_level", "deleted", "content_hash", "kpi_class"
)  # fmt: skip


def _uniform_update(record: Record, parsed: ParsedRecord) -> None:
    """Mark every column :func:`_assign` writes as changed, so the batch's updated records
    share one set of columns and the flush sends them in one executemany per table (the ORM
    batches only runs of equal column sets; otherwise it is a round trip per record)."""
    if inspect(record).persistent:
        for name in (*_ASSIGNED, *parsed.fields):
            flag_modified(record, name)


_RESOLUTION = (
    "person_id", "organisation_id", "match_confidence", "match_evidence", "staff_decided",
)  # fmt: skip
_IDENTITY = ("position", "name", "is_organisation", "id_number_index", "phone_index", "uscc")


def same_party_level(old: Any, new: PartyMention) -> int | None:
    """How surely ``new`` names the party ``old`` did: 0 (surest) to 3, or None when not.

    Different ID numbers (blind indexes) or credit codes are never the same party. Otherwise
    a shared ID number or credit code is, best at the same position; then the same name at
    the same position; then the same name with the same phone.
    """
    if bool(old.is_organisation) != bool(new.is_organisation):
        return None
    keys = [(old.id_number_index, new.id_number_index), (old.uscc, new.uscc)]
    if any(a is not None and b is not None and a != b for a, b in keys):
        return None
    same_position = old.position == new.position
    if any(a is not None and a == b for a, b in keys):
        return 0 if same_position else 1
    if old.name == new.name:
        if same_position:
            return 2
        if old.phone_index is not None and old.phone_index == new.phone_index:
            return 3
    return None


_CHUNK = 2000
_KEYS: Table = PersonBlockingKey.__table__  # type: ignore[assignment]  # a declarative model's table


async def _replace_mentions(
    session: AsyncSession, changed: dict[int, ParsedRecord]
) -> list[tuple[PartyMention, str | None]]:
    """Replace changed records' mentions, carrying resolution over to the same parties;
    returns the new mentions (pending) with their records' regions. One read and one delete
    for the whole batch, not a round trip each per record."""
    columns = [getattr(PartyMention, name) for name in _IDENTITY + _RESOLUTION]
    ids = sorted(changed)
    old: dict[int, list[Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        rows = await session.execute(
            select(PartyMention.record_id, *columns).where(PartyMention.record_id.in_(chunk))
        )
        for row in rows:
            old.setdefault(row.record_id, []).append(row)
        going = select(PartyMention.id).where(PartyMention.record_id.in_(chunk))
        # a Core delete: the ORM's would fetch every deleted key back to synchronise the session
        await session.execute(delete(_KEYS).where(_KEYS.c.mention_id.in_(going)))
        await session.execute(delete(PartyMention).where(PartyMention.record_id.in_(chunk)))
    replaced: list[tuple[PartyMention, str | None]] = []
    for record_id, parsed in changed.items():
        new = _mentions(record_id, parsed)
        _carry_resolution(old.get(record_id, []), new)
        session.add_all(new)
        replaced.extend((mention, parsed.region_code) for mention in new)
    return replaced


def _carry_resolution(old: list[Any], new: list[PartyMention]) -> None:
    """Give each new mention the resolution of the old one that names the same party."""
    unmatched_old = [row for row in old if row.person_id or row.organisation_id]
    unmatched_new = list(new)
    for level in range(4):  # surest pairs first, each old mention used once
        for mention in list(unmatched_new):
            match = next(
                (row for row in unmatched_old if same_party_level(row, mention) == level), None
            )
            if match is None:
                continue
            for name in _RESOLUTION:
                setattr(mention, name, getattr(match, name))
            unmatched_old.remove(match)
            unmatched_new.remove(mention)


async def ingest_records(session: AsyncSession, batch: Sequence[ParsedRecord]) -> IngestCounts:
    """Store a batch; returns what happened to each record. The caller commits."""
    counts = IngestCounts()
    if not batch:
        return counts
    changed: list[tuple[Record, RecordChangeKind]] = []
    created: dict[str, tuple[Record, ParsedRecord]] = {}
    replace: dict[int, ParsedRecord] = {}  # stored records whose mentions change
    source = batch[0].source
    keys = sorted({parsed.source_key for parsed in batch})
    once = {key for key, n in Counter(p.source_key for p in batch).items() if n == 1}
    new: list[tuple[ParsedRecord, str]] = []  # inserted in bulk (db.bulk), not as objects
    existing: dict[str, Record] = {
        record.source_key: record
        for record in (
            await session.scalars(
                select(KIND_MODELS[batch[0].kind]).where(
                    Record.source == source, in_list(Record.source_key.expression, "keys")
                ),
                {"keys": keys},
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
            changed.append((existing[parsed.source_key], RecordChangeKind.WITHDRAWN))
            counts.deleted += 1
            continue
        if current is None and parsed.source_key in once:
            new.append((parsed, parsed.content_hash()))
            counts.inserted += 1
            continue
        if current is None:
            digest = parsed.content_hash()
            model = KIND_MODELS[parsed.kind]
            record = model(kind=parsed.kind, source=parsed.source, source_key=parsed.source_key)
            _assign(record, parsed, digest)
            session.add(record)
            created[parsed.source_key] = (record, parsed)  # mentions once the ids exist
            existing[parsed.source_key] = record
            changed.append((record, RecordChangeKind.CREATED))
            counts.inserted += 1
            continue
        if parsed.version_key() < _version_of(current):
            counts.unchanged += 1  # an older version delivered late: never overwrite newer
            continue
        if parsed.deleted:
            if current.deleted:
                counts.unchanged += 1
            else:
                # One representation of a deleted record, however it was first seen: deleted,
                # status WITHDRAWN, the last content govhub held (none for a tombstone).
                current.deleted = True
                current.status = CaseStatus.WITHDRAWN
                current.source_updated_at = parsed.source_updated_at
                current.source_version = parsed.source_version
                changed.append((current, RecordChangeKind.WITHDRAWN))
                counts.deleted += 1
            continue
        digest = parsed.content_hash()
        same_version = parsed.version_key() == _version_of(current)
        if (
            same_version
            and not current.deleted
            and parsed.holds_content(current.content_hash, digest)
        ):
            counts.unchanged += 1  # a re-delivery (overlap, duplicate, drifted extra field)
            continue
        _assign(current, parsed, digest)
        _uniform_update(current, parsed)
        if parsed.source_key in created or current.id is None:
            # created (or tombstoned) earlier in this batch: its mentions are not stored yet
            created[parsed.source_key] = (current, parsed)
        else:
            replace[current.id] = parsed  # the last version of it in the batch
        changed.append((current, RecordChangeKind.UPDATED))
        counts.updated += 1
    # stored records that changed: on PostgreSQL one UPDATE per table (the records triggers
    # then run once per batch, not once per record)
    await write_updates(session, [record for record, _ in changed if record.id is not None])
    await session.flush()  # one round of INSERTs for the batch's new records
    replaced = await _replace_mentions(session, replace)
    fresh = [
        (mention, parsed.region_code)
        for record, parsed in created.values()
        for mention in _mentions(record.id, parsed)
    ]
    session.add_all(mention for mention, _ in fresh)
    await session.flush()
    await store_blocking_keys(
        session,
        [(m.id, m.name, m.is_organisation or m.uscc, region) for m, region in replaced + fresh],
    )
    stored = await insert_new(session, new)
    inserted = stored.records
    counts.mentions = stored.mentions
    facts: dict[int, tuple[Record, RecordChangeKind]] = {}
    for record, change in changed:  # a record created and changed again in one batch: CREATED
        earlier = facts.get(record.id)
        if not (
            earlier
            and earlier[1] is RecordChangeKind.CREATED
            and change is RecordChangeKind.UPDATED
        ):
            facts[record.id] = (record, change)
    changes = _change_facts(facts) + [
        ChangedRecord(i.id, i.parsed.kind, i.parsed.source, i.parsed.region_code,
                      RecordChangeKind.CREATED)
        for i in inserted
    ]  # fmt: skip
    changes.sort(key=lambda change: change.record_id)
    counts.changed_ids = [change.record_id for change in changes]
    counts.changes = changes
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
            in_list(DeadLetter.source_key.expression, "keys"),
            DeadLetter.resolved_at.is_(None),
        )
        .values(resolved_at=datetime.now(UTC)),
        {"keys": list(keys)},
    )
