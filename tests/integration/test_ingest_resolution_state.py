"""A source update replaces a record's mentions but keeps each same party's resolution."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.ingest import ingest_records
from db.models import PartyMention
from db.resolution import resolve_all
from domain.enums import PartyRole
from domain.records import ParsedParty
from tests.integration.test_linking_storage import mediation

ID_OTHER = "411202198505050018"


async def _assignments(session: AsyncSession) -> dict[str, tuple[int | None, int | None, bool]]:
    rows = await session.execute(
        select(PartyMention.name, PartyMention.person_id, PartyMention.organisation_id,
               PartyMention.staff_decided)
    )  # fmt: skip
    return {name: (pid, oid, bool(staff)) for name, pid, oid, staff in rows}


async def test_reordered_parties_keep_their_persons(session: AsyncSession) -> None:
    # given a resolved mediation case with two persons and an organisation
    await ingest_records(session, [mediation("TJ1", None)])
    await resolve_all(session)
    before = await _assignments(session)
    # when the source re-issues it with the parties in another order
    update = mediation("TJ1", None)
    update.source_updated_at += timedelta(hours=1)
    update.parties.reverse()
    await ingest_records(session, [update])
    # then every party keeps its person or organisation without a new resolution run
    assert await _assignments(session) == before


async def test_a_party_with_another_id_number_is_not_carried_over(session: AsyncSession) -> None:
    # given a resolved case whose applicant has an ID number
    await ingest_records(session, [mediation("TJ1", None)])
    await resolve_all(session)
    # when the update names someone else (another ID number) first and drops 李娜
    update = mediation("TJ1", None)
    update.source_updated_at += timedelta(hours=1)
    update.parties[0] = ParsedParty(role=PartyRole.APPLICANT, name="張偉", id_number=ID_OTHER)
    update.parties[1] = ParsedParty(role=PartyRole.RESPONDENT, name="王芳")
    await ingest_records(session, [update])
    # then neither new party inherits a person; the organisation (same credit code) keeps its own
    after = await _assignments(session)
    assert after["張偉"][0] is None and after["王芳"][0] is None
    assert after["三门峡市金桥物业服务有限公司"][1] is not None
