"""What a staff decision may touch (研判范围): only links, persons and mentions the decider sees.

Checked in SQL before :mod:`db.decisions` runs, with the decider's ``RecordScope`` (their
kinds and jurisdiction, the one scope rule of ``domain.scope``). Anything outside raises
the same :class:`~domain.linking.errors.LinkingNotFound` as an id that names nothing, so a
decision reveals nothing of what lies beyond the jurisdiction:

* a link is within when both its records are;
* a person is within when a record within names them or a person merged with them (a person
  merged away answers for the one kept, as the timeline does);
* a mention is within when its record is.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.linking_facts import canonical_persons
from db.models import Link, PartyMention, Record
from db.queries import RecordScope, scope_conditions
from domain.linking.errors import LinkingNotFound


def within(scope: RecordScope) -> list[ColumnElement[bool]]:
    """Conditions on ``records`` for what ``scope`` lets its principal read."""
    return [Record.deleted.is_(False), *scope_conditions(scope)]


async def ensure_link_within(session: AsyncSession, link_id: int, scope: RecordScope) -> None:
    link = await session.get(Link, link_id)
    ends = {link.from_record_id, link.to_record_id} if link is not None else set()
    seen = await session.scalar(
        select(func.count()).select_from(Record).where(Record.id.in_(ends), *within(scope))
    )
    if not ends or seen != len(ends):
        raise LinkingNotFound(f"link {link_id} does not exist")


async def ensure_persons_within(
    session: AsyncSession, person_ids: Collection[int], scope: RecordScope
) -> None:
    canonical = await canonical_persons(session)
    kept = {pid: canonical.get(pid, pid) for pid in person_ids}
    groups: dict[int, set[int]] = {target: {target} for target in kept.values()}
    for pid, target in canonical.items():
        if target in groups:
            groups[target].add(pid)
    members = set().union(*groups.values()) if groups else set()
    named = set(
        await session.scalars(
            select(PartyMention.person_id)
            .join(Record, Record.id == PartyMention.record_id)
            .where(PartyMention.person_id.in_(sorted(members)), *within(scope))
            .distinct()
        )
    )
    for pid in sorted(person_ids):
        if not groups[kept[pid]] & named:
            raise LinkingNotFound(f"person {pid} does not exist")


async def ensure_mentions_within(
    session: AsyncSession, mention_ids: Collection[int], scope: RecordScope
) -> None:
    found = set(
        await session.scalars(
            select(PartyMention.id)
            .join(Record, Record.id == PartyMention.record_id)
            .where(PartyMention.id.in_(sorted(set(mention_ids))), *within(scope))
        )
    )
    for mid in sorted(set(mention_ids)):
        if mid not in found:
            raise LinkingNotFound(f"mention {mid} does not exist")
