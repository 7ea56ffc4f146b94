"""A person's timeline and a record's linked records on both databases, scoped in SQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.decisions import merge_persons, reject_link
from db.ingest import ingest_records
from db.models import Link, PartyMention, Record
from db.resolution import resolve_all
from db.timeline import linked_records, person_timeline, person_timelines
from domain.enums import RecordKind
from domain.linking.errors import LinkingNotFound
from tests.integration.test_linking_storage import alert, mediation, persons_by_name

EVERYWHERE: dict[str, None] = {"region_prefixes": None, "kinds": None}


async def _world(session: AsyncSession) -> dict[str, int]:
    """张伟's alert (county 411202), the mediation case from it (a village), resolved."""
    await ingest_records(session, [alert("J1", "张伟", "13800000001")])
    await ingest_records(session, [mediation("TJ1", "J1")])
    await resolve_all(session)
    return {key: rid for key, rid in await session.execute(select(Record.source_key, Record.id))}


async def test_a_timeline_follows_the_person_across_systems(session: AsyncSession) -> None:
    ids = await _world(session)
    person = (await persons_by_name(session))["张伟"] or 0
    timeline = await person_timeline(session, person, **EVERYWHERE)
    assert [e.record_id for e in timeline] == [ids["J1"], ids["TJ1"]]  # by occurrence
    assert [e.kind for e in timeline] == [RecordKind.POLICE_ALERT, RecordKind.DISPUTE]
    assert timeline[0].roles[0].value == "CALLER"
    assert timeline[1].row["source_key"] == "TJ1"


async def test_a_timeline_is_cut_to_the_callers_kinds_and_jurisdiction(
    session: AsyncSession,
) -> None:
    ids = await _world(session)
    person = (await persons_by_name(session))["张伟"] or 0
    disputes = await person_timeline(
        session, person, region_prefixes=None, kinds={RecordKind.DISPUTE}
    )
    village = await person_timeline(session, person, region_prefixes=["411202001"], kinds=None)
    city = await person_timeline(session, person, region_prefixes=["4112"], kinds=None)
    nowhere = await person_timeline(session, person, region_prefixes=[], kinds=None)
    assert [e.record_id for e in disputes] == [ids["TJ1"]]
    assert [e.record_id for e in village] == [ids["TJ1"]]
    assert [e.record_id for e in city] == [ids["J1"], ids["TJ1"]]
    assert nowhere == []


async def test_a_merged_person_answers_with_the_kept_persons_timeline(
    session: AsyncSession,
) -> None:
    ids = await _world(session)
    names = await persons_by_name(session)
    await merge_persons(session, names["张伟"] or 0, [names["李娜"] or 0], "staff")
    timeline = await person_timeline(session, names["李娜"] or 0, **EVERYWHERE)
    assert [e.record_id for e in timeline] == [ids["J1"], ids["TJ1"]]


async def test_timelines_of_several_persons_read_together_equal_each_read_alone(
    session: AsyncSession,
) -> None:
    # given two persons, one merged into another, and an id that names nobody
    await _world(session)
    names = await persons_by_name(session)
    await merge_persons(session, names["张伟"] or 0, [names["李娜"] or 0], "staff")
    asked = [pid for pid in names.values() if pid is not None] + [987_654]
    for scope in (EVERYWHERE, {"region_prefixes": ["411202001"], "kinds": None}):
        # when their timelines are read together
        together = await person_timelines(session, asked, **scope)
        # then each is the one read alone, and the missing person is left out
        for pid in asked[:-1]:
            assert together[pid] == await person_timeline(session, pid, **scope)
        assert 987_654 not in together


async def test_linked_records_come_both_ways_with_their_evidence(session: AsyncSession) -> None:
    ids = await _world(session)
    from_case = await linked_records(session, ids["TJ1"], **EVERYWHERE)
    from_alert = await linked_records(session, ids["J1"], **EVERYWHERE)
    assert [(e.record_id, e.link_kind) for e in from_case] == [(ids["J1"], "REFERRED_FROM")]
    assert {from_case[0].direction, from_alert[0].direction} == {"OUTGOING", "INCOMING"}
    assert from_alert[0].record_id == ids["TJ1"] and from_case[0].evidence
    assert from_case[0].confidence >= 0.99 and from_case[0].decision is None


async def test_linked_records_leave_out_rejected_and_invisible_ones(
    session: AsyncSession,
) -> None:
    ids = await _world(session)
    # a caller who may read disputes only sees no alert behind the case
    assert await linked_records(session, ids["TJ1"], region_prefixes=None,
                                kinds={RecordKind.DISPUTE}) == []  # fmt: skip
    # a record outside the caller's jurisdiction is not found at all
    with pytest.raises(LinkingNotFound):
        await linked_records(session, ids["TJ1"], region_prefixes=["411203"], kinds=None)
    # and once staff reject the link, nobody sees it
    link = await session.scalar(select(Link))
    assert link is not None
    await reject_link(session, link.id, "staff")
    assert await linked_records(session, ids["TJ1"], **EVERYWHERE) == []


async def test_a_timeline_names_mentions_and_lets_unplaced_records_in_on_request(
    session: AsyncSession,
) -> None:
    ids = await _world(session)
    unplaced = replace(alert("J5", "张伟", "13800000001", days=9), region_code=None)
    await ingest_records(session, [unplaced])
    await resolve_all(session)
    ids["J5"] = await session.scalar(select(Record.id).where(Record.source_key == "J5")) or 0
    person = (await persons_by_name(session))["张伟"] or 0
    city = await person_timeline(session, person, region_prefixes=["4112"], kinds=None)
    admin = await person_timeline(
        session, person, region_prefixes=["4112"], kinds=None, unplaced=True
    )
    assert [e.record_id for e in city] == [ids["J1"], ids["TJ1"]]
    assert [e.record_id for e in admin] == [ids["J1"], ids["TJ1"], ids["J5"]]
    # each entry names the person's own mentions in the record: what a split moves
    mention = await session.scalar(
        select(PartyMention.id).where(PartyMention.record_id == ids["J1"])
    )
    assert city[0].mention_ids == (mention,)
