"""Resolution and linking stored on both databases: assignments, links, staff decisions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.ingest import ingest_records
from db.models import Link, PartyMention, Person, PersonBlockingKey, Record
from db.pii import blind_index
from db.resolution import resolve_all, resolve_new_mentions
from domain.enums import DisputeCategory, PartyRole, SourceSystem
from domain.records import ParsedParty, ParsedRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ID_A = "411202199001011230"
VILLAGE = "411202001001"


def alert(key: str, name: str, phone: str, days: int = 0) -> ParsedRecord:
    return ParsedRecord(
        source=SourceSystem.POLICE_110, source_key=key, source_updated_at=T0, raw={},
        category=DisputeCategory.NEIGHBOUR, occurred_at=T0 + timedelta(days=days),
        region_code="411202", address="湖滨区车站街道建设路12号",
        fields={"alert_number": key, "alarm_time": T0},
        parties=[ParsedParty(role=PartyRole.CALLER, name=name, phone=phone)],
    )  # fmt: skip


def mediation(key: str, alert_number: str | None, days: int = 3) -> ParsedRecord:
    return ParsedRecord(
        source=SourceSystem.MEDIATION, source_key=key, source_updated_at=T0, raw={},
        category=DisputeCategory.NEIGHBOUR, occurred_at=T0 + timedelta(days=days),
        region_code=VILLAGE, address="河南省三门峡市湖滨区车站街道黄龙社区建设路12号",
        fields={"alert_number": alert_number},
        parties=[
            ParsedParty(role=PartyRole.APPLICANT, name="張偉", id_number=ID_A,
                        phone="13800000001"),
            ParsedParty(role=PartyRole.RESPONDENT, name="李娜", phone="13900000002"),
            ParsedParty(role=PartyRole.RESPONDENT, name="三门峡市金桥物业服务有限公司",
                        is_organisation=True, uscc="91411202MA00000001"),
        ],
    )  # fmt: skip


async def persons_by_name(session: AsyncSession) -> dict[str, int | None]:
    rows = await session.execute(select(PartyMention.name, PartyMention.person_id))
    return {name: pid for name, pid in rows}


async def test_a_full_run_stores_persons_organisations_and_links(session: AsyncSession) -> None:
    # given an alert by 张伟 (phone only) and the mediation case taken over from it
    await ingest_records(session, [alert("J1", "张伟", "13800000001")])
    await ingest_records(session, [mediation("TJ1", "J1")])
    # when everything is resolved
    counts = await resolve_all(session)
    # then 张伟/張偉 are one person, with confidence and evidence, and the org is resolved
    names = await persons_by_name(session)
    assert names["张伟"] == names["張偉"] is not None and names["李娜"] != names["张伟"]
    caller = await session.scalar(select(PartyMention).where(PartyMention.name == "张伟"))
    assert caller is not None and caller.match_confidence is not None
    assert any(e["field"] == "phone" for e in caller.match_evidence or [])
    org = await session.scalar(select(PartyMention).where(PartyMention.is_organisation))
    assert org is not None and org.organisation_id is not None and org.person_id is None
    person = await session.get(Person, names["张伟"])
    assert person is not None and person.id_number == ID_A and person.birth_date is not None
    # and the mediation case links to the alert it came from
    link = await session.scalar(select(Link))
    assert link is not None and link.link_kind == "REFERRED_FROM" and link.confidence >= 0.99
    assert counts.persons_created == 2 and counts.organisations_created == 1


async def test_an_incremental_pass_brings_a_stored_persons_summary_up_to_date(
    session: AsyncSession,
) -> None:
    # given 张伟, stored from an alert that gave only his phone
    await ingest_records(session, [alert("J1", "张伟", "13800000001")])
    await resolve_new_mentions(session)
    names = await persons_by_name(session)
    person = await session.get(Person, names["张伟"])
    assert person is not None and person.id_number is None and person.birth_date is None
    pid = person.id
    # when a mediation case names him with his ID number and the same phone
    await ingest_records(session, [mediation("TJ1", "J1")])
    counts = await resolve_new_mentions(session)
    # then the stored person gains the ID number, its blind index and the birth date from it
    names = await persons_by_name(session)
    assert names["張偉"] == names["张伟"] == pid and counts.persons_created == 1  # 李娜 is new
    session.expire_all()
    person = await session.get(Person, pid)
    assert person is not None and person.id_number == ID_A and person.phone == "13800000001"
    assert person.id_number_index == blind_index("id_number", ID_A)
    assert person.birth_date == date(1990, 1, 1)
    # and a further alert with the phone alone leaves the ID number where it is
    await ingest_records(session, [alert("J2", "张伟", "13800000001", days=5)])
    await resolve_new_mentions(session)
    session.expire_all()
    again = await session.get(Person, pid)
    assert again is not None and again.id_number == ID_A and again.birth_date == date(1990, 1, 1)


async def test_a_record_whose_parties_change_keeps_only_its_new_mentions_keys(
    session: AsyncSession,
) -> None:
    # given an alert by 张伟, stored with his name keys
    await ingest_records(session, [alert("J1", "张伟", "13800000001")])
    before = set(await session.scalars(select(PersonBlockingKey.key)))
    assert before
    # when the source changes the caller to 李娜
    later = replace(alert("J1", "李娜", "13900000002"), source_updated_at=T0 + timedelta(hours=1))
    counts = await ingest_records(session, [later])
    assert counts.updated == 1
    # then the keys are those of the new mention alone: none left behind for the old one
    mentions = set(await session.scalars(select(PartyMention.id)))
    stored = select(PersonBlockingKey.key, PersonBlockingKey.mention_id)
    keys = (await session.execute(stored)).all()
    assert keys and {mention for _, mention in keys} == mentions
    assert not before & {key for key, _ in keys}


async def test_a_second_full_run_keeps_person_ids(session: AsyncSession) -> None:
    await ingest_records(session, [alert("J1", "张伟", "13800000001")])
    await ingest_records(session, [mediation("TJ1", "J1")])
    await resolve_all(session)
    before = await persons_by_name(session)
    counts = await resolve_all(session)
    assert await persons_by_name(session) == before
    assert counts.persons_created == 0 and counts.reassigned == 0


async def test_staff_decisions_survive_a_run(session: AsyncSession) -> None:
    # given a resolved pair of records
    await ingest_records(session, [alert("J1", "张伟", "13800000001")])
    await ingest_records(session, [mediation("TJ1", "J1")])
    await resolve_all(session)
    # when staff put 李娜 on 张伟's person and reject the link
    names = await persons_by_name(session)
    mention = await session.scalar(select(PartyMention).where(PartyMention.name == "李娜"))
    assert mention is not None
    mention.person_id, mention.staff_decided = names["张伟"], True
    link = await session.scalar(select(Link))
    assert link is not None
    link.decision, link.decided_by = "REJECTED", "staff-1"
    await session.flush()
    await resolve_all(session)
    # then neither decision is undone, and no other link replaces the rejected one
    assert (await persons_by_name(session))["李娜"] == names["张伟"]
    links = (await session.scalars(select(Link))).all()
    assert [(k.id, k.decision) for k in links] == [(link.id, "REJECTED")]


async def test_new_mentions_are_resolved_incrementally(session: AsyncSession) -> None:
    # given a resolved world of one mediation case
    await ingest_records(session, [mediation("TJ1", None)])
    await resolve_all(session)
    known = (await persons_by_name(session))["張偉"]
    # when a later alert by the same phone arrives and only new mentions are resolved
    await ingest_records(session, [alert("J9", "张先生", "13800000001", days=5)])
    counts = await resolve_new_mentions(session)
    # then the caller joins the known person and the two records are linked by inference
    assert (await persons_by_name(session))["张先生"] == known
    assert counts.persons_created == 0 and counts.mentions == 1
    ids = {k: i for k, i in await session.execute(select(Record.source_key, Record.id))}
    link = await session.scalar(select(Link))
    assert link is not None and {link.from_record_id, link.to_record_id} == {ids["J9"], ids["TJ1"]}
    assert link.link_kind in {"SAME_PARTIES", "SAME_MATTER"}
    # and a second call finds nothing new
    assert (await resolve_new_mentions(session)).mentions == 0


def grid_event(key: str, parties: list[ParsedParty], region: str = VILLAGE) -> ParsedRecord:
    return ParsedRecord(
        source=SourceSystem.GRID, source_key=key, source_updated_at=T0, raw={},
        category=DisputeCategory.BUSINESS, occurred_at=T0, region_code=region,
        fields={}, parties=parties,
    )  # fmt: skip


def company(name: str, uscc: str | None = None) -> ParsedParty:
    return ParsedParty(role=PartyRole.RESPONDENT, name=name, is_organisation=True, uscc=uscc)


async def organisations_by_key(session: AsyncSession) -> dict[str, int | None]:
    """Each record's organisation mention's organisation (a record's persons are left out:
    which of its rows came last would otherwise decide the answer)."""
    rows = await session.execute(
        select(Record.source_key, PartyMention.organisation_id)
        .join(Record, Record.id == PartyMention.record_id)
        .where(PartyMention.is_organisation.is_(True))
    )
    return {key: oid for key, oid in rows}


async def test_new_mentions_join_stored_organisations_by_code_and_county(
    session: AsyncSession,
) -> None:
    # given a company stored with its code (county 411202), and one of the same name stored
    # without a code from another county's record
    await ingest_records(session, [mediation("TJ1", None)])
    await ingest_records(
        session, [grid_event("G0", [company("三门峡市金桥物业服务有限公司")], "411221001001")]
    )
    await resolve_all(session)
    stored = await organisations_by_key(session)
    # when later records name it by its code, by its name (traditional characters, the long
    # form of 有限公司) in its county, and by its name in a third county
    await ingest_records(session, [
        grid_event("G1", [company("金桥物业", "91411202MA00000001")]),
        grid_event("G2", [company("三門峽市金橋物業服務有限責任公司")]),
        grid_event("G3", [company("三门峡市金桥物业服务有限公司")], "411224001001"),
    ])  # fmt: skip
    counts = await resolve_new_mentions(session)
    # then the code and the name in its county join the stored company; elsewhere it is new
    found = await organisations_by_key(session)
    assert found["G1"] == found["G2"] == stored["TJ1"]
    assert found["G3"] not in {stored["TJ1"], stored["G0"], None}
    assert counts.organisations_created == 1
