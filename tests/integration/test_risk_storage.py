"""Grades stored on both databases: computed after ingest for records and persons, shown in
``records.risk_level``, one alert per rise, overrides that lapse when the facts change."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import session_factory
from db.ingest import ingest_records
from db.models import PartyMention, Record, RiskAssessment, RiskGradeChange
from db.resolution import resolve_new_mentions
from db.risk import GradeNotFound, RiskConfig, grade_touched, override_grade
from domain.enums import CaseStatus, DisputeCategory, PartyRole, RiskLevel, SourceSystem
from domain.records import ParsedParty, ParsedRecord
from domain.risk import TargetKind, load_risk_rules

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOME = "湖滨区车站街道建设路12号"
PHONE = "13800000001"


def alert(key: str, days: int, story: str = "报警人称与丈夫因琐事发生争吵",
          grade: RiskLevel = RiskLevel.NONE) -> ParsedRecord:  # fmt: skip
    when = T0 + timedelta(days=days)
    return ParsedRecord(
        source=SourceSystem.POLICE_110, source_key=key, source_updated_at=when, raw={},
        category=DisputeCategory.MARRIAGE_FAMILY, occurred_at=when, region_code="411202",
        address=HOME, title="家庭纠纷", summary=story, risk_level=grade,
        status=CaseStatus.CLOSED,
        fields={"alert_number": key, "alarm_time": when},
        parties=[ParsedParty(role=PartyRole.CALLER, name="王芳", phone=PHONE)],
    )  # fmt: skip


async def ingest_and_grade(
    session: AsyncSession, *records: ParsedRecord, config: RiskConfig | None = None
) -> list[object]:
    counts = await ingest_records(session, list(records))
    await resolve_new_mentions(session, relink=counts.changed_ids)
    return list(await grade_touched(session, counts.changed_ids, config))


async def level_of(session: AsyncSession, key: str) -> RiskLevel:
    level = await session.scalar(select(Record.risk_level).where(Record.source_key == key))
    assert level is not None
    return level


async def person_grade(session: AsyncSession) -> RiskAssessment:
    person_id = await session.scalar(select(PartyMention.person_id).limit(1))
    row = await session.scalar(
        select(RiskAssessment).where(
            RiskAssessment.target_kind == TargetKind.PERSON, RiskAssessment.target_id == person_id
        )
    )
    assert row is not None
    return row


async def test_repeat_calls_raise_the_grade_of_every_call_and_the_caller(
    session: AsyncSession,
) -> None:
    # given one call, then a second and a third from the same home within thirty days
    assert await ingest_and_grade(session, alert("J1", 0)) == []
    assert await level_of(session, "J1") is RiskLevel.NONE
    await ingest_and_grade(session, alert("J2", 10))
    assert await level_of(session, "J1") is RiskLevel.YELLOW
    alerts = await ingest_and_grade(session, alert("J3", 20))
    # then all three calls and the caller are RED, with the rule and its evidence kept
    assert [await level_of(session, k) for k in ("J1", "J2", "J3")] == [RiskLevel.RED] * 3
    person = await person_grade(session)
    assert person.effective_level is RiskLevel.RED
    place = next(rule for rule in person.rules if rule["id"] == "alerts.repeat_place")
    assert place["evidence"]["count"] == 3
    assert place["evidence"]["records"] == ["POLICE_110/J1", "POLICE_110/J2", "POLICE_110/J3"]
    # and one alert per target that rose to RED: three records and the person, once each
    assert sorted((a.target.value, a.previous.value) for a in alerts) == sorted(  # type: ignore[attr-defined]
        [("RECORD", "YELLOW"), ("RECORD", "YELLOW"), ("RECORD", "NONE"), ("PERSON", "YELLOW")]
    )
    # a re-delivery of a changed record keeps the grade and raises no alert again
    again = await ingest_and_grade(session, alert("J3", 20, story="报警人称与丈夫发生口角"))
    assert again == []


async def test_the_source_grade_is_kept_as_a_fact_beside_the_computed_one(
    session: AsyncSession,
) -> None:
    await ingest_and_grade(session, alert("J1", 0, grade=RiskLevel.YELLOW))
    row = (await session.execute(
        select(Record.risk_level, Record.source_risk_level).where(Record.source_key == "J1")
    )).one()  # fmt: skip
    assert tuple(row) == (RiskLevel.YELLOW, RiskLevel.YELLOW)
    grade = await session.scalar(
        select(RiskAssessment).where(RiskAssessment.target_kind == TargetKind.RECORD)
    )
    assert grade is not None and [r["id"] for r in grade.rules] == ["source.yellow"]


async def test_negated_threats_leave_the_grade_alone_and_real_ones_raise_it(
    session: AsyncSession,
) -> None:
    await ingest_and_grade(session, alert("J1", 0, story="民警到场后当事人表示不会报复，并未持刀"))
    assert await level_of(session, "J1") is RiskLevel.NONE
    await ingest_and_grade(session, alert("J9", 200, story="报警人称丈夫持菜刀扬言要砍死她"))
    assert await level_of(session, "J9") is RiskLevel.RED


async def test_an_override_holds_until_the_facts_change_and_is_logged(
    session: AsyncSession,
) -> None:
    # given a threatening call (YELLOW) that staff judged harmless
    await ingest_and_grade(session, alert("J1", 0, story="报警人称丈夫扬言要打她"))
    record_id = await session.scalar(select(Record.id).where(Record.source_key == "J1"))
    assert record_id is not None
    await override_grade(session, TargetKind.RECORD, record_id, RiskLevel.BLUE,
                         reason="双方已和好，回访无异常", by="staff-1")  # fmt: skip
    assert await level_of(session, "J1") is RiskLevel.BLUE
    # when the record is graded again on the same facts, the override holds
    await grade_touched(session, [record_id])
    assert await level_of(session, "J1") is RiskLevel.BLUE
    # when a new call by the same person arrives, the facts change: the computed grade is back
    await ingest_and_grade(session, alert("J2", 5))
    assert await level_of(session, "J1") is RiskLevel.YELLOW
    changes = (await session.execute(
        select(RiskGradeChange.from_level, RiskGradeChange.to_level, RiskGradeChange.cause)
        .where(RiskGradeChange.target_kind == TargetKind.RECORD,
               RiskGradeChange.target_id == record_id)
        .order_by(RiskGradeChange.id)
    )).all()  # fmt: skip
    assert [tuple(c) for c in changes] == [
        (RiskLevel.NONE, RiskLevel.YELLOW, "ASSESSED"),
        (RiskLevel.YELLOW, RiskLevel.BLUE, "OVERRIDDEN"),
        (RiskLevel.BLUE, RiskLevel.YELLOW, "ASSESSED"),
    ]
    with pytest.raises(GradeNotFound):
        await override_grade(session, TargetKind.PERSON, 10**9, RiskLevel.RED, reason="x", by="y")


async def test_an_override_reason_keeps_no_identifier_in_plaintext(
    session: AsyncSession,
) -> None:
    # given a graded record, and staff who type the caller's ID number and phone into the
    # reason for overriding its grade
    await ingest_and_grade(session, alert("J1", 0, story="报警人称丈夫扬言要打她"))
    record_id = await session.scalar(select(Record.id).where(Record.source_key == "J1"))
    assert record_id is not None
    reason = "来电人身份证11010519491231002X，电话13800000001，已回访无异常"
    # when the override is stored
    row = await override_grade(session, TargetKind.RECORD, record_id, RiskLevel.BLUE,
                               reason=reason, by="staff-1")  # fmt: skip
    # then the reason is kept masked, like every other text staff type (a matter's note, a
    # 督办's reason): an identifier belongs in a party's sealed fields, not in free text
    masked = "来电人身份证1101**********002X，电话138****0001，已回访无异常"
    assert row.override_reason == masked
    stored = (await session.execute(
        text("SELECT override_reason FROM risk_assessments WHERE override_reason IS NOT NULL")
    )).scalars().all()  # fmt: skip
    assert stored == [masked]


async def test_the_alert_level_is_configurable(session: AsyncSession) -> None:
    config = RiskConfig(load_risk_rules(), alert_level=RiskLevel.YELLOW)
    alerts = await ingest_and_grade(session, alert("J1", 0, story="扬言要打她"), config=config)
    assert {a.target for a in alerts} == {TargetKind.RECORD, TargetKind.PERSON}  # type: ignore[attr-defined]


async def test_calls_from_one_home_by_different_callers_count_together(
    session: AsyncSession,
) -> None:
    # given three calls from one home within sixty days, the middle one by a neighbour
    caller = ParsedParty(role=PartyRole.CALLER, name="李强", phone="13900000009")
    neighbour = replace(alert("J2", 25), parties=[caller])
    await ingest_and_grade(session, alert("J1", 0))
    await ingest_and_grade(session, neighbour)
    await ingest_and_grade(session, alert("J3", 50))
    # then the neighbour's call is RED too, and so is the first, graded again
    assert [await level_of(session, k) for k in ("J1", "J2", "J3")] == [RiskLevel.RED] * 3


async def test_an_override_waits_for_a_grading_pass_under_way(fresh_postgres: AsyncEngine) -> None:
    # given a graded record, and a grading pass under way in another process (holding the
    # grading lock on its own connection)
    sessions = session_factory(fresh_postgres)
    async with sessions.begin() as session:
        await ingest_and_grade(session, alert("J1", 0, story="报警人称丈夫扬言要打她"))
        record_id = await session.scalar(select(Record.id).where(Record.source_key == "J1"))
    assert record_id is not None
    connection = await fresh_postgres.connect()
    try:
        await connection.begin()
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name || current_schema()))"),
            {"name": "govhub:grading:"},
        )

        async def override() -> None:
            async with sessions.begin() as session:
                await override_grade(session, TargetKind.RECORD, record_id, RiskLevel.BLUE,
                                     reason="双方已和好", by="staff-1")  # fmt: skip

        # when staff override the record's grade meanwhile
        waiting = asyncio.ensure_future(override())
        await asyncio.sleep(0.5)
        # then the override waits for the pass (which would write its level over it) to end
        assert not waiting.done()
        await connection.commit()
        await asyncio.wait_for(waiting, timeout=10)
    finally:
        await connection.close()
    async with sessions() as session:
        assert await level_of(session, "J1") is RiskLevel.BLUE
