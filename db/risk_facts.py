"""Gathering risk facts (研判事实) from stored rows, in a few batched queries.

For the records a sync touched, the facts reach one step out: the records linked to them (the
same matter), every record of the persons they name (their history), and the 110 alerts
written at the same address though unlinked (a neighbour calling from the same home). Places
are the address as written, joined across records that matter linking found at the same place
(``SAME_PLACE``): clerks write one home several ways. A matter's facts are those of its
records plus its own (:func:`load_matter_facts`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ClockRow,
    ClockRung,
    Dispute,
    Link,
    MatterRecord,
    PartyMention,
    Petition,
    Record,
    Supervision,
)
from db.queries import column_rows, column_scalars, in_list
from domain.deadlines import DUE
from domain.enums import PartyRole, RecordKind, RiskLevel
from domain.risk import MatterFacts, RecordFacts
from domain.supervision import SupervisionStatus

_CHUNK = 2000
_SAME_PLACE = "SAME_PLACE"


def chunks(values: Iterable[int]) -> list[list[int]]:
    items = sorted(set(values))
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


# The statements, built once; each binds its list of ids (or addresses) as one array on
# PostgreSQL (``db.queries.in_list``), so its SQL is rendered once, not an IN (...) of up to
# 2,000 parameters at every execution.
_LINKS = select(Link.from_record_id, Link.to_record_id, Link.link_kind).where(
    or_(
        in_list(Link.from_record_id.expression, "ids"),
        in_list(Link.to_record_id.expression, "also"),
    ),
    or_(Link.decision.is_(None), Link.decision != "REJECTED"),
)
_NAMED = select(PartyMention.record_id, PartyMention.person_id).where(
    in_list(PartyMention.record_id.expression, "ids"), PartyMention.role != PartyRole.REPORTER
)
_RECORDS_OF_PERSONS = select(PartyMention.record_id).where(
    in_list(PartyMention.person_id.expression, "ids"), PartyMention.role != PartyRole.REPORTER
)
_ALERT_ADDRESSES = select(Record.address).where(
    in_list(Record.id.expression, "ids"), Record.kind == RecordKind.POLICE_ALERT,
    Record.address.is_not(None),
)  # fmt: skip
_ALERTS_AT = select(Record.id).where(
    in_list(Record.address.expression, "addresses"), Record.kind == RecordKind.POLICE_ALERT,
    Record.deleted.is_(False),
)  # fmt: skip


@dataclass
class FactBase:
    """The records loaded for one grading step, with their links and persons."""

    records: dict[int, RecordFacts] = field(default_factory=dict)
    linked: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    records_of_person: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    region_of: dict[int, str | None] = field(default_factory=dict)
    shown_level: dict[int, RiskLevel | None] = field(default_factory=dict)
    """Each record's ``risk_level`` as loaded: what a grading step need not write again."""
    records_at_place: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


async def _links(session: AsyncSession, record_ids: Collection[int]) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for chunk in chunks(record_ids):
        rows = await column_rows(session, _LINKS, {"ids": chunk, "also": chunk})
        found.extend((a, b, kind) for a, b, kind in rows)
    return found


async def _mentions(
    session: AsyncSession, record_ids: Collection[int]
) -> dict[int, tuple[set[int], int]]:
    """Record id → (persons it names, how many parties it names); reporters (网格员) left out."""
    result: dict[int, tuple[set[int], int]] = {}
    for chunk in chunks(record_ids):
        rows = await column_rows(session, _NAMED, {"ids": chunk})
        for record_id, person_id in rows:
            persons, count = result.get(record_id, (set(), 0))
            if person_id is not None:
                persons.add(person_id)
            result[record_id] = (persons, count + 1)
    return result


async def _alerts_at_same_address(
    session: AsyncSession, record_ids: Collection[int]
) -> set[int]:
    """110 alerts written at the very address of an alert among ``record_ids``: a home that
    calls again through another caller, unlinked, is still one place."""
    addresses: set[str] = set()
    for chunk in chunks(record_ids):
        addresses.update(await column_scalars(session, _ALERT_ADDRESSES, {"ids": chunk}))
    found: set[int] = set()
    ordered = sorted(addresses)
    for start in range(0, len(ordered), _CHUNK):  # by address: the index answers each
        found.update(
            await column_scalars(
                session, _ALERTS_AT, {"addresses": ordered[start : start + _CHUNK]}
            )
        )
    return found


async def records_of_persons(session: AsyncSession, person_ids: Collection[int]) -> set[int]:
    """The records whose facts name any of ``person_ids`` (as a party, not a reporter)."""
    found: set[int] = set()
    for chunk in chunks(person_ids):
        found.update(await column_scalars(session, _RECORDS_OF_PERSONS, {"ids": chunk}))
    return found


def _place(address: str | None) -> str | None:
    if not address:
        return None
    return "".join(address.split()) or None


_RECORDS = Record.__table__.c
_DISPUTES = Dispute.__table__.c
_PETITIONS = Petition.__table__.c


async def _rows(session: AsyncSession, record_ids: Collection[int]) -> list[Any]:
    rows: list[Any] = []
    for chunk in chunks(record_ids):
        rows.extend(await column_rows(session, _FACT_ROWS, {"ids": chunk}))
    return rows


_FACT_ROWS = (
    select(
        _RECORDS.id, _RECORDS.source, _RECORDS.source_key, _RECORDS.kind, _RECORDS.category,
        _RECORDS.status, _RECORDS.occurred_at, _RECORDS.title, _RECORDS.summary,
        _RECORDS.address, _RECORDS.region_code, _RECORDS.source_risk_level, _RECORDS.risk_level,
        _DISPUTES.amount_involved, _DISPUTES.party_count, _PETITIONS.petitioner_count,
        _PETITIONS.repeat_count, _PETITIONS.petition_numbers,
    )
    .select_from(
        Record.__table__.outerjoin(Dispute.__table__, _DISPUTES.id == _RECORDS.id)
        .outerjoin(Petition.__table__, _PETITIONS.id == _RECORDS.id)
    )
    .where(in_list(_RECORDS.id, "ids"), _RECORDS.deleted.is_(False))
)  # fmt: skip


