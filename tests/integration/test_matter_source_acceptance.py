"""A matter opened 已登记 from a record its source had not yet accepted takes the source's later
受理 (来源系统已受理) at the next sync, on both databases: 登记转送 stops on the source's
acceptance date and §34's 60 days run from it; a re-sync adds nothing; the scanner finds no
breach of 登记转送 and issues no 督办 for it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.deadline_scanner import scan
from db.matter_intake import take_in
from db.matter_workflow import MatterWorkflow
from db.models import ClockRow, Matter, MatterEvent, MatterRecord, Record, Supervision
from db.models.audit import AuditEntry
from db.models.records import Petition
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.workflow.actors import Actor
from domain.workflow.intake import IntakeRules
from domain.workflow.vocabulary import MatterStep
from tests.integration.clock_support import SettableClock, clocked_workflow
from tests.integration.graphql_world import _insert

SH = ZoneInfo("Asia/Shanghai")
REGION = "510183001"
RECORD = 1
RECEIVED = datetime(2026, 11, 20, tzinfo=SH)  # 信访日期; §22's 15 days end 2026-12-05
FIRST_SYNC = datetime(2026, 11, 21, 10, tzinfo=SH)  # the record is 待受理
ACCEPTED_ON = date(2026, 11, 25)  # the petition system's 受理
SECOND_SYNC = datetime(2026, 12, 3, 10, tzinfo=SH)  # the record is 已受理
SYNC = Actor.system("sync:PETITION").sub


@pytest.fixture
async def clock() -> SettableClock:
    return SettableClock(FIRST_SYNC)


@pytest.fixture
async def flow(committing_engine: AsyncEngine, clock: SettableClock) -> MatterWorkflow:
    return clocked_workflow(committing_engine, clock)


async def _pending_petition(flow: MatterWorkflow) -> int:
    """A petition synced 待受理 (REPORTED), taken in: its matter's id."""
    row: dict[str, Any] = {
        "id": RECORD, "kind": RecordKind.PETITION, "source": SourceSystem.PETITION,
        "source_key": "XF510183202600000001", "category": DisputeCategory.LABOUR,
        "title": "讨薪（来访）", "summary": None, "occurred_at": RECEIVED,
        "reported_at": RECEIVED, "region_code": REGION, "address": None,
        "status": CaseStatus.REPORTED, "risk_level": RiskLevel.NONE, "source_status": "待受理",
        "source_updated_at": RECEIVED, "updated_at": FIRST_SYNC, "deleted": False,
    }  # fmt: skip
    async with flow.sessions.begin() as session:
        connection = await session.connection()
        await _insert(connection, Record, [row])
        await _insert(connection, Petition, [{
            "id": RECORD, "form": "来访", "accepted_on": None,
            "petition_numbers": {"county": row["source_key"]},
        }])  # fmt: skip
    counts = await take_in(flow, IntakeRules(), [RECORD], source="PETITION")
    assert counts.opened == 1
    async with flow.sessions() as session:
        matter_id = await session.scalar(
            select(MatterRecord.matter_id).where(MatterRecord.record_id == RECORD)
        )
    assert matter_id is not None
    return matter_id


async def _accepted_at_source(flow: MatterWorkflow) -> None:
    async with flow.sessions.begin() as session:
        await session.execute(update(Record).where(Record.id == RECORD).values(
            status=CaseStatus.ACCEPTED, source_status="已受理",
            source_updated_at=datetime(2026, 11, 25, 16, tzinfo=SH),
        ))  # fmt: skip
        await session.execute(
            update(Petition).where(Petition.id == RECORD).values(accepted_on=ACCEPTED_ON)
        )


async def _clocks(flow: MatterWorkflow, matter_id: int) -> dict[str, ClockRow]:
    async with flow.sessions() as session:
        rows = await session.scalars(select(ClockRow).where(ClockRow.matter_id == matter_id))
        return {row.rule_id: row for row in rows}


async def test_a_petition_the_source_accepts_between_syncs_is_accepted_on_its_date(
    flow: MatterWorkflow, clock: SettableClock,
) -> None:
    matter_id = await _pending_petition(flow)
    assert set(await _clocks(flow, matter_id)) == {"petition.register"}
    await _accepted_at_source(flow)

    clock.now = SECOND_SYNC
    counts = await take_in(flow, IntakeRules(), [RECORD], source="PETITION")

    assert (counts.accepted, counts.fed_back, counts.concluded) == (1, 0, 0)
    accepted_at = datetime.combine(ACCEPTED_ON, datetime.min.time(), SH)
    async with flow.sessions() as session:
        matter = await session.get(Matter, matter_id)
        assert matter is not None and matter.step is MatterStep.ACCEPTED
        admit = (await session.execute(
            select(MatterEvent.at, MatterEvent.actor_sub, MatterEvent.note, MatterEvent.details)
            .where(MatterEvent.matter_id == matter_id, MatterEvent.action == "ADMIT")
        )).one()  # fmt: skip
        audited = list(await session.scalars(
            select(AuditEntry.operation).where(AuditEntry.principal == SYNC)
        ))  # fmt: skip
    assert (admit.at, admit.actor_sub) == (accepted_at, SYNC)
    assert admit.note == "PETITION XF510183202600000001"
    assert admit.details == {"source_accepted": "2026-11-25", "evidence_record_id": str(RECORD)}
    assert audited.count("matter.ADMIT") == 1
    clocks = await _clocks(flow, matter_id)
    register, handle = clocks["petition.register"], clocks["petition.source_handle"]
    assert (register.stopped_at, register.stop_reason) == (accepted_at, "SOURCE_ACCEPTED")
    assert (handle.started_at, handle.stopped_at) == (accepted_at, None)

    # a re-sync of the accepted record adds nothing
    again = await take_in(flow, IntakeRules(), [RECORD], source="PETITION")
    assert again.accepted == 0

    # 登记转送 was met: past its 15 days the scanner finds nothing to supervise
    result = await scan(flow, datetime(2026, 12, 10, 10, tzinfo=SH))
    assert (result.breaches, result.supervised) == (0, 0)
    async with flow.sessions() as session:
        assert await session.scalar(select(Supervision.id)) is None
