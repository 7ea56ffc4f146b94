"""Ingest keeps each record's KPI class current, so figures need not join the kind tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.ingest import ingest_records
from db.models import Record
from domain.enums import SourceSystem
from domain.records import ParsedRecord
from domain.stats import KpiClass

WHEN = datetime(2026, 3, 15, 2, 0, tzinfo=UTC)


def _court(key: str, case_type: str, hours: int = 0) -> ParsedRecord:
    return ParsedRecord(
        source=SourceSystem.COURT, source_key=key, raw={},
        source_updated_at=WHEN + timedelta(hours=hours), occurred_at=WHEN, region_code="411202",
        title="案件", fields={"case_number": key, "case_type": case_type},
    )  # fmt: skip


def _alert(key: str, code: str) -> ParsedRecord:
    return ParsedRecord(
        source=SourceSystem.POLICE_110, source_key=key, raw={}, source_updated_at=WHEN,
        occurred_at=WHEN, region_code="411202", title="警情",
        fields={"alert_number": key, "alarm_time": WHEN, "category_code_l1": None,
                "category_code_l2": code[:4] + "00", "category_code_l3": code},
    )  # fmt: skip


async def _classes(session: AsyncSession) -> dict[str, KpiClass | None]:
    rows = await session.execute(select(Record.source_key, Record.kpi_class))
    return {key: value for key, value in rows}


async def test_ingest_sets_and_updates_the_kpi_class(session: AsyncSession) -> None:
    await ingest_records(
        session, [_court("C1", "诉前调解"), _court("C2", "民初"), _court("C3", "民特")]
    )
    await ingest_records(session, [_alert("A1", "030201"), _alert("A2", "010101")])
    assert await _classes(session) == {
        "C1": KpiClass.PRE_SUIT_MEDIATION, "C2": KpiClass.FIRST_INSTANCE, "C3": None,
        "A1": KpiClass.NON_POLICE_ALERT, "A2": None,
    }  # fmt: skip
    # a pre-suit mediation that failed and was filed as a lawsuit under the same key
    await ingest_records(session, [_court("C1", "民初", hours=1)])
    assert (await _classes(session))["C1"] is KpiClass.FIRST_INSTANCE
