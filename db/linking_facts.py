"""Reading what linking needs from the database, and nothing more (关联所需数据).

Mentions come with their record's region and, for the record's first party, its address;
ID numbers and phones are decrypted here, in memory, for the caller to derive a birth date
or fill a new person's sealed columns. Records come as :class:`~domain.linking.RecordFacts`
without their payloads (which stay sealed and unread).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import CourtFiling, Dispute, PartyMention, Person, Petition, Record
from db.queries import column_rows, in_list
from domain.enums import PartyRole, RecordKind
from domain.linking import RecordFacts
from domain.linking.organisations import looks_like_organisation

_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class MentionRow:
    mention_id: int
    record_id: int
    name: str
    organisation: bool
    reporter: bool
    uscc: str | None
    id_number: str | None
    phone: str | None
    id_index: str | None
    phone_index: str | None
    region_code: str | None
    address: str | None
    person_id: int | None
    organisation_id: int | None
    staff_decided: bool


async def load_mention_rows(
    session: AsyncSession, where: Any = None, params: dict[str, Any] | None = None
) -> list[MentionRow]:
    """Mentions (optionally filtered; ``params`` binds the filter's parameters) with the
    region and address that describe them."""
    other = aliased(PartyMention)
    first_party = (
        select(func.min(other.position))
        .where(other.record_id == PartyMention.record_id, other.role != PartyRole.REPORTER)
        .scalar_subquery()
    )
    query = select(
        PartyMention.id, PartyMention.record_id, PartyMention.name, PartyMention.is_organisation,
        PartyMention.role, PartyMention.uscc, PartyMention.id_number, PartyMention.phone,
        PartyMention.id_number_index, PartyMention.phone_index, Record.region_code,
        PartyMention.address, Record.address, PartyMention.position, first_party,
        PartyMention.person_id, PartyMention.organisation_id, PartyMention.staff_decided,
    ).join(Record, Record.id == PartyMention.record_id)  # fmt: skip
    if where is not None:
        query = query.where(where)
    return [
        mention_row(*r) for r in await column_rows(session, query.order_by(PartyMention.id), params)
    ]


def mention_row(
    mention_id: int,
    record_id: int,
    name: str,
    is_organisation: bool | None,
    role: PartyRole | str,
    uscc: str | None,
    id_number: str | None,
    phone: str | None,
    id_index: str | None,
    phone_index: str | None,
    region_code: str | None,
    own_address: str | None,
    record_address: str | None,
    position: int,
    first_party: int | None,
    person_id: int | None,
    organisation_id: int | None,
    staff_decided: bool | None,
) -> MentionRow:
    """A mention as linking reads it, from its stored columns, its record's region and
    address, and the position of its record's first party that is not the reporter: an
    organisation by its flag, its credit code or its name; the record's address for that
    first party when it gives none of its own."""
    return MentionRow(
        mention_id, record_id, name, bool(is_organisation or uscc or looks_like_organisation(name)),
        role == PartyRole.REPORTER, uscc, id_number, phone, id_index, phone_index, region_code,
        own_address or (record_address if position == first_party else None), person_id,
        organisation_id, bool(staff_decided),
    )  # fmt: skip


def first_party(roles: Sequence[PartyRole | str]) -> int | None:
    """The position of a record's first party that is not the reporter (``roles`` in
    position order), as :func:`load_mention_rows` finds it; None when every one is."""
    return next((at for at, role in enumerate(roles) if role != PartyRole.REPORTER), None)


async def canonical_persons(session: AsyncSession) -> dict[int, int]:
    """Person id → the person it was merged into by staff, following chains."""
    rows = await column_rows(
        session,
        select(Person.id, Person.merged_into_id).where(Person.merged_into_id.is_not(None)),
    )
    return follow_merges({pid: target for pid, target in rows if target is not None})


def follow_merges(merged: dict[int, int]) -> dict[int, int]:
    """Person id → the person it ends up merged into, from one-step merges (chains followed,
    a cycle stopped where it closes)."""
    result: dict[int, int] = {}
    for start in merged:
        target, seen = start, {start}
        while (following := merged.get(target)) is not None and following not in seen:
            target = following
            seen.add(target)
        result[start] = target
    return result


def _within(column: Any, chunk: list[int] | None) -> Any:
    """``column`` among the ids bound as ``ids`` (see :func:`_ids`), or any when no chunk."""
    return in_list(column, "ids") if chunk is not None else column.is_not(None)


def _ids(chunk: list[int] | None) -> dict[str, Any]:
    return {} if chunk is None else {"ids": chunk}


async def load_record_facts(
    session: AsyncSession, record_ids: Collection[int] | None
) -> list[RecordFacts]:
    """Live (not deleted) records with resolved parties and the references they make."""
    base = select(
        Record.id, Record.kind, Record.source_key, Record.category, Record.occurred_at,
        Record.region_code, Record.address,
    ).where(Record.deleted.is_(False))  # fmt: skip
    ids = sorted(record_ids) if record_ids is not None else None
    chunks = [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)] if ids else [None]
    if ids == []:
        return []
    canonical = await canonical_persons(session)
    disputes = Dispute.__table__.c
    courts = CourtFiling.__table__.c
    petitions = Petition.__table__.c
    facts: list[RecordFacts] = []
    for chunk in chunks:
        bound = _ids(chunk)
        within = _within(Record.id.expression, chunk)
        rows = (await column_rows(session, base.where(within), bound)).all()
        extra: dict[int, dict[str, Any]] = {}
        for rid, alert, confirmation in await column_rows(
            session,
            select(
                disputes.id, disputes.alert_number, disputes.judicial_confirmation_case_number
            ).where(_within(disputes.id, chunk)),
            bound,
        ):
            extra[rid] = {"alert_number": alert, "judicial_confirmation_case_number": confirmation}
        for rid, case_type, mediation in await column_rows(
            session,
            select(courts.id, courts.case_type, courts.mediation_case_number).where(
                _within(courts.id, chunk)
            ),
            bound,
        ):
            extra[rid] = {"case_type": case_type, "mediation_case_number": mediation}
        for rid, cited in await column_rows(
            session,
            select(petitions.id, petitions.cited_case_number).where(_within(petitions.id, chunk)),
            bound,
        ):
            extra[rid] = {"cited_case_number": cited}
        persons: dict[int, set[int]] = {}
        organisations: dict[int, set[int]] = {}
        for rid, pid, oid, role in await column_rows(
            session,
            select(
                PartyMention.record_id, PartyMention.person_id, PartyMention.organisation_id,
                PartyMention.role,
            ).where(_within(PartyMention.record_id.expression, chunk)),
            bound,
        ):  # fmt: skip
            if pid is not None and role != PartyRole.REPORTER:
                persons.setdefault(rid, set()).add(canonical.get(pid, pid))
            if oid is not None:
                organisations.setdefault(rid, set()).add(oid)
        for rid, kind, key, category, occurred, region, address in rows:
            facts.append(
                RecordFacts(
                    record_id=rid, kind=RecordKind(kind), source_key=key, category=category,
                    occurred_at=occurred, region_code=region, address=address,
                    persons=frozenset(persons.get(rid, ())),
                    organisations=frozenset(organisations.get(rid, ())),
                    **extra.get(rid, {}),
                )
            )  # fmt: skip
    return facts
