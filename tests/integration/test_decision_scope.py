"""What a staff decision may touch, on both databases: only what the decider's scope reads."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.decision_scope import ensure_link_within, ensure_mentions_within, ensure_persons_within
from db.decisions import merge_persons
from db.ingest import ingest_records
from db.models import Link, PartyMention, Record
from db.queries import RecordScope
from db.resolution import resolve_all
from domain.enums import RecordKind
from domain.linking.errors import LinkingNotFound
from tests.integration.test_linking_storage import alert, mediation, persons_by_name

HUBIN = RecordScope(kinds=frozenset(RecordKind), region_prefixes=("411202",))
SHUANGLIU = RecordScope(kinds=frozenset(RecordKind), region_prefixes=("510129",))
ALERTS_ONLY = RecordScope(kinds=frozenset({RecordKind.POLICE_ALERT}), region_prefixes=("41",))
UNPLACED_ONLY = RecordScope(kinds=frozenset(RecordKind), region_prefixes=(), unplaced=True)


async def _world(session: AsyncSession) -> dict[str, int]:
    """张伟's alert and the mediation case from it in 湖滨区; an unplaced alert by 王芳."""
    await ingest_records(session, [alert("J1", "张伟", "13800000001")])
    await ingest_records(session, [mediation("TJ1", "J1")])
    await ingest_records(session, [replace(alert("J3", "王芳", "13700000003"), region_code=None)])
    await resolve_all(session)
    return {key: rid for key, rid in await session.execute(select(Record.source_key, Record.id))}


async def test_a_link_is_within_only_when_both_its_records_are(session: AsyncSession) -> None:
    await _world(session)
    link = await session.scalar(select(Link))
    assert link is not None
    await ensure_link_within(session, link.id, HUBIN)
    for scope in (SHUANGLIU, ALERTS_ONLY):  # another county; a role reading alerts only
        with pytest.raises(LinkingNotFound, match=f"link {link.id} does not exist"):
            await ensure_link_within(session, link.id, scope)
    with pytest.raises(LinkingNotFound):
        await ensure_link_within(session, link.id + 1000, HUBIN)


async def test_a_person_is_within_when_a_record_within_names_them(session: AsyncSession) -> None:
    await _world(session)
    names = await persons_by_name(session)
    zhang, li, wang = names["张伟"] or 0, names["李娜"] or 0, names["王芳"] or 0
    await ensure_persons_within(session, [zhang, li], HUBIN)
    await ensure_persons_within(session, [zhang], ALERTS_ONLY)  # the caller of J1
    with pytest.raises(LinkingNotFound, match=f"person {li} does not exist"):
        await ensure_persons_within(session, [li], ALERTS_ONLY)  # named by the case only
    with pytest.raises(LinkingNotFound):
        await ensure_persons_within(session, [zhang], SHUANGLIU)
    # a record without a region lies within admin's unplaced view only
    await ensure_persons_within(session, [wang], UNPLACED_ONLY)
    with pytest.raises(LinkingNotFound):
        await ensure_persons_within(session, [wang], HUBIN)
    # a person merged away answers for the one kept
    await merge_persons(session, zhang, [li], "staff")
    await ensure_persons_within(session, [li], ALERTS_ONLY)


async def test_a_mention_is_within_when_its_record_is(session: AsyncSession) -> None:
    ids = await _world(session)
    mentions = {
        record_id: mention_id
        for mention_id, record_id in await session.execute(
            select(PartyMention.id, PartyMention.record_id)
        )
    }
    await ensure_mentions_within(session, [mentions[ids["J1"]], mentions[ids["TJ1"]]], HUBIN)
    with pytest.raises(LinkingNotFound, match=f"mention {mentions[ids['TJ1']]} does not exist"):
        await ensure_mentions_within(session, [mentions[ids["TJ1"]]], ALERTS_ONLY)
