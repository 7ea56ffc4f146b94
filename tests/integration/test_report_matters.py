"""``govhub report``: the matter KPIs and the handling duration on the 指标 sheet against plain
Python over the matter world, each KPI counting a matter on its own Beijing date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.report import Period, Sheet, build_report
from domain.enums import RegionLevel
from domain.scope import EVERYTHING, RecordScope
from domain.stats import KPI_DEFINITIONS, MATTER_KPIS
from domain.workflow.visibility import ALL_MATTERS, MatterScope
from tests.integration.matter_stats_world import (
    MATTERS,
    expected,
    expected_durations,
    seed_matter_world,
)
from tests.integration.security_world import wipe

MARCH = Period.parse("2026-03")
IN_HUBIN = [m for m in MATTERS if m.region and m.region.startswith("411202")]


@pytest.fixture(scope="module")
async def sheets(engine: AsyncEngine) -> AsyncIterator[dict[str, Sheet]]:
    await wipe(engine)
    await seed_matter_world(engine)
    async with engine.connect() as connection:  # as the command builds it: every figure
        built = await build_report(
            connection, "411202", MARCH, RegionLevel.TOWNSHIP, scope=EVERYTHING,
            matters=ALL_MATTERS, min_cell=0,
        )  # fmt: skip
    yield {sheet.title: sheet for sheet in built}
    await wipe(engine)


async def test_the_kpi_sheet_carries_the_matter_kpis(sheets: dict[str, Sheet]) -> None:
    rows = {row[0]: row[1:4] for row in sheets["指标"].rows}
    now = datetime.now(UTC)
    for kpi in MATTER_KPIS:
        figure = expected(IN_HUBIN, kpi.value, now, date(2026, 3, 1), date(2026, 4, 1))
        value = None if figure["value"] is None else round(figure["value"], 4)
        assert rows[KPI_DEFINITIONS[kpi].name] == (
            figure["numerator"],
            figure["denominator"],
            value,
        ), kpi
    closed_in_march = [
        m for m in IN_HUBIN if m.closed and date(2026, 3, 1) <= m.closed.date() < date(2026, 4, 1)
    ]
    count, p50, p90 = expected_durations(closed_in_march)
    assert count >= 2
    assert rows["办理时长 P50 (小时)"][0] == count
    assert rows["办理时长 P50 (小时)"][2] == pytest.approx(p50, abs=1e-4)
    assert rows["办理时长 P90 (小时)"][2] == pytest.approx(p90, abs=1e-4)


async def test_the_definitions_sheet_names_every_matter_kpi(sheets: dict[str, Sheet]) -> None:
    names = {row[1] for row in sheets["指标口径"].rows}
    assert {KPI_DEFINITIONS[kpi].name for kpi in MATTER_KPIS} | {"办理时长"} <= names


async def test_the_matter_kpis_count_only_the_matters_of_the_scope_given(
    sheets: dict[str, Sheet], engine: AsyncEngine
) -> None:
    # given 湖滨区's report for a caller whose matters are one township's (前进街道)
    township = MatterScope(places=RecordScope.of(["411202002"], None))
    async with engine.connect() as connection:
        built = await build_report(
            connection, "411202", MARCH, RegionLevel.TOWNSHIP, scope=EVERYTHING,
            matters=township, min_cell=0,
        )  # fmt: skip
    # then its matter KPIs count that township's matters only
    rows = {row[0]: row[1:3] for row in built[0].rows}
    whole = {row[0]: row[1:3] for row in sheets["指标"].rows}
    inside = [m for m in IN_HUBIN if m.region and m.region.startswith("411202002")]
    now = datetime.now(UTC)
    for kpi in MATTER_KPIS:
        figure = expected(inside, kpi.value, now, date(2026, 3, 1), date(2026, 4, 1))
        name = KPI_DEFINITIONS[kpi].name
        assert rows[name] == (figure["numerator"], figure["denominator"]), kpi
    assert any(rows[name] != whole[name] for name in rows), "the township counts fewer"
