"""Staff decisions on linking (人工研判): confirm or reject a link, merge or split persons.

Each decision records who made it and when, writes one audit row (``db.audit``) in the same
transaction, and is never overridden by an automatic run:

* a CONFIRMED link is never updated, downgraded or deleted, and a REJECTED one stays, so the
  pair is never linked again (:mod:`db.matter_links` skips decided pairs);
* merging points each merged person at the one kept (``merged_into_id``) and pins every
  mention of them to it (``staff_decided``), so no run separates them again;
* splitting moves the chosen mentions to a new person and pins both sides, so no run joins
  them again (two staff-decided persons never merge in :mod:`domain.linking.persons`).

Each takes the linking lock (:mod:`db.linking_lock`) so that a sync's resolution step never
writes back what it read before the decision. The caller commits. Failures raise
:class:`~domain.linking.errors.LinkingError` with a code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import AuditEvent, append_events
from db.linking_facts import canonical_persons
from db.linking_lock import linking_lock
from db.matter_links import link_records
from db.models import Link, PartyMention, Person
from domain.linking.errors import LinkingBadInput, LinkingConflict, LinkingNotFound
from domain.linking.evidence import staff_evidence
from domain.validators import InvalidIdentifier, birth_date_from_resident_id

CONFIRMED = "CONFIRMED"
REJECTED = "REJECTED"


async def audit_decision(
    session: AsyncSession, operation: str, by: str, variables: dict[str, Any], records: list[int]
) -> None:
    """One audit row for a staff decision, in the decision's own transaction."""
    event = AuditEvent(
        principal=by, role=None, org=None, operation=operation, document_hash=None,
        variables=variables, record_ids=sorted(set(records)), purpose=None, outcome="OK",
        duration_ms=None, occurred_at=datetime.now(UTC),
    )  # fmt: skip
    await append_events(session, [event])


async def _decide_link(session: AsyncSession, link_id: int, by: str, decision: str) -> Link:
    async with linking_lock(session):
        link = await session.get(Link, link_id)
        if link is None:
            raise LinkingNotFound(f"link {link_id} does not exist")
        link.decision, link.decided_by, link.decided_at = decision, by, datetime.now(UTC)
        # the pair is decided now: automatic links of another kind between it go at once
        ends = (link.from_record_id, link.to_record_id)
        await session.execute(
            delete(Link).where(
                Link.id != link.id, Link.decision.is_(None),
                Link.from_record_id.in_(ends), Link.to_record_id.in_(ends),
            )
        )  # fmt: skip
        operation = "confirmLink" if decision == CONFIRMED else "rejectLink"
        await audit_decision(session, operation, by, {"linkId": link_id}, list(ends))
        await session.flush()
    return link


async def confirm_link(session: AsyncSession, link_id: int, by: str) -> Link:
    """Confirm a link (确认关联): no automatic run changes or removes it afterwards."""
    return await _decide_link(session, link_id, by, CONFIRMED)


async def reject_link(session: AsyncSession, link_id: int, by: str) -> Link:
    """Reject a link (否决关联): it is kept as REJECTED and the pair is never linked again."""
    return await _decide_link(session, link_id, by, REJECTED)


def _most_common(values: Sequence[str | None]) -> str | None:
    counted = Counter(v for v in values if v)
    return counted.most_common(1)[0][0] if counted else None


def _summarise(person: Person, mentions: Sequence[PartyMention]) -> None:
    """Recompute a person's summary from the mentions now theirs (as resolution does)."""
    names = [m.name for m in mentions if len(m.name) >= 2 and not m.name.endswith(("先生", "女士"))]
    person.name = (_most_common(names) or (mentions[0].name if mentions else person.name))[:64]
    id_number = _most_common([m.id_number for m in mentions])
    person.id_number, person.birth_date = id_number, None
    if id_number:
        with suppress(InvalidIdentifier):  # a malformed ID still names the person
            person.birth_date = birth_date_from_resident_id(id_number)
    person.phone = _most_common([m.phone for m in mentions])


