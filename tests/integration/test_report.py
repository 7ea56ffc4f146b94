"""``govhub report``: the monthly review's sheets against plain Python over the world's rows,
written as XLSX and CSV, and the command itself on an embedded database (audited)."""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from db.report import Period, Sheet, build_report, write_csv, write_xlsx
from domain.enums import RegionLevel, RiskLevel
from domain.scope import EVERYTHING
from domain.stats import KPI_DEFINITIONS, RECORD_KPIS, KpiId, region_key
from domain.workflow.visibility import ALL_MATTERS
from hub.cli import app
from tests.integration.security_world import wipe
from tests.integration.stats_world import ROWS, expected_kpis, seed_stats_world

MARCH = Period.parse("2026-03")
IN_MARCH = [
    r for r in ROWS
    if not r.deleted and r.region and r.region.startswith("411202")
    and date(2026, 3, 1) <= r.day < date(2026, 4, 1)
]  # fmt: skip


@pytest.fixture(scope="module")
async def sheets(engine: AsyncEngine) -> AsyncIterator[dict[str, Sheet]]:
    await wipe(engine)
    await seed_stats_world(engine)
    async with engine.connect() as connection:  # as the command builds it: every figure
        built = await build_report(
            connection, "411202", MARCH, RegionLevel.TOWNSHIP, scope=EVERYTHING,
            matters=ALL_MATTERS, min_cell=0,
        )  # fmt: skip
    yield {sheet.title: sheet for sheet in built}
    await wipe(engine)


def test_periods_parse() -> None:
    assert (MARCH.start, MARCH.end, MARCH.label) == (date(2026, 3, 1), date(2026, 4, 1), "2026-03")
    quarter = Period.parse("2026-Q2")
    assert (quarter.start, quarter.end) == (date(2026, 4, 1), date(2026, 7, 1))
    assert Period.parse("2026").end == date(2027, 1, 1)
    with pytest.raises(ValueError, match="not a period"):
        Period.parse("2026-13")


async def test_the_kpi_sheet_matches_python(sheets: dict[str, Sheet]) -> None:
    expected = expected_kpis(IN_MARCH, 337_058)
    records = {KPI_DEFINITIONS[kpi].name for kpi in RECORD_KPIS}
    got = {
        name: {"numerator": n, "denominator": d, "value": v}
        for name, n, d, v, _ in sheets["指标"].rows
        if name in records
    }
    assert got == {
        KPI_DEFINITIONS[KpiId(kpi)].name: {
            **figure, "value": None if figure["value"] is None else round(figure["value"], 4)
        }
        for kpi, figure in expected.items()
    }  # fmt: skip


async def test_the_trend_has_every_day_of_march(sheets: dict[str, Sheet]) -> None:
    counted = Counter(r.day for r in IN_MARCH)
    days = [date(2026, 3, 1) + timedelta(days=n) for n in range(31)]
    assert sheets["趋势"].rows == [(day.isoformat(), counted.get(day, 0)) for day in days]


async def test_the_region_sheet_rolls_up_to_townships(sheets: dict[str, Sheet]) -> None:
    counted = Counter(region_key(r.region, RegionLevel.TOWNSHIP) for r in IN_MARCH)
    assert {row[0]: row[1] for row in sheets["按区划"].rows} == dict(counted)


async def test_the_risk_sheet_names_every_level_in_chinese_most_severe_first(
    sheets: dict[str, Sheet],
) -> None:
    counted = Counter(r.risk for r in IN_MARCH)
    assert sheets["风险等级"].rows == [
        ("红色", counted[RiskLevel.RED]),
        ("黄色", counted[RiskLevel.YELLOW]),
        ("蓝色", counted[RiskLevel.BLUE]),
        ("无", counted[RiskLevel.NONE]),
    ]


OPERATOR_HEADERS = {
    "指标": ("指标", "分子", "分母", "指标值", "口径版本"),
    "按区划": ("区划代码", "记录数", *(
        f"{KPI_DEFINITIONS[kpi].name}{part}" for kpi in RECORD_KPIS for part in ("分子", "分母", "")
    )),
    "按类别": ("项目", "记录数"),
    "按类型": ("项目", "记录数"),
    "风险等级": ("项目", "记录数"),
    "趋势": ("周期", "记录数"),
    "指标口径": ("指标", "名称", "版本", "分子", "分母", "倍数", "口径说明"),
}  # fmt: skip
"""The columns ``govhub report`` has always written, sheet by sheet."""


async def test_the_operators_report_hides_no_small_cell_and_keeps_its_columns(
    sheets: dict[str, Sheet],
) -> None:
    # the command's report (everything, min_cell 0) is as it was: no 备注 column, no 小数抑制
    assert {title: sheet.header for title, sheet in sheets.items()} == OPERATOR_HEADERS
    cells = [cell for sheet in sheets.values() for row in sheet.rows for cell in row]
    assert "小数抑制" not in cells
    assert len(sheets["指标口径"].rows) == len(KPI_DEFINITIONS) + 1  # KPIs and 办理时长
    # and a day of March with one to four records is written as it is
    assert any(isinstance(count, int) and 0 < count < 5 for _, count in sheets["趋势"].rows)


async def test_xlsx_and_csv_carry_the_same_cells(sheets: dict[str, Sheet], tmp_path: Path) -> None:
    write_xlsx(list(sheets.values()), tmp_path / "report.xlsx")
    workbook = load_workbook(tmp_path / "report.xlsx")
    assert workbook.sheetnames == list(sheets)
    assert [tuple(c.value for c in row) for row in workbook["趋势"].iter_rows()][1:] == (
        sheets["趋势"].rows
    )
    definitions = [tuple(c.value for c in row) for row in workbook["指标口径"].iter_rows()]
    assert len(definitions) == 1 + len(KPI_DEFINITIONS) + 1  # header, KPIs, 办理时长
    written = write_csv(list(sheets.values()), tmp_path / "csv", "r")
    with written[-1].open(encoding="utf-8-sig") as handle:
        assert next(csv.reader(handle))[0] == "指标"


runner = CliRunner()


def test_the_command_writes_a_workbook_and_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for variable in ("GOVHUB_DATABASE_URL", "GOVHUB_PII_KEY", "GOVHUB_JWT_SECRET", "GOVHUB_ENV"):
        monkeypatch.delenv(variable, raising=False)
    assert runner.invoke(app, ["migrate", "--seed-regions"]).exit_code == 0
    result = runner.invoke(app, ["report", "--region", "411200", "--period", "2026-03"])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(tmp_path / "govhub-411200-2026-03.xlsx")
    assert "指标口径" in workbook.sheetnames
    with sqlite3.connect(tmp_path / "data" / "govhub.db") as connection:
        rows = connection.execute("SELECT operation, variables FROM audit_log").fetchall()
    assert [operation for operation, _ in rows] == ["report"]
    assert '"411200"' in rows[0][1]
    bad = runner.invoke(app, ["report", "--region", "411200", "--period", "March"])
    assert bad.exit_code == 2
    # a region that is no whole code, or none the region tree knows, is refused, not reported
    for region, says in (("4112", "whole code"), ("abc", "digits"), ("999999", "province"),
                         ("411299", "unknown region")):  # fmt: skip
        refused = runner.invoke(app, ["report", "--region", region, "--period", "2026-03"])
        assert refused.exit_code == 2, (region, refused.output)
        assert says in refused.output, (region, refused.output)
