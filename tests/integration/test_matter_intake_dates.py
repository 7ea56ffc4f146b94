"""Matters from synced records run on the source's own dates (来源日期), on both databases: a
petition the petition system accepted long ago is overdue at once (逾期清单, 按期办结率, the
scanner marks it without an automatic 督办), a fresh one is not, and a record without dates
falls back to the sync time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.deadline_scanner import scan
from db.engine import session_factory
from db.matter_intake import take_in
from db.matter_queries import MatterCriteria
from db.matter_stats import MatterStatQuery, first_overdue_select, matter_kpis
from db.matter_workflow import MatterWorkflow
from db.models import ClockRow, Matter, MatterEvent, MatterRecord, Record, Supervision
from db.models.records import Petition
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.stats import KpiId
from domain.workflow.actors import Actor
from domain.workflow.intake import IntakeRules
from domain.workflow.visibility import ALL_MATTERS
from domain.workflow.vocabulary import MatterStep
from tests.integration.graphql_world import _insert

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 10, tzinfo=SH)  # the sync
REGION = "510183001"
BACKLOG, FRESH, UNDATED = 1, 2, 3
SYNC = Actor.system("sync:PETITION").sub


@pytest.fixture
async def flow(committing_engine: AsyncEngine) -> AsyncIterator[MatterWorkflow]:
    yield MatterWorkflow(
        session_factory(committing_engine), load_rules(), ChineseWorkingCalendar(),
        now=lambda: NOW,
    )


async def _petition(
    flow: MatterWorkflow, record_id: int, status: CaseStatus, received: date | None,
    deadline: date | None = None,
) -> None:
    reported = datetime.combine(received, datetime.min.time(), SH) if received else None
    row: dict[str, Any] = {
        "id": record_id, "kind": RecordKind.PETITION, "source": SourceSystem.PETITION,
        "source_key": f"XF5101832024{record_id:08d}", "category": DisputeCategory.LABOUR,
        "title": "讨薪（来访）", "summary": None, "occurred_at": reported or NOW,
        "reported_at": reported, "region_code": REGION, "address": None, "status": status,
        "risk_level": RiskLevel.NONE, "source_status": "已受理", "source_updated_at": NOW,
        "updated_at": NOW, "deleted": False,
    }  # fmt: skip
    async with flow.sessions.begin() as session:
        connection = await session.connection()
        await _insert(connection, Record, [row])
        await _insert(connection, Petition, [{
            "id": record_id, "form": "来访", "accepted_on": received, "deadline": deadline,
            "petition_numbers": {"county": row["source_key"]},
        }])  # fmt: skip


async def _world(flow: MatterWorkflow) -> dict[int, Matter]:
    # the tester's case: 信访日期 2024-12-07, 办理期限 2025-02-05, synced 2026-12-03
    await _petition(flow, BACKLOG, CaseStatus.ACCEPTED, date(2024, 12, 7), date(2025, 2, 5))
    await _petition(flow, FRESH, CaseStatus.IN_PROGRESS, date(2026, 11, 30))
    await _petition(flow, UNDATED, CaseStatus.ACCEPTED, None)
    counts = await take_in(flow, IntakeRules(), [BACKLOG, FRESH, UNDATED], source="PETITION")
    assert counts.opened == 3
    async with flow.sessions() as session:
        rows = await session.execute(
            select(MatterRecord.record_id, Matter)
            .join(Matter, Matter.id == MatterRecord.matter_id)
        )
        return {record_id: matter for record_id, matter in rows}


async def _clocks(flow: MatterWorkflow, matter_id: int) -> dict[str, ClockRow]:
    async with flow.sessions() as session:
        rows = await session.scalars(select(ClockRow).where(ClockRow.matter_id == matter_id))
        return {row.rule_id: row for row in rows}


def _at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), SH)


async def test_a_backlog_petition_is_accepted_on_its_own_date_and_overdue(
    flow: MatterWorkflow,
) -> None:
    matters = await _world(flow)
    backlog = matters[BACKLOG]
    assert backlog.step is MatterStep.ACCEPTED  # the source's 受理, not 已登记
    assert backlog.opened_at == _at(date(2024, 12, 7))  # registered on its 信访日期
    assert backlog.number.startswith("510183-2026-")  # numbered when govhub took it in
    clocks = await _clocks(flow, backlog.id)
    register, handle = clocks["petition.register"], clocks["petition.source_handle"]
    # §22 met on the day the petition system accepted it; §34 from that 受理, day excluded:
    # 60 days end on 2025-02-05 (a working day after the Spring Festival) at 24:00
    assert (register.started_at, register.stopped_at) == (_at(date(2024, 12, 7)),) * 2
    assert register.stop_reason == "SOURCE_ACCEPTED" and register.due_at is not None
    assert register.stopped_at <= register.due_at
    assert handle.started_at == _at(date(2024, 12, 7)) and handle.stopped_at is None
    assert handle.due_at == _at(date(2025, 2, 6))  # = the source's own 办理期限, 24:00

    async with flow.sessions() as session:
        events = (await session.execute(
            select(MatterEvent.action, MatterEvent.at, MatterEvent.actor_sub, MatterEvent.note,
                   MatterEvent.details)
            .where(MatterEvent.matter_id == backlog.id).order_by(MatterEvent.id)
        )).all()  # fmt: skip
    assert [(e.action, e.at, e.actor_sub) for e in events] == [
        ("OPEN", _at(date(2024, 12, 7)), SYNC), ("ADMIT", _at(date(2024, 12, 7)), SYNC),
    ]
    assert events[1].note == "PETITION XF510183202400000001"
    assert events[1].details == {"source_accepted": "2024-12-07",
                                 "source_deadline": "2025-02-05",
                                 "evidence_record_id": str(BACKLOG)}


async def test_a_fresh_petition_runs_from_its_date_and_is_not_overdue(
    flow: MatterWorkflow,
) -> None:
    fresh = (await _world(flow))[FRESH]
    assert fresh.step is MatterStep.ACCEPTED and fresh.opened_at == _at(date(2026, 11, 30))
    handle = (await _clocks(flow, fresh.id))["petition.source_handle"]
    assert handle.started_at == _at(date(2026, 11, 30))
    assert handle.due_at is not None and handle.due_at == _at(date(2027, 1, 30))  # 1-29 24:00


async def test_a_petition_without_dates_falls_back_to_the_sync_time(
    flow: MatterWorkflow,
) -> None:
    undated = (await _world(flow))[UNDATED]
    assert undated.step is MatterStep.ACCEPTED and undated.opened_at == NOW
    handle = (await _clocks(flow, undated.id))["petition.source_handle"]
    assert handle.started_at == NOW
    assert handle.due_at is not None and handle.due_at > NOW
    # the 受理 row claims no source date the source did not give
    assert await _events(flow, undated.id) == [
        ("OPEN", NOW, {"origin": "PETITION"}),
        ("ADMIT", NOW, {"evidence_record_id": str(UNDATED)}),
    ]


async def test_a_petition_dated_before_2000_is_taken_in_at_the_sync_time_and_flagged(
    flow: MatterWorkflow,
) -> None:
    # given a petition whose export says 信访日期 1900-01-01 (an empty date column)
    await _petition(flow, 4, CaseStatus.ACCEPTED, date(1900, 1, 1))
    # when a sync takes it in
    assert (await take_in(flow, IntakeRules(), [4], source="PETITION")).opened == 1
    async with flow.sessions() as session:
        matter = await session.scalar(select(Matter))
    assert matter is not None
    # then it is registered and 受理 at the sync, not in 1900, and the rows say why
    assert matter.opened_at == NOW
    assert (await _clocks(flow, matter.id))["petition.source_handle"].started_at == NOW
    assert await _events(flow, matter.id) == [
        ("OPEN", NOW, {"origin": "PETITION", "source_date_ignored": "received"}),
        ("ADMIT", NOW, {"evidence_record_id": "4", "source_date_ignored": "accepted"}),
    ]


async def _events(flow: MatterWorkflow, matter_id: int) -> list[tuple[str, datetime, Any]]:
    async with flow.sessions() as session:
        rows = await session.execute(
            select(MatterEvent.action, MatterEvent.at, MatterEvent.details)
            .where(MatterEvent.matter_id == matter_id).order_by(MatterEvent.id)
        )
        return [(action, at, details) for action, at, details in rows]


async def test_overdue_list_and_on_time_closure_rate_agree(flow: MatterWorkflow) -> None:
    matters = await _world(flow)
    async with flow.sessions() as session:
        connection = await session.connection()
        overdue = (await connection.execute(
            first_overdue_select(MatterCriteria(), ALL_MATTERS, NOW, 50)
        )).all()  # fmt: skip
        (group,) = await matter_kpis(connection, MatterStatQuery(
            MatterCriteria(), NOW, kpis=(KpiId.ON_TIME_CLOSURE_RATE,),
        ), ALL_MATTERS)  # fmt: skip
    assert [row.number for row in overdue] == [matters[BACKLOG].number]
    assert overdue[0].overdue_since == _at(date(2025, 2, 6))
    # the one overdue matter counts, against the rate; the two running on time do not count
    assert group.kpis[KpiId.ON_TIME_CLOSURE_RATE] == (0, 1)


async def test_the_scanner_marks_a_backlog_breach_without_an_automatic_supervision(
    flow: MatterWorkflow,
) -> None:
    matters = await _world(flow)
    result = await scan(flow, NOW)
    assert (result.breaches, result.backlog_breaches, result.supervised) == (1, 1, 0)
    assert result.warnings == 0  # the 50%/80% moments passed before govhub knew of it
    async with flow.sessions() as session:
        marks = (await session.execute(
            select(MatterEvent.action, MatterEvent.details)
            .where(MatterEvent.matter_id == matters[BACKLOG].id,
                   MatterEvent.action.in_(["OVERDUE", "WARNING"]))
        )).all()  # fmt: skip
        assert await session.scalar(select(Supervision.id)) is None
    assert [(action, details["rule_id"], details.get("before_intake"))
            for action, details in marks] == [("OVERDUE", "petition.source_handle", "true")]
    assert (await scan(flow, NOW)).breaches == 0  # fired once
    # a breach that comes after govhub took the record in is supervised as any other
    later = await scan(flow, _at(date(2027, 2, 3)))
    assert (later.breaches, later.backlog_breaches, later.supervised) == (2, 0, 2)
    async with flow.sessions() as session:
        supervised = set(await session.scalars(select(Supervision.matter_id)))
    assert supervised == {matters[FRESH].id, matters[UNDATED].id}
