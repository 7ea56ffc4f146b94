"""``monthlyReport``: the monthly review (月研判报表) downloaded over GraphQL — a workbook
openpyxl opens, counting only what the caller may see (its jurisdiction, its role's small
cells left empty where the figures queries answer null), refused outside the jurisdiction and
to a role without figures, audited like every read."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import AsyncIterator
from io import BytesIO
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models.audit import AuditEntry
from db.report import SUPPRESSED
from domain.enums import LABELS, RecordKind, Role
from domain.kinds import KIND_SPECS
from domain.roles import POLICIES
from domain.stats import KPI_DEFINITIONS, RECORD_KPIS
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import codes, graphql, graphql_client
from tests.integration.stats_world import ROWS, expected_kpis, stats_world

QUERY_REPORT = """
query Report($period: String!, $region: String, $level: RegionLevel! = COUNTY) {
  monthlyReport(period: $period, region: $region, level: $level) {
    filename contentType sheets contentBase64
  }
}
"""
QUERY_STATS = """
query Stats($filter: RecordFilter, $groupBy: [StatDimension!]) {
  recordStats(filter: $filter, groupBy: $groupBy) { key { kind category } count suppressed }
}
"""
QUERY_KPIS = """
query Kpis($filter: RecordFilter) {
  recordKpis(filter: $filter) { figures { kpi numerator denominator suppressed } }
}
"""

SHEETS = ["指标", "按区划", "按类别", "按类型", "风险等级", "趋势", "指标口径"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MARCH_IN_HUBIN = {
    "region": "411202",
    "occurredFrom": "2026-03-01T00:00:00+08:00",
    "occurredTo": "2026-04-01T00:00:00+08:00",
}
IN_MARCH = [
    r for r in ROWS
    if not r.deleted and r.region and r.region.startswith("411202")
    and r.beijing.year == 2026 and r.beijing.month == 3
]  # fmt: skip


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine, pii_key: bytes) -> AsyncIterator[httpx.AsyncClient]:
    async with stats_world(engine), graphql_client(engine, pii_key, role=None) as client:
        yield client


async def _report(
    client: httpx.AsyncClient, role: Role, regions: list[str], **variables: Any
) -> dict[str, Any]:
    return await graphql(client, QUERY_REPORT, variables, headers=bearer(role, regions))


def _sheet(answer: dict[str, Any], title: str) -> tuple[list[Any], dict[Any, tuple[Any, ...]]]:
    """A sheet of the downloaded workbook: its header, and its rows by their first cell."""
    report = answer["data"]["monthlyReport"]
    workbook = load_workbook(BytesIO(base64.b64decode(report["contentBase64"])))
    header, *rows = [tuple(cell.value for cell in row) for row in workbook[title].iter_rows()]
    return list(header), {row[0]: row[1:] for row in rows}


def _rows(answer: dict[str, Any], title: str) -> dict[Any, tuple[Any, ...]]:
    return _sheet(answer, title)[1]


def _note(header: list[Any], cells: tuple[Any, ...]) -> Any:
    """A row's 备注: the last column, which only a sheet with a hidden cell has."""
    return cells[-1] if header[-1] == "备注" else None


