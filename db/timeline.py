"""A person's records across the five systems, and a record's linked records (时间线、关联记录).

Both filter by what the caller may see *in SQL*: ``region_prefixes`` are the division-code
prefixes of the caller's jurisdiction, as ranges on ``records.region_code``
(:func:`db.queries.prefix_range`, as ``RecordScope`` does: a record is inside when its code
starts with one; a record without a code is outside), and ``kinds`` are the record kinds
their role may read. ``None`` means unrestricted, an empty collection means nothing;
``unplaced`` lets records without a code through as well (``RecordScope.unplaced``, admin's
view). Records withdrawn by their source are left out. Each entry carries the record's row as
:func:`db.queries.records_by_id` selects it, for the GraphQL layer to map.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, case, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.linking_facts import follow_merges
from db.models import Link, Person, Record
from db.queries import (
    MENTION_LABEL,
    AnySelect,
    in_list,
    records_by_id,
    records_naming,
    scope_conditions,
)
from domain.enums import PartyRole, RecordKind
from domain.linking.errors import LinkingNotFound
from domain.scope import RecordScope


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One record of a person's timeline, with the roles they play in it."""

    record_id: int
    kind: RecordKind
    occurred_at: datetime
    roles: tuple[PartyRole, ...]
    row: RowMapping
    mention_ids: tuple[int, ...] = ()
    """The person's mentions (当事人提及) in the record, in the source's order: what staff
    name to split them off (:func:`db.decisions.split_person`)."""
    full: bool = True
    """Whether ``row`` holds the record's kind columns too (else the shared columns only)."""


@dataclass(frozen=True, slots=True)
class LinkedRecordEntry:
    """A record linked to the one asked about; ``direction`` is OUTGOING or INCOMING."""

    link_id: int
    direction: str
    link_kind: str
    confidence: float
    evidence: list[dict[str, Any]]
    decision: str | None
    record_id: int
    kind: RecordKind
    row: RowMapping


def visible(
    region_prefixes: Collection[str] | None,
    kinds: Collection[RecordKind] | None,
    *,
    unplaced: bool = False,
) -> list[ColumnElement[bool]]:
    """Conditions on ``records`` for a caller limited to those regions and kinds (``None``:
    no limit): the one scope rule, on records not withdrawn."""
    scope = RecordScope.of(region_prefixes, kinds, unplaced=unplaced)
    return [Record.deleted.is_(False), *scope_conditions(scope)]


async def _rows(session: AsyncSession, ids: Sequence[int]) -> dict[int, RowMapping]:
    if not ids:
        return {}
    result = await session.execute(records_by_id(sorted(set(ids))))
    return {row["id"]: row for row in result.mappings()}


async def person_timeline(
    session: AsyncSession,
    person_id: int,
    *,
    region_prefixes: Collection[str] | None,
    kinds: Collection[RecordKind] | None,
    unplaced: bool = False,
) -> list[TimelineEntry]:
    """The person's records in order of occurrence (a merged person answers for the one kept)."""
    found = await person_timelines(
        session, [person_id], region_prefixes=region_prefixes, kinds=kinds, unplaced=unplaced
    )
    timeline = found.get(person_id)
    if timeline is None:
        raise LinkingNotFound(f"person {person_id} does not exist")
    return timeline


IDS = "ids"
"""The expanding parameter of the timeline statements below (a list of ids)."""


@functools.cache
def _persons_and_merges() -> AnySelect:
    return select(Person.id, Person.merged_into_id).where(
        or_(in_list(Person.id.expression, IDS), Person.merged_into_id.is_not(None))
    )


