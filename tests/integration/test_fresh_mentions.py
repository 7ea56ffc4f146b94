"""New mentions handed from ingest to resolution as written, instead of read back (新提及直传).

What ``ingest_records`` hands over must be, field by field, what ``load_mention_rows`` reads
back; resolution takes a handed-over mention only while it is still unresolved in the
database, and reads the others as before.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

import db.resolution
from db.ingest import ingest_records
from db.linking_facts import MentionRow, load_mention_rows
from db.models import PartyMention, Person, Record
from db.resolution import resolve_new_mentions
from domain.enums import PartyRole
from domain.records import ParsedParty, ParsedRecord
from tests.integration.test_linking_storage import ID_A, alert, mediation

ORGANISATION_BY_NAME = "三门峡市湖滨区龙腾建材有限公司"


def varied() -> list[ParsedRecord]:
    """Records whose mentions exercise every rule of how linking reads a mention."""
    reported_first = mediation("TJ-REPORTED", None)
    reported_first.parties = [
        ParsedParty(role=PartyRole.REPORTER, name="网格员赵敏", phone="13700000003"),
        ParsedParty(role=PartyRole.APPLICANT, name="張偉", id_number=ID_A),  # record's address
        ParsedParty(role=PartyRole.RESPONDENT, name="李娜", address="湖滨区会兴街道1号"),
        ParsedParty(role=PartyRole.RESPONDENT, name=ORGANISATION_BY_NAME),  # by its name
        ParsedParty(role=PartyRole.THIRD_PARTY, name="某单位", uscc="91411202MA00000002"),
    ]
    only_reporters = mediation("TJ-REPORTERS", None)
    only_reporters.parties = [ParsedParty(role=PartyRole.REPORTER, name="网格员钱程")]
    no_address = replace(mediation("TJ-NOWHERE", None), address=None, region_code=None)
    long_name = mediation("TJ-LONG", None)
    long_name.parties = [ParsedParty(role=PartyRole.APPLICANT, name="长" * 200)]
    return [mediation("TJ1", None), reported_first, only_reporters, no_address, long_name]


async def _read_back(session: AsyncSession, ids: list[int]) -> list[MentionRow]:
    return await load_mention_rows(session, PartyMention.id.in_(ids))


async def test_handed_over_mentions_are_what_linking_reads_back(session: AsyncSession) -> None:
    # when a batch of new records is stored
    counts = await ingest_records(session, varied())
    # then its mentions come back, in id order, equal to what linking reads of them
    handed = counts.mentions
    assert len(handed) == 13
    assert [m.mention_id for m in handed] == sorted(m.mention_id for m in handed)
    assert handed == await _read_back(session, [m.mention_id for m in handed])
    # and they cover each rule: the reporter, the first party's address, an organisation by
    # its name or its code, a record without region or address, a name cut to its column
    keys = {rid: key for rid, key in await session.execute(select(Record.id, Record.source_key))}
    mention = {(keys[m.record_id], m.name): m for m in handed}
    assert mention["TJ-REPORTED", "网格员赵敏"].reporter
    assert mention["TJ-REPORTED", "張偉"].address == mediation("TJ1", None).address
    assert mention["TJ-REPORTED", "李娜"].address == "湖滨区会兴街道1号"
    assert mention["TJ-REPORTED", ORGANISATION_BY_NAME].organisation
    assert mention["TJ-REPORTED", "某单位"].organisation
    assert mention["TJ-NOWHERE", "張偉"].region_code is None
    assert mention["TJ-NOWHERE", "張偉"].address is None
    assert ("TJ-LONG", "长" * 128) in mention


async def test_updated_records_are_read_back(session: AsyncSession) -> None:
    # given a stored record
    await ingest_records(session, [mediation("TJ1", None)])
    # when the source changes it (its mentions are replaced through the ORM)
    changed = mediation("TJ1", None)
    changed.source_updated_at += timedelta(hours=1)
    counts = await ingest_records(session, [changed])
    # then nothing is handed over: resolution reads those mentions back
    assert counts.updated == 1 and counts.mentions == []


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The mention ids resolution reads back from the database, as it reads them."""
    read: list[int] = []
    load = db.resolution.load_mention_rows

    async def counted(*args: Any, **kwargs: Any) -> list[MentionRow]:
        rows = await load(*args, **kwargs)
        read.extend(row.mention_id for row in rows)
        return rows

    monkeypatch.setattr(db.resolution, "load_mention_rows", counted)
    return read