async def load_fact_base(
    session: AsyncSession, touched: Collection[int]
) -> tuple[FactBase, set[int], set[int]]:
    """Facts around ``touched``; returns them with the records and persons to re-grade.

    Re-graded: the touched records, the records linked to them, and every record of the
    persons they name (a new alert changes the pattern of the caller's earlier ones).
    """
    first_links = await _links(session, touched)
    around = set(touched) | {a for a, _, _ in first_links} | {b for _, b, _ in first_links}
    around |= await _alerts_at_same_address(session, touched)
    named = await _mentions(session, around)
    persons = {p for rid in touched if rid in named for p in named[rid][0]}
    regrade = around | await records_of_persons(session, persons)
    # the subjects (regraded records and their links) and the history of their persons
    links = await _links(session, regrade)
    subjects = regrade | {a for a, _, _ in links} | {b for _, b, _ in links}
    named.update(await _mentions(session, subjects - set(named)))
    subject_persons = {p for rid in subjects if rid in named for p in named[rid][0]}
    everything = subjects | await records_of_persons(session, subject_persons)
    everything |= await _alerts_at_same_address(session, subjects)
    named.update(await _mentions(session, everything - set(named)))
    base = FactBase()
    rows = await _rows(session, everything)
    alive = {row.id for row in rows}
    for a, b, _kind in [*links, *first_links]:
        if a in alive and b in alive:
            base.linked[a].add(b)
            base.linked[b].add(a)
    places = _places(rows, [(a, b) for a, b, kind in links if kind == _SAME_PLACE])
    for row in rows:
        record_persons, count = named.get(row.id, (set(), 0))
        for person in record_persons:
            base.records_of_person[person].add(row.id)
        base.region_of[row.id] = row.region_code
        base.shown_level[row.id] = row.risk_level
        if row.id in places:
            base.records_at_place[places[row.id]].add(row.id)
        base.records[row.id] = RecordFacts(
            record_id=row.id, ref=f"{row.source.value}/{row.source_key}", kind=row.kind,
            category=row.category, status=row.status, occurred_at=row.occurred_at,
            text="\n".join(t for t in (row.title, row.summary) if t), place=places.get(row.id),
            person_ids=frozenset(record_persons), mention_count=count,
            amount=row.amount_involved, party_count=row.party_count,
            head_count=row.petitioner_count, repeat_count=row.repeat_count,
            petition_levels=frozenset(row.petition_numbers or {}),
            source_grade=row.source_risk_level,
        )  # fmt: skip
    return base, regrade & alive, persons


def _places(rows: list[Any], same_place: list[tuple[int, int]]) -> dict[int, str]:
    """Each record's place: its address, or that of the earliest record linked to it as the
    same place (one home written several ways)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    address = {row.id: _place(row.address) for row in rows}
    for a, b in same_place:
        if a in address and b in address:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    by_address: dict[str, int] = {}
    for rid in sorted(address):
        text = address[rid]
        if text is not None:
            root = find(rid)
            other = by_address.setdefault(text, root)
            if other != root:
                parent[max(root, other)] = min(root, other)
    result: dict[int, str] = {}
    for rid in address:
        root = find(rid)
        text = address.get(root) or address[rid]
        if text is not None:
            result[rid] = text
    return result



async def load_matter_facts(
    session: AsyncSession, matter_ids: Collection[int]
) -> tuple[dict[int, set[int]], dict[int, MatterFacts]]:
    """Each matter's records, and its own facts: the breaches (逾期) fired on its clocks (not
    those that did not happen: a clock stopped within the limit its breach was declared on,
    the reply clock of a voided 督办单) and the 督办单 it is under (open or replied)."""
    records: dict[int, set[int]] = {m: set() for m in matter_ids}
    breaches: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    orders: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for chunk in chunks(matter_ids):
        for matter_id, record_id in await session.execute(
            select(MatterRecord.matter_id, MatterRecord.record_id).where(
                MatterRecord.matter_id.in_(chunk)
            )
        ):
            records[matter_id].add(record_id)
        for matter_id, rule_id, due_at in await session.execute(
            select(ClockRow.matter_id, ClockRow.rule_id, ClockRung.due_at)
            .join(ClockRung, ClockRung.clock_id == ClockRow.id)
            .outerjoin(Supervision, Supervision.id == ClockRow.supervision_id)
            .where(
                ClockRow.matter_id.in_(chunk),
                ClockRung.rung == DUE,
                # a breach that did not happen: its clock stopped within the limit declared
                # (a source's date learned late), or the reply clock of a voided 督办单
                or_(ClockRow.stopped_at.is_(None), ClockRow.stopped_at > ClockRung.due_at),
                or_(Supervision.id.is_(None), Supervision.voided.is_(False)),
            )
        ):
            breaches[matter_id].append((rule_id, due_at))
        for matter_id, level, issued_at in await session.execute(
            select(Supervision.matter_id, Supervision.level, Supervision.issued_at).where(
                Supervision.matter_id.in_(chunk),
                Supervision.status.in_([SupervisionStatus.OPEN, SupervisionStatus.REPLIED]),
            )
        ):
            orders[matter_id].append((level.value, issued_at))
    own = {
        m: MatterFacts(m, tuple(sorted(breaches[m])), tuple(sorted(orders[m])))
        for m in matter_ids
    }
    return records, own
