"""Storing matter links (事项关联入库): compute with :func:`domain.linking.link_matters`, then
reconcile with the ``links`` table.

A link staff have decided on (``decision`` CONFIRMED or REJECTED) is never updated or deleted
by a run, and no automatic link is added beside it for the same pair of records: a REJECTED
pair stays apart. Automatic links a run no longer proposes are removed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.linking_facts import load_record_facts
from db.models import CourtFiling, Dispute, Link, PartyMention, Petition, Record
from db.queries import in_list
from domain.linking import ProposedLink, RecordFacts, link_matters
from domain.linking.matters import normalise_case_number

_CHUNK = 2000
_MENTIONS = PartyMention.__table__.c
_LINKS = Link.__table__.c


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    items = sorted(set(values))
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


async def _neighbourhood(session: AsyncSession, facts: list[RecordFacts]) -> set[int]:
    """Records that could link to ``facts``: shared parties, or a reference either way."""
    found: set[int] = set()
    persons = {p for f in facts for p in f.persons}
    organisations = {o for f in facts for o in f.organisations}
    for chunk in _chunks(persons):
        found.update(await session.scalars(
            select(PartyMention.record_id).where(in_list(_MENTIONS.person_id, "ids")),
            {"ids": chunk},
        ))  # fmt: skip
    for chunk in _chunks(organisations):
        found.update(await session.scalars(
            select(PartyMention.record_id).where(in_list(_MENTIONS.organisation_id, "ids")),
            {"ids": chunk},
        ))  # fmt: skip
    cited = {
        number
        for f in facts
        for number in (
            f.mediation_case_number,
            f.alert_number,
            f.cited_case_number,
            f.judicial_confirmation_case_number,
        )
        if number
    }
    keys = {f.source_key for f in facts}
    # 案号 are cited with either bracket form: look both up
    variants = {
        v
        for k in keys | cited
        for v in (k, normalise_case_number(k), k.replace("(", "（").replace(")", "）"))
    }
    d, c, p = Dispute.__table__.c, CourtFiling.__table__.c, Petition.__table__.c
    for chunk in _chunks(variants):
        bound = {"keys": chunk, "also": chunk}
        found.update(await session.scalars(
            select(Record.id).where(in_list(Record.__table__.c.source_key, "keys")), bound
        ))  # fmt: skip
        found.update(await session.scalars(select(d.id).where(or_(
            in_list(d.alert_number, "keys"), in_list(d.judicial_confirmation_case_number, "also")
        )), bound))  # fmt: skip
        found.update(await session.scalars(
            select(c.id).where(in_list(c.mediation_case_number, "keys")), bound
        ))  # fmt: skip
        found.update(await session.scalars(
            select(p.id).where(in_list(p.cited_case_number, "keys")), bound
        ))  # fmt: skip
    return found


async def _existing_links(session: AsyncSession, scope: set[int] | None) -> list[Link]:
    if scope is None:
        return list(await session.scalars(select(Link)))
    links: dict[int, Link] = {}
    for chunk in _chunks(scope):
        for link in await session.scalars(
            select(Link).where(
                or_(in_list(_LINKS.from_record_id, "ids"), in_list(_LINKS.to_record_id, "also"))
            ),
            {"ids": chunk, "also": chunk},
        ):
            links[link.id] = link
    return list(links.values())


async def link_records(
    session: AsyncSession, record_ids: Collection[int] | None
) -> tuple[int, int]:
    """Recompute links for ``record_ids`` (all records when None); returns (written, removed).

    Links are reconciled only where they touch those records. The caller commits.
    """
    scope = set(record_ids) if record_ids is not None else None
    facts = await load_record_facts(session, scope)
    if scope is not None:
        wider = await _neighbourhood(session, facts) - scope
        facts += await load_record_facts(session, wider)
    proposed = [
        link for link in link_matters(facts)
        if scope is None or link.from_record_id in scope or link.to_record_id in scope
    ]  # fmt: skip
    return await _reconcile(session, proposed, await _existing_links(session, scope))


async def _reconcile(
    session: AsyncSession, proposed: list[ProposedLink], existing: list[Link]
) -> tuple[int, int]:
    decided = {frozenset((k.from_record_id, k.to_record_id)) for k in existing if k.decision}
    automatic = {
        (k.from_record_id, k.to_record_id, k.link_kind): k for k in existing if not k.decision
    }
    wanted: set[tuple[int, int, str]] = set()
    written = 0
    for link in proposed:
        if link.pair in decided:
            continue
        key = (link.from_record_id, link.to_record_id, link.kind.value)
        wanted.add(key)
        current = automatic.get(key)
        if current is None:
            session.add(
                Link(
                    from_record_id=link.from_record_id, to_record_id=link.to_record_id,
                    link_kind=link.kind.value, confidence=link.confidence,
                    evidence=link.evidence,
                )
            )  # fmt: skip
            written += 1
        elif current.confidence != link.confidence or current.evidence != link.evidence:
            current.confidence, current.evidence = link.confidence, link.evidence
            written += 1
    stale = [k.id for key, k in automatic.items() if key not in wanted]
    for chunk in _chunks(stale):
        await session.execute(delete(Link).where(Link.id.in_(chunk), Link.decision.is_(None)))
    await session.flush()
    return written, len(stale)