async def test_resolution_takes_handed_over_mentions_without_reading_them(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two new records and a third stored before, all unresolved
    await ingest_records(session, [alert("J0", "张伟", "13800000001")])
    new = [
        await ingest_records(session, [record])
        for record in (mediation("TJ1", None), alert("J1", "李娜", "139"))
    ]
    fresh = {m.mention_id: m for counts in new for m in counts.mentions}
    read = _count_reads(monkeypatch)
    # when they are resolved with the batch's mentions handed over
    result = await resolve_new_mentions(session, fresh=fresh)
    # then every mention is resolved; on PostgreSQL only the older one was read back (SQLite
    # may give a deleted mention's id again: there every one is read back)
    assert result.mentions == 5
    if session.get_bind().dialect.name == "postgresql":
        assert set(read).isdisjoint(fresh)
    else:
        assert set(fresh) <= set(read)
    unresolved = await session.scalars(
        select(PartyMention.id).where(
            PartyMention.person_id.is_(None), PartyMention.organisation_id.is_(None)
        )
    )
    assert unresolved.all() == []
    # and 张伟 (by phone) is one person with the 張偉 of the new case, as when read back
    rows = await session.execute(select(PartyMention.name, PartyMention.person_id))
    persons = {name: pid for name, pid in rows}
    assert persons["张伟"] == persons["張偉"] != persons["李娜"]


async def test_a_handed_over_mention_resolved_meanwhile_is_left_alone(
    session: AsyncSession,
) -> None:
    # given new mentions handed over, one of which staff then decided on (not unresolved)
    counts = await ingest_records(session, [mediation("TJ1", None)])
    fresh = {m.mention_id: m for m in counts.mentions}
    decided = counts.mentions[0].mention_id
    await session.execute(
        update(PartyMention).where(PartyMention.id == decided).values(staff_decided=True)
    )
    # when resolution runs with the stale copy handed over
    result = await resolve_new_mentions(session, fresh=fresh)
    # then only the still unresolved ones are resolved; the decided one keeps no person
    assert result.mentions == len(fresh) - 1
    person = await session.scalar(select(PartyMention.person_id).where(PartyMention.id == decided))
    assert person is None


async def test_a_record_changed_after_its_mentions_were_handed_over(session: AsyncSession) -> None:
    # given a new record's mentions handed over, then the record changed before resolution
    # (its mentions replaced: on SQLite the new ones may take the old ids)
    first = await ingest_records(session, [mediation("TJ1", None)])
    fresh = {m.mention_id: m for m in first.mentions}
    changed = mediation("TJ1", None)
    changed.source_updated_at += timedelta(hours=1)
    changed.parties = [
        ParsedParty(role=PartyRole.APPLICANT, name="王五", phone="13600000005"),
        ParsedParty(role=PartyRole.RESPONDENT, name="赵六", phone="13500000006"),
    ]
    await ingest_records(session, [changed])
    # when resolution runs with the first version's mentions handed over
    await resolve_new_mentions(session, fresh=fresh)
    # then each stored party has a person of its own name and phone, not the first version's
    rows = await session.execute(
        select(PartyMention.name, Person.name, Person.phone).join(
            Person, Person.id == PartyMention.person_id
        )
    )
    assert sorted(rows.all()) == [
        ("王五", "王五", "13600000005"), ("赵六", "赵六", "13500000006")
    ]  # fmt: skip
