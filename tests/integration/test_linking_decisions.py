"""Staff decisions on both databases: each is audited and survives every later automatic run."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.decisions import confirm_link, merge_persons, reject_link, split_person
from db.ingest import ingest_records
from db.models import AuditEntry, Link, PartyMention, Person
from db.resolution import resolve_all, resolve_new_mentions
from domain.linking.errors import LinkingError, LinkingErrorCode
from tests.integration.test_linking_storage import alert, mediation, persons_by_name


async def _resolved_pair(session: AsyncSession) -> Link:
    """An alert by 张伟 and the mediation case taken over from it, resolved and linked."""
    await ingest_records(session, [alert("J1", "张伟", "13800000001")])
    await ingest_records(session, [mediation("TJ1", "J1")])
    await resolve_all(session)
    link = await session.scalar(select(Link))
    assert link is not None
    return link


async def _mention(session: AsyncSession, name: str) -> PartyMention:
    mention = await session.scalar(select(PartyMention).where(PartyMention.name == name))
    assert mention is not None
    return mention


async def _audit_rows(session: AsyncSession) -> list[tuple[str | None, str | None]]:
    rows = await session.execute(
        select(AuditEntry.operation, AuditEntry.principal).order_by(AuditEntry.id)
    )
    return [(operation, principal) for operation, principal in rows]


async def test_a_rejected_link_stays_rejected_after_every_run(session: AsyncSession) -> None:
    # given a resolved alert and mediation case, linked
    link = await _resolved_pair(session)
    # when staff reject the link, then a full and an incremental run follow
    await reject_link(session, link.id, "staff-1")
    await resolve_all(session)
    await ingest_records(session, [alert("J2", "张伟", "13800000001", days=1)])
    await resolve_new_mentions(session)
    # then the pair is still apart, the decision says who and when, and it was audited
    stored = await session.get(Link, link.id)
    assert stored is not None and stored.decision == "REJECTED"
    assert stored.decided_by == "staff-1" and stored.decided_at is not None
    pairs = {frozenset((k.from_record_id, k.to_record_id)): k.decision
             for k in await session.scalars(select(Link))}  # fmt: skip
    assert pairs[frozenset((link.from_record_id, link.to_record_id))] == "REJECTED"
    assert await _audit_rows(session) == [("rejectLink", "staff-1")]


async def test_a_confirmed_link_outlives_its_evidence(session: AsyncSession) -> None:
    # given a confirmed link between the alert and the mediation case that cites it
    link = await _resolved_pair(session)
    await confirm_link(session, link.id, "staff-2")
    confidence = link.confidence
    # when the source drops the citation and everything is re-run
    update = replace(mediation("TJ1", None), source_updated_at=link.created_at + timedelta(1))
    await ingest_records(session, [update])
    await resolve_all(session)
    # then the confirmed link is neither removed nor downgraded
    stored = await session.get(Link, link.id)
    assert stored is not None and stored.decision == "CONFIRMED"
    assert stored.confidence == confidence and stored.decided_by == "staff-2"
    assert await _audit_rows(session) == [("confirmLink", "staff-2")]


async def test_merged_persons_stay_merged(session: AsyncSession) -> None:
    # given 张伟 and 李娜 resolved as two persons
    await _resolved_pair(session)
    names = await persons_by_name(session)
    keep, other = names["张伟"], names["李娜"]
    assert keep is not None and other is not None and keep != other
    # when staff merge 李娜 into 张伟 and a full run follows
    kept = await merge_persons(session, keep, [other], "staff-3")
    await resolve_all(session)
    # then every mention of either is on the kept person, and the merged one points there
    after = await persons_by_name(session)
    assert after["张伟"] == after["張偉"] == after["李娜"] == kept.id == keep
    merged = await session.get(Person, other)
    assert merged is not None and merged.merged_into_id == keep
    # and a later mention of 李娜's phone joins the kept person, not the merged one
    await ingest_records(session, [alert("J3", "李娜", "13900000002", days=2)])
    await resolve_new_mentions(session)
    third = await session.scalar(
        select(PartyMention.person_id).where(PartyMention.name == "李娜").order_by(
            PartyMention.id.desc()
        )
    )  # fmt: skip
    assert third == keep
    assert await _audit_rows(session) == [("mergePersons", "staff-3")]


async def test_split_mentions_stay_split(session: AsyncSession) -> None:
    # given 张伟 (the caller) and 張偉 (the applicant) resolved as one person
    await _resolved_pair(session)
    before = await persons_by_name(session)
    caller = await _mention(session, "张伟")
    # when staff split the caller off, then a full run follows
    new_person = await split_person(session, before["張偉"] or 0, [caller.id], "staff-4")
    await resolve_all(session)
    # then the caller stays with the new person and the applicant with the old one
    after = await persons_by_name(session)
    assert after["张伟"] == new_person.id != after["張偉"] == before["張偉"]
    await session.refresh(caller)
    assert caller.staff_decided
    assert await _audit_rows(session) == [("splitPerson", "staff-4")]


async def test_a_staff_decision_survives_a_source_update(session: AsyncSession) -> None:
    # given the caller split off to a person of their own
    await _resolved_pair(session)
    caller = await _mention(session, "张伟")
    new_person = await split_person(
        session, (await persons_by_name(session))["張偉"] or 0, [caller.id], "staff-5"
    )
    # when the police system updates the alert (new version, same caller)
    update = alert("J1", "张伟", "13800000001")
    update.source_updated_at += timedelta(hours=1)
    update.title = "更新后的警情"
    await ingest_records(session, [update])
    await resolve_new_mentions(session)
    await resolve_all(session)
    # then the replaced mention still belongs to the new person, as staff decided
    replaced = await _mention(session, "张伟")
    assert replaced.id != caller.id  # the mention row was replaced ...
    assert replaced.person_id == new_person.id and replaced.staff_decided  # ... its decision not


@pytest.mark.parametrize(
    ("attempt", "code"),
    [
        ("reject_missing", LinkingErrorCode.NOT_FOUND),
        ("merge_into_itself", LinkingErrorCode.BAD_USER_INPUT),
        ("merge_twice", LinkingErrorCode.CONFLICT),
        ("split_foreign_mention", LinkingErrorCode.CONFLICT),
        ("split_everything", LinkingErrorCode.BAD_USER_INPUT),
    ],
)
async def test_impossible_decisions_raise_coded_errors(
    session: AsyncSession, attempt: str, code: LinkingErrorCode
) -> None:
    await _resolved_pair(session)
    names = await persons_by_name(session)
    zhang, li = names["张伟"] or 0, names["李娜"] or 0
    li_mention = await _mention(session, "李娜")
    with pytest.raises(LinkingError) as raised:
        if attempt == "reject_missing":
            await reject_link(session, 10**9, "staff")
        elif attempt == "merge_into_itself":
            await merge_persons(session, zhang, [zhang], "staff")
        elif attempt == "merge_twice":
            await merge_persons(session, zhang, [li], "staff")
            third = Person(name="王芳")
            session.add(third)
            await session.flush()
            await merge_persons(session, third.id, [li], "staff")
        elif attempt == "split_foreign_mention":
            await split_person(session, zhang, [li_mention.id], "staff")
        else:
            await split_person(session, li, [li_mention.id], "staff")
    assert raised.value.code == code