async def test_county_staff_download_their_countys_workbook(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given centre staff of 湖滨区, when they ask for March without naming a region
    body = await _report(client, Role.CENTER_STAFF, ["411202"], period="2026-03")
    # then the workbook is their county's, named after it and the period
    report = body["data"]["monthlyReport"]
    assert report["filename"] == "月研判-411202-2026-03.xlsx"
    assert (report["contentType"], report["sheets"]) == (XLSX, SHEETS)
    workbook = load_workbook(BytesIO(base64.b64decode(report["contentBase64"])))
    assert workbook.sheetnames == SHEETS
    # counting only the county's records (渑池县 and 锦江区 have March records too)
    kinds = POLICIES[Role.CENTER_STAFF].kinds
    counted = Counter(KIND_SPECS[r.kind].label for r in IN_MARCH if r.kind in kinds)
    assert {name: cells[0] for name, cells in _rows(body, "按类型").items()} == dict(counted)
    assert all(code.startswith("411202") for code in _rows(body, "按区划"))
    others = [r for r in ROWS if not r.deleted and r.region in ("411221", "510104")
              and r.beijing.month == 3]  # fmt: skip
    assert others, "the world has March records outside 湖滨区"
    expected = expected_kpis(IN_MARCH, 337_058)
    kpi_rows = _rows(body, "指标")
    for kpi in RECORD_KPIS:
        numerator, denominator, *_ = kpi_rows[KPI_DEFINITIONS[kpi].name]
        assert (numerator, denominator) == (
            expected[kpi.value]["numerator"],
            expected[kpi.value]["denominator"],
        )
    # and the download is on the audit log, as every operation is
    async with engine.connect() as connection:
        last = (
            await connection.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        ).one()
    assert (last.role, last.operation, last.outcome) == ("center_staff", "Report", "OK")


async def test_a_city_token_reports_on_its_city_and_names_a_county_within_it(
    client: httpx.AsyncClient,
) -> None:
    city = await _report(client, Role.CENTER_STAFF, ["411200"], period="2026-Q1")
    assert city["data"]["monthlyReport"]["filename"] == "月研判-411200-2026-Q1.xlsx"
    # a token naming the city and one of its counties names one region: the city
    both = await _report(client, Role.CENTER_STAFF, ["411200", "411202"], period="2026-Q1")
    assert both["data"]["monthlyReport"]["filename"] == "月研判-411200-2026-Q1.xlsx"
    county = await _report(client, Role.CENTER_STAFF, ["411200"], period="2026", region="411221")
    assert county["data"]["monthlyReport"]["filename"] == "月研判-411221-2026.xlsx"
    assert all(code.startswith("411221") for code in _rows(county, "按区划"))


async def test_a_region_outside_the_jurisdiction_is_forbidden(client: httpx.AsyncClient) -> None:
    # another county, and the city that holds the caller's county, are not the caller's
    for region in ("411221", "411200", "510104"):
        body = await _report(client, Role.CENTER_STAFF, ["411202"], period="2026-03",
                             region=region)  # fmt: skip
        assert codes(body) == ["FORBIDDEN"], region
        assert body["data"] is None
        assert "outside" in body["errors"][0]["message"]


async def test_a_role_without_figures_is_forbidden(client: httpx.AsyncClient) -> None:
    assert not POLICIES[Role.AUDITOR].kinds  # the auditor reads no figures
    body = await _report(client, Role.AUDITOR, ["411202"], period="2026-03")
    assert codes(body) == ["FORBIDDEN"] and body["data"] is None


@pytest.mark.parametrize(
    ("variables", "says"),
    [
        ({"period": "2026-13"}, "not a period"),
        ({"period": "March"}, "not a period"),
        ({"period": "9999-12"}, "period"),
        ({"period": "2026-03", "region": "4112"}, "whole code"),
        ({"period": "2026-03", "region": "abc"}, "region"),
    ],
)
async def test_a_bad_period_or_region_is_bad_user_input(
    client: httpx.AsyncClient, variables: dict[str, Any], says: str
) -> None:
    body = await _report(client, Role.CENTER_STAFF, ["411202"], **variables)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert says in body["errors"][0]["message"]


async def test_a_jurisdiction_of_several_regions_must_name_one(
    client: httpx.AsyncClient,
) -> None:
    body = await _report(client, Role.CENTER_STAFF, ["411202", "411221"], period="2026-03")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "name the one" in body["errors"][0]["message"]
    named = await _report(client, Role.CENTER_STAFF, ["411202", "411221"], period="2026-03",
                          region="411221")  # fmt: skip
    assert named["data"]["monthlyReport"]["filename"] == "月研判-411221-2026-03.xlsx"


async def test_a_jurisdiction_of_no_region_has_none_to_report_on(
    client: httpx.AsyncClient,
) -> None:
    body = await _report(client, Role.CENTER_STAFF, [], period="2026-03")
    assert codes(body) == ["FORBIDDEN"] and body["data"] is None
    assert "holds no region" in body["errors"][0]["message"]


def _label(kind: str | None, category: str | None) -> str:
    if kind is not None:
        return KIND_SPECS[RecordKind(kind)].label
    assert category is not None
    return LABELS[category]


async def test_a_dashboards_small_cells_are_empty_where_its_figures_are_null(
    client: httpx.AsyncClient,
) -> None:
    # given a county dashboard, whose counts from 1 to 4 the figures queries answer null
    role, regions = Role.DASHBOARD_VIEWER, ["411202"]
    headers = bearer(role, regions)
    body = await _report(client, role, regions, period="2026-03")
    hidden = 0
    for title, dimension in (("按类别", "CATEGORY"), ("按类型", "KIND")):
        variables = {"filter": MARCH_IN_HUBIN, "groupBy": [dimension]}
        stats = await graphql(client, QUERY_STATS, variables, headers=headers)
        header, sheet = _sheet(body, title)
        groups = stats["data"]["recordStats"]
        assert set(sheet) == {_label(g["key"]["kind"], g["key"]["category"]) for g in groups}
        for row in groups:
            cells = sheet[_label(row["key"]["kind"], row["key"]["category"])]
            count, note = cells[0], _note(header, cells)
            # then the workbook leaves the cell empty where the query gives null, and says so
            assert count == row["count"], (title, row)
            assert (note == SUPPRESSED) is row["suppressed"], (title, row)
            hidden += row["suppressed"]
    kpis = await graphql(client, QUERY_KPIS, {"filter": MARCH_IN_HUBIN}, headers=headers)
    header, kpi_rows = _sheet(body, "指标")
    for figure in kpis["data"]["recordKpis"][0]["figures"]:
        cells = kpi_rows[KPI_DEFINITIONS[figure["kpi"]].name]
        numerator, denominator, value = cells[:3]
        note = _note(header, cells)
        assert (numerator, denominator) == (figure["numerator"], figure["denominator"])
        if figure["suppressed"]:
            assert (value, note) == (None, SUPPRESSED)
        hidden += figure["suppressed"]
    assert hidden, "the world has small cells in 湖滨区's March"
    definitions = _rows(body, "指标口径")
    assert definitions["SMALL_CELL"][0] == SUPPRESSED
    # staff, who read parties, get every count of the same cells
    staff = await _report(client, Role.CENTER_STAFF, regions, period="2026-03")
    assert not any(SUPPRESSED in row for row in _rows(staff, "按类型").values())
    assert "SMALL_CELL" not in _rows(staff, "指标口径")