async def person_timelines(
    session: AsyncSession | AsyncConnection,
    person_ids: Collection[int],
    *,
    region_prefixes: Collection[str] | None,
    kinds: Collection[RecordKind] | None,
    unplaced: bool = False,
    kind_columns: bool = True,
) -> dict[int, list[TimelineEntry]]:
    """:func:`person_timeline` of several persons in two statements, whatever their number
    (a page's parties' persons): the persons and the merges, then their mentions with their
    records.
    A person that does not exist is left out of the answer. Reads through an ORM session or
    a Core connection alike (the statements are Core selects, built once). Without
    ``kind_columns`` the records' rows hold their shared columns only (no kind table read)
    and the entries are not ``full``."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    rows = await session.execute(_persons_and_merges(), {IDS: wanted})
    existing: set[int] = set()
    merged: dict[int, int] = {}
    for pid, target in rows:
        existing.add(pid)
        if target is not None:
            merged[pid] = target
    canonical = follow_merges(merged)
    groups: dict[int, set[int]] = {}
    for person_id in wanted:
        if person_id not in existing:
            continue
        kept = canonical.get(person_id, person_id)
        groups[person_id] = {kept} | {pid for pid, target in canonical.items() if target == kept}
    if not groups:
        return {}
    everyone = sorted(set().union(*groups.values()))
    scope = RecordScope.of(region_prefixes, kinds, unplaced=unplaced)
    # The mentions and their records in one statement: a row per mention, timeline order.
    result = await session.execute(records_naming(scope, kind_columns), {IDS: everyone})
    role, mention, named = (MENTION_LABEL + name for name in ("role", "id", "person_id"))
    mentions = [(row[named], row["id"], row[role], row[mention], row) for row in result.mappings()]
    timelines: dict[int, list[TimelineEntry]] = {}
    for person_id, group in groups.items():
        ordered: dict[int, tuple[RowMapping, list[PartyRole], list[int]]] = {}
        for named_id, record_id, played, mention_id, row in mentions:
            if named_id not in group:
                continue
            entry = ordered.get(record_id)
            if entry is None:
                entry = ordered[record_id] = (row, [], [])
            if played not in entry[1]:
                entry[1].append(PartyRole(played))
            entry[2].append(mention_id)
        timelines[person_id] = [
            TimelineEntry(
                record_id,
                RecordKind(row["kind"]),
                row["occurred_at"],
                tuple(roles),
                row,
                tuple(mention_ids),
                kind_columns,
            )
            for record_id, (row, roles, mention_ids) in ordered.items()
        ]
    return timelines


async def linked_records(
    session: AsyncSession,
    record_id: int,
    *,
    region_prefixes: Collection[str] | None,
    kinds: Collection[RecordKind] | None,
    unplaced: bool = False,
) -> list[LinkedRecordEntry]:
    """Records linked to ``record_id`` either way, strongest first; rejected links left out.

    A record the caller may not see (or that does not exist) raises NOT_FOUND, so its links
    reveal nothing of it.
    """
    anchor = await session.scalar(
        select(Record.id).where(
            Record.id == record_id, *visible(region_prefixes, kinds, unplaced=unplaced)
        )
    )
    if anchor is None:
        raise LinkingNotFound(f"record {record_id} does not exist")
    outgoing = Link.from_record_id == record_id
    other = case((outgoing, Link.to_record_id), else_=Link.from_record_id)
    query = (
        select(Link, other.label("other_id"), Record.kind)
        .join(Record, Record.id == other)
        .where(
            or_(outgoing, Link.to_record_id == record_id),
            or_(Link.decision.is_(None), Link.decision != "REJECTED"),
            *visible(region_prefixes, kinds, unplaced=unplaced),
        )
        .order_by(Link.confidence.desc(), Record.occurred_at, Link.id)
    )
    found = (await session.execute(query)).all()
    rows = await _rows(session, [other_id for _, other_id, _ in found])
    return [
        LinkedRecordEntry(
            link_id=link.id,
            direction="OUTGOING" if link.from_record_id == record_id else "INCOMING",
            link_kind=link.link_kind, confidence=link.confidence,
            evidence=list(link.evidence or []), decision=link.decision,
            record_id=other_id, kind=RecordKind(kind), row=rows[other_id],
        )
        for link, other_id, kind in found
    ]  # fmt: skip