def _pin(mentions: Sequence[PartyMention], person_id: int) -> None:
    for mention in mentions:
        mention.person_id, mention.staff_decided = person_id, True
        mention.match_confidence, mention.match_evidence = 1.0, staff_evidence()


async def _mentions_of(session: AsyncSession, person_ids: Collection[int]) -> list[PartyMention]:
    rows = await session.scalars(
        select(PartyMention).where(PartyMention.person_id.in_(sorted(person_ids)))
    )
    return list(rows)


async def _group(session: AsyncSession, person_id: int) -> set[int]:
    """The person and every person merged into them, directly or along a chain."""
    canonical = await canonical_persons(session)
    return {person_id} | {pid for pid, target in canonical.items() if target == person_id}


async def merge_persons(
    session: AsyncSession, keep_id: int, merge_ids: Collection[int], by: str
) -> Person:
    """Merge persons into ``keep_id`` (合并人员); returns the person kept."""
    merging = sorted(set(merge_ids))
    if not merging or keep_id in merging:
        raise LinkingBadInput("name at least one person to merge, other than the one kept")
    async with linking_lock(session):
        found = {p.id: p for p in await session.scalars(
            select(Person).where(Person.id.in_([keep_id, *merging]))
        )}  # fmt: skip
        missing = [pid for pid in [keep_id, *merging] if pid not in found]
        if missing:
            raise LinkingNotFound(f"person {missing[0]} does not exist")
        keep = found[keep_id]
        if keep.merged_into_id is not None:
            raise LinkingConflict(
                f"person {keep_id} was merged into person {keep.merged_into_id}; keep that one"
            )
        for pid in merging:
            target = found[pid].merged_into_id
            if target is not None and target != keep_id:
                raise LinkingConflict(f"person {pid} was already merged into person {target}")
            found[pid].merged_into_id = keep_id
        await session.flush()
        mentions = await _mentions_of(session, await _group(session, keep_id))
        _pin(mentions, keep_id)
        _summarise(keep, mentions)
        records = [m.record_id for m in mentions]
        await session.flush()
        await link_records(session, set(records))
        variables = {"keepId": keep_id, "mergeIds": merging}
        await audit_decision(session, "mergePersons", by, variables, records)
    return keep


async def split_person(
    session: AsyncSession, person_id: int, mention_ids: Collection[int], by: str
) -> Person:
    """Move ``mention_ids`` off ``person_id`` to a new person (拆分人员); returns the new one."""
    moving = sorted(set(mention_ids))
    if not moving:
        raise LinkingBadInput("name at least one mention to split off")
    async with linking_lock(session):
        person = await session.get(Person, person_id)
        if person is None:
            raise LinkingNotFound(f"person {person_id} does not exist")
        if person.merged_into_id is not None:
            raise LinkingConflict(
                f"person {person_id} was merged into person {person.merged_into_id}; split that one"
            )
        group = await _group(session, person_id)
        mentions = {m.id: m for m in await _mentions_of(session, group)}
        for mid in moving:
            if mid not in mentions:
                exists = await session.get(PartyMention, mid)
                if exists is None:
                    raise LinkingNotFound(f"mention {mid} does not exist")
                raise LinkingConflict(f"mention {mid} does not belong to person {person_id}")
        staying = [m for mid, m in mentions.items() if mid not in moving]
        if not staying:
            raise LinkingBadInput("a split must leave the person at least one mention")
        moved = [mentions[mid] for mid in moving]
        split_off = Person(name=moved[0].name[:64], region_code=person.region_code)
        session.add(split_off)
        await session.flush()
        _pin(moved, split_off.id)
        _pin(staying, person_id)
        _summarise(split_off, moved)
        _summarise(person, staying)
        records = [m.record_id for m in mentions.values()]
        await session.flush()
        await link_records(session, set(records))
        variables = {"personId": person_id, "mentionIds": moving, "newPersonId": split_off.id}
        await audit_decision(session, "splitPerson", by, variables, records)
    return split_off
