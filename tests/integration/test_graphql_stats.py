"""Dashboard figures correct to the row: every grouping and KPI against plain Python over the
world's rows, on SQLite and PostgreSQL, with Beijing month ends, empty buckets, roll-up,
suppression and a partner's restricted view."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models.audit import AuditEntry
from domain.enums import CaseStatus, RecordKind, RegionLevel, RiskLevel, Role
from domain.roles import POLICIES
from domain.stats import TimeBucket, bucket_start, buckets_between, region_key
from domain.titles import redacted_title
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import codes, graphql, graphql_client
from tests.integration.stats_world import (
    BY_ID,
    REGIONS,
    ROWS,
    Row,
    expected_kpis,
    ratio,
    stats_world,
)

QUERY_STATS = """
query Stats($filter: RecordFilter, $groupBy: [StatDimension!], $level: RegionLevel! = COUNTY,
            $bucket: TimeBucket, $top: Int) {
  recordStats(filter: $filter, groupBy: $groupBy, regionLevel: $level, bucket: $bucket,
              top: $top) {
    key {
      kind source category status riskLevel regionCode
      region { code name level }
      period { bucket start end label }
    }
    count suppressed
  }
}
"""
QUERY_KPIS = """
query Kpis($filter: RecordFilter, $groupBy: [StatDimension!], $bucket: TimeBucket,
           $kpis: [KpiId!], $top: Int, $level: RegionLevel! = COUNTY) {
  recordKpis(filter: $filter, groupBy: $groupBy, bucket: $bucket, kpis: $kpis, top: $top,
             regionLevel: $level) {
    key { regionCode period { start } }
    figures { kpi numerator denominator value suppressed definition { name version scale } }
  }
}
"""
QUERY_RECORDS = "query { records(first: 5) { totalCount } }"
QUERY_RISKS = """
query Risks($level: RiskLevel! = RED, $filter: RecordFilter, $first: Int) {
  openRisks(level: $level, filter: $filter, first: $first) {
    kind status riskLevel regionCode title occurredAt region { name }
  }
}
"""
QUERY_RED_TITLES = "query { records(first: 50, filter: {riskLevel: [RED]}) { nodes { title } } }"
QUERY_DEFINITIONS = "query { kpiDefinitions { id name numerator denominator scale text } }"

LIVE = [row for row in ROWS if not row.deleted]


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine, pii_key: bytes) -> AsyncIterator[httpx.AsyncClient]:
    async with stats_world(engine), graphql_client(engine, pii_key, role=None) as client:
        yield client


async def _ask(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    role: Role = Role.ADMIN,
    regions: list[str] | None = None,
) -> dict[str, Any]:
    return await graphql(client, query, variables, headers=bearer(role, regions))


def _counts(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict[Any, int]:
    return {key(row["key"]): row["count"] for row in rows}


async def test_the_total_counts_every_live_record_and_nothing_withdrawn(
    client: httpx.AsyncClient,
) -> None:
    body = await _ask(client, QUERY_STATS)
    assert body["data"]["recordStats"] == [
        {
            "key": {"kind": None, "source": None, "category": None, "status": None,
                    "riskLevel": None, "regionCode": None, "region": None, "period": None},
            "count": len(LIVE),
            "suppressed": False,
        }
    ]  # fmt: skip


async def test_months_are_beijing_months_with_empty_ones_as_zero(
    client: httpx.AsyncClient,
) -> None:
    # given a range from December 2025 to June 2026 (Beijing), where December and June are empty
    variables = {
        "filter": {"occurredFrom": "2025-12-01T00:00:00+08:00",
                   "occurredTo": "2026-07-01T00:00:00+08:00"},
        "bucket": "MONTH",
    }  # fmt: skip
    body = await _ask(client, QUERY_STATS, variables)
    rows = body["data"]["recordStats"]
    expected = Counter(row.day.replace(day=1) for row in LIVE)
    months = list(buckets_between(date(2025, 12, 1), date(2026, 6, 30), TimeBucket.MONTH))
    assert [row["key"]["period"]["start"] for row in rows] == [m.isoformat() for m in months]
    assert _counts(rows, lambda k: k["period"]["start"]) == {
        m.isoformat(): expected.get(m, 0) for m in months
    }
    assert rows[0]["count"] == 0 and rows[-1]["count"] == 0
    assert rows[3]["key"]["period"] == {
        "bucket": "MONTH", "start": "2026-03-01", "end": "2026-04-01", "label": "2026-03"
    }  # fmt: skip
    # the 23:30 and 00:30 records either side of 1 April land in March and April
    assert BY_ID[1].day.month == 3 and BY_ID[2].day.month == 4


async def test_days_start_at_midnight_beijing_time(client: httpx.AsyncClient) -> None:
    variables = {
        "filter": {"occurredFrom": "2026-03-31T00:00:00+08:00",
                   "occurredTo": "2026-04-02T00:00:00+08:00", "kind": ["DISPUTE"]},
        "bucket": "DAY",
    }  # fmt: skip
    rows = (await _ask(client, QUERY_STATS, variables))["data"]["recordStats"]
    expected = Counter(
        r.day for r in LIVE
        if r.kind is RecordKind.DISPUTE and date(2026, 3, 31) <= r.day <= date(2026, 4, 1)
    )  # fmt: skip
    assert _counts(rows, lambda k: k["period"]["start"]) == {
        "2026-03-31": expected[date(2026, 3, 31)],
        "2026-04-01": expected[date(2026, 4, 1)],
    }
    assert expected[date(2026, 3, 31)] >= 1 and expected[date(2026, 4, 1)] >= 1


@pytest.mark.parametrize("bucket", list(TimeBucket))
async def test_every_bucket_against_python(client: httpx.AsyncClient, bucket: TimeBucket) -> None:
    body = await _ask(client, QUERY_STATS, {"bucket": bucket.value, "groupBy": ["KIND"]})
    got = {
        (row["key"]["kind"], row["key"]["period"]["start"]): row["count"]
        for row in body["data"]["recordStats"]
    }
    counted = Counter((r.kind.value, bucket_start(r.day, bucket).isoformat()) for r in LIVE)
    first, last = min(r.day for r in LIVE), max(r.day for r in LIVE)
    kinds = {r.kind.value for r in LIVE}
    expected = {
        (kind, start.isoformat()): counted.get((kind, start.isoformat()), 0)
        for kind in kinds
        for start in buckets_between(first, last, bucket)
    }
    assert got == expected


@pytest.mark.parametrize("level", ["PROVINCE", "CITY", "COUNTY", "TOWNSHIP", "VILLAGE", "GRID"])
async def test_regions_roll_up_from_finer_codes(client: httpx.AsyncClient, level: str) -> None:
    body = await _ask(client, QUERY_STATS, {"groupBy": ["REGION"], "level": level})
    rows = body["data"]["recordStats"]
    expected = Counter(region_key(r.region, RegionLevel(level)) for r in LIVE)
    assert _counts(rows, lambda k: k["regionCode"]) == dict(expected)
    names = {code: name for code, name, *_ in REGIONS}
    for row in rows:
        region = row["key"]["region"]
        code = row["key"]["regionCode"]
        assert (region and region["name"]) == names.get(code or "")


async def test_grouping_by_several_dimensions(client: httpx.AsyncClient) -> None:
    body = await _ask(client, QUERY_STATS, {"groupBy": ["KIND", "RISK_LEVEL", "STATUS"]})
    got = {
        (k["kind"], k["riskLevel"], k["status"]): count
        for k, count in ((row["key"], row["count"]) for row in body["data"]["recordStats"])
    }
    assert got == dict(Counter((r.kind.value, r.risk.value, r.status.value) for r in LIVE))


async def test_top_ranks_regions_by_count(client: httpx.AsyncClient) -> None:
    body = await _ask(client, QUERY_STATS, {"groupBy": ["REGION"], "level": "TOWNSHIP", "top": 2})
    counted = Counter(region_key(r.region, RegionLevel.TOWNSHIP) for r in LIVE)
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0] or ""))[:2]
    assert [(row["key"]["regionCode"], row["count"]) for row in body["data"]["recordStats"]] == (
        ranked
    )


def _in_scope(row: Row, role: Role, regions: list[str]) -> bool:
    prefixes = tuple(code.removesuffix("00") for code in regions)  # 411200 → 4112 (a city)
    return (
        row.kind in POLICIES[role].kinds
        and row.region is not None
        and row.region.startswith(prefixes)
    )


async def test_a_partner_counts_only_its_kinds_inside_its_jurisdiction(
    client: httpx.AsyncClient,
) -> None:
    role, regions = Role.PARTNER_COURT, ["411202"]
    body = await _ask(client, QUERY_STATS, {"groupBy": ["KIND"]}, role=role, regions=regions)
    expected = Counter(r.kind.value for r in LIVE if _in_scope(r, role, regions))
    assert _counts(body["data"]["recordStats"], lambda k: k["kind"]) == dict(expected)
    assert RecordKind.POLICE_ALERT.value not in expected  # the court reads no 110 alerts


async def test_a_dashboard_sees_figures_not_records_and_small_cells_are_hidden(
    client: httpx.AsyncClient,
) -> None:
    role, regions = Role.DASHBOARD_VIEWER, ["411200"]
    records = await _ask(client, QUERY_RECORDS, role=role, regions=regions)
    assert codes(records) == ["FORBIDDEN"] and records["data"] is None
    variables = {"groupBy": ["REGION", "KIND"], "level": "TOWNSHIP"}
    body = await _ask(client, QUERY_STATS, variables, role=role, regions=regions)
    expected = Counter(
        (region_key(r.region, RegionLevel.TOWNSHIP), r.kind.value)
        for r in LIVE
        if _in_scope(r, role, regions)
    )
    got = {
        (row["key"]["regionCode"], row["key"]["kind"]): (row["count"], row["suppressed"])
        for row in body["data"]["recordStats"]
    }
    assert got == {
        key: (None, True) if 0 < count < 5 else (count, False) for key, count in expected.items()
    }
    # the world has cells on both sides of the line
    assert any(count < 5 for count in expected.values())
    assert any(count >= 5 for count in expected.values())
    # staff, who read parties, see the same cells in full
    staff = await _ask(client, QUERY_STATS, variables, role=Role.CENTER_STAFF, regions=regions)
    assert {
        (row["key"]["regionCode"], row["key"]["kind"]): row["count"]
        for row in staff["data"]["recordStats"]
    } == dict(expected)


FINISHED = {CaseStatus.RESOLVED, CaseStatus.FAILED, CaseStatus.CLOSED, CaseStatus.REVISITED,
            CaseStatus.WITHDRAWN}  # fmt: skip


def _open_red(role: Role, regions: list[str], first: int) -> list[Row]:
    return sorted(
        (r for r in LIVE
         if r.risk is RiskLevel.RED and r.status not in FINISHED and _in_scope(r, role, regions)),
        key=lambda r: (r.occurred_at, r.id),
        reverse=True,
    )[:first]  # fmt: skip


async def test_the_open_red_list_for_a_dashboard(client: httpx.AsyncClient) -> None:
    role, regions = Role.DASHBOARD_VIEWER, ["411200"]
    body = await _ask(client, QUERY_RISKS, {"first": 20}, role=role, regions=regions)
    expected = _open_red(role, regions, 20)
    listed = body["data"]["openRisks"]
    # the source's title names parties or the address: a dashboard gets category and place
    names = {code: name for code, name, *_ in REGIONS}
    assert [item["title"] for item in listed] == [
        redacted_title(r.category, names[r.region]) for r in expected if r.region is not None
    ]
    assert {item["riskLevel"] for item in listed} == {"RED"} and len(listed) >= 3
    # no more than the role's page size
    too_many = await _ask(client, QUERY_RISKS, {"first": 50}, role=role, regions=regions)
    assert codes(too_many) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("role", [Role.DASHBOARD_VIEWER, Role.PARTNER_JUDICIAL])
async def test_the_open_risk_list_shows_a_title_only_where_the_record_would(
    client: httpx.AsyncClient, role: Role
) -> None:
    regions = ["411200"]
    staff = await _ask(client, QUERY_RISKS, {"first": 20}, role=Role.CENTER_STAFF, regions=regions)
    assert [item["title"] for item in staff["data"]["openRisks"]] == [
        f"记录{r.id}" for r in _open_red(Role.CENTER_STAFF, regions, 20)
    ]
    body = await _ask(client, QUERY_RISKS, {"first": 20}, role=role, regions=regions)
    listed = body["data"]["openRisks"]
    assert listed and not any(item["title"].startswith("记录") for item in listed)
    if POLICIES[role].records:  # the same title the record itself shows this role
        shown = await _ask(client, QUERY_RED_TITLES, role=role, regions=regions)
        assert {item["title"] for item in listed} <= {
            node["title"] for node in shown["data"]["records"]["nodes"]
        }


async def test_the_auditor_reads_no_figures(client: httpx.AsyncClient) -> None:
    body = await _ask(client, QUERY_STATS, role=Role.AUDITOR)
    assert codes(body) == ["FORBIDDEN"] and body["data"] is None


def _figures(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (row,) = body["data"]["recordKpis"]
    return {
        f["kpi"]: {k: f[k] for k in ("numerator", "denominator", "value")} for f in row["figures"]
    }


async def test_kpis_for_a_county_against_python(client: httpx.AsyncClient) -> None:
    body = await _ask(client, QUERY_KPIS, {"filter": {"region": "411202"}})
    rows = [r for r in LIVE if r.region and r.region.startswith("411202")]
    expected = expected_kpis(rows, 337_058)
    assert _figures(body) == expected
    # the world exercises every KPI: none is 0 ÷ 0
    assert all(figure["denominator"] for figure in expected.values())
    assert all(figure["numerator"] for figure in expected.values())


async def test_kpis_by_region_add_up_as_sums_of_parts(client: httpx.AsyncClient) -> None:
    body = await _ask(
        client, QUERY_KPIS, {"groupBy": ["REGION"], "kpis": ["MEDIATION_SUCCESS_RATE"]}
    )
    by_region = {row["key"]["regionCode"]: row["figures"][0] for row in body["data"]["recordKpis"]}
    total = _figures(await _ask(client, QUERY_KPIS, {"kpis": ["MEDIATION_SUCCESS_RATE"]}))
    numerators = sum(f["numerator"] for f in by_region.values())
    denominators = sum(f["denominator"] for f in by_region.values())
    assert total["MEDIATION_SUCCESS_RATE"] == ratio(numerators, denominators)


async def test_regions_ranked_by_rate(client: httpx.AsyncClient) -> None:
    body = await _ask(
        client,
        QUERY_KPIS,
        {"groupBy": ["REGION"], "kpis": ["MEDIATION_SUCCESS_RATE"], "top": 2, "level": "TOWNSHIP"},
    )
    by_region: dict[str | None, list[Row]] = {}
    for row in LIVE:
        by_region.setdefault(region_key(row.region, RegionLevel.TOWNSHIP), []).append(row)
    rates = {
        code: expected_kpis(rows, None)["MEDIATION_SUCCESS_RATE"]
        for code, rows in by_region.items()
    }
    ranked = sorted(
        (item for item in rates.items() if item[1]["value"] is not None),
        key=lambda item: -item[1]["value"],
    )[:2]
    got = [
        (row["key"]["regionCode"], row["figures"][0]["value"]) for row in body["data"]["recordKpis"]
    ]
    assert got == [(code, rate["value"]) for code, rate in ranked]
    assert len(got) == 2 and got[0][1] > got[1][1]


async def test_kpi_definitions_name_numerator_and_denominator(client: httpx.AsyncClient) -> None:
    body = await _ask(client, QUERY_DEFINITIONS, role=Role.DASHBOARD_VIEWER, regions=["411200"])
    definitions = {d["id"]: d for d in body["data"]["kpiDefinitions"]}
    assert definitions["LITIGATION_PER_10K"]["scale"] == 10_000
    assert definitions["MEDIATION_SUCCESS_RATE"]["name"] == "调解成功率"
    assert all(d["numerator"] and d["denominator"] and "÷" in d["text"]
               for d in definitions.values())  # fmt: skip


async def test_figures_are_audited(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await _ask(client, QUERY_STATS, role=Role.DASHBOARD_VIEWER, regions=["411200"])
    async with engine.connect() as connection:
        last = (
            await connection.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        ).one()
    assert (last.role, last.operation, last.outcome) == ("dashboard_viewer", "Stats", "OK")


QUERY_DASHBOARD = """
query Dashboard($filter: RecordFilter!) {
  kpis: recordKpis(filter: $filter) { figures { kpi numerator denominator value } }
  trend: recordStats(filter: $filter, bucket: MONTH) { key { period { start } } count }
  weeks: recordStats(filter: $filter, bucket: WEEK, groupBy: [KIND]) {
    key { kind period { start } } count
  }
  byTownship: recordStats(filter: $filter, groupBy: [REGION], regionLevel: TOWNSHIP) {
    key { regionCode } count
  }
  byCounty: recordKpis(filter: $filter, groupBy: [REGION], kpis: [LITIGATION_PER_10K]) {
    key { regionCode } figures { numerator denominator value }
  }
  byCategory: recordStats(filter: $filter, groupBy: [CATEGORY, RISK_LEVEL]) {
    key { category riskLevel } count
  }
  total: recordStats(filter: $filter) { count }
  top: recordStats(filter: $filter, groupBy: [STATUS], top: 3) { key { status } count }
}
"""


async def test_a_dashboard_in_one_operation_equals_its_figures_one_by_one(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given a dashboard's figures over one region and period in one operation
    variables = {
        "filter": {"region": "411200", "occurredFrom": "2026-01-01T00:00:00+08:00",
                   "occurredTo": "2026-06-01T00:00:00+08:00"},
    }  # fmt: skip
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        together = await _ask(client, QUERY_DASHBOARD, variables)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert "errors" not in together, together
    # then they are counted from the figures summaries (whole Beijing months: the monthly one,
    # except weeks, townships, risk and status: the finest one): on PostgreSQL in one scan
    # (GROUPING SETS) of each, one statement each elsewhere; the records are read only for the
    # few the links name (the linked KPIs' numerators) — and the figures are those each field
    # gives when asked alone
    scans = [s for s in statements if "FROM record_figures" in s and "GROUP BY" in s]
    if engine.dialect.name == "postgresql":
        assert len(scans) == 2 and all("GROUPING SETS" in scan for scan in scans)
        assert sum("FROM record_figures_monthly" in scan for scan in scans) == 1
    else:
        assert len(scans) == 6  # ``kpis`` and ``total`` group by nothing
    assert not [s for s in statements if "FROM records" in s and "GROUP BY" in s]
    document = QUERY_DASHBOARD.split("{", 1)[1].rsplit("}", 1)[0]
    for alias in ("kpis", "trend", "weeks", "byTownship", "byCounty", "byCategory", "total",
                  "top"):  # fmt: skip
        alone = await _ask(
            client,
            "query($filter: RecordFilter!) { " + _field(document, alias) + " }",
            variables,
        )
        assert alone["data"][alias] == together["data"][alias], alias
    trend = Counter(
        r.day.replace(day=1) for r in LIVE
        if _in_scope(r, Role.ADMIN, ["411200"]) and date(2026, 1, 1) <= r.day < date(2026, 6, 1)
    )  # fmt: skip
    assert [row["count"] for row in together["data"]["trend"]] == [
        trend.get(date(2026, month, 1), 0) for month in range(1, 6)
    ]


def _field(document: str, alias: str) -> str:
    """One aliased field of the document, braces balanced."""
    start = document.index(f"{alias}:")
    depth, position = 0, document.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(document[position], 0)
        position += 1
        if depth == 0:
            return document[start:position]


QUERY_LITIGATION_BY_REGION = """
query($filter: RecordFilter!) {
  recordKpis(filter: $filter, groupBy: [REGION], kpis: [LITIGATION_PER_10K]) {
    key { regionCode } figures { numerator denominator }
  }
}
"""


async def test_litigation_per_10k_by_region_has_a_row_for_every_region_with_people(
    client: httpx.AsyncClient,
) -> None:
    # a month with no record at all: each county of the filter still has its population
    empty = {"region": "411200", "occurredFrom": "2020-01-01T00:00:00+08:00",
             "occurredTo": "2020-02-01T00:00:00+08:00"}  # fmt: skip
    body = await _ask(client, QUERY_LITIGATION_BY_REGION, {"filter": empty})
    rows = {r["key"]["regionCode"]: r["figures"][0] for r in body["data"]["recordKpis"]}
    assert rows == {
        "411202": {"numerator": 0, "denominator": 337_058},
        "411221": {"numerator": 0, "denominator": 317_221},
    }
    # within a county's jurisdiction, only that county
    body = await _ask(client, QUERY_LITIGATION_BY_REGION, {"filter": {**empty, "region": None}},
                      role=Role.CENTER_STAFF, regions=["411202"])
    assert [r["key"]["regionCode"] for r in body["data"]["recordKpis"]] == ["411202"]
    # a role that reads no placed record gets no region rows made up for it
    body = await _ask(client, QUERY_LITIGATION_BY_REGION, {"filter": empty},
                      role=Role.DASHBOARD_VIEWER, regions=[])
    assert body["data"]["recordKpis"] == [], body
    # over the whole period the counted counties keep their figures, and none is left out
    whole = await _ask(client, QUERY_LITIGATION_BY_REGION, {"filter": {"region": "411200"}})
    counted = {r["key"]["regionCode"] for r in whole["data"]["recordKpis"]}
    assert {"411202", "411221"} <= counted


async def test_litigation_per_10k_counts_the_people_of_the_jurisdiction_only(
    client: httpx.AsyncClient,
) -> None:
    # given a county's staff, whose figures count that county's filings alone
    county = [r for r in LIVE if r.region and r.region.startswith("411202")]
    expected = expected_kpis(county, 337_058)["LITIGATION_PER_10K"]
    assert expected["numerator"]
    # when they ask for their city, or group by city or province
    for variables in (
        {"filter": {"region": "411200"}},
        {"groupBy": ["REGION"], "level": "CITY"},
        {"groupBy": ["REGION"], "level": "PROVINCE"},
    ):
        body = await _ask(client, QUERY_KPIS, {**variables, "kpis": ["LITIGATION_PER_10K"]},
                          role=Role.CENTER_STAFF, regions=["411202"])  # fmt: skip
        # then the filings are divided by the county's people, not the city's or province's
        assert _figures(body)["LITIGATION_PER_10K"] == expected, variables
    # and another county, wholly outside, has no people within reach: no rate, not 0
    body = await _ask(client, QUERY_KPIS,
                      {"filter": {"region": "411221"}, "kpis": ["LITIGATION_PER_10K"]},
                      role=Role.CENTER_STAFF, regions=["411202"])  # fmt: skip
    assert _figures(body)["LITIGATION_PER_10K"] == {
        "numerator": 0, "denominator": None, "value": None
    }  # fmt: skip


async def test_litigation_per_10k_of_a_township_rolled_up_to_its_county_keeps_its_people(
    client: httpx.AsyncClient,
) -> None:
    # given a township's figures, asked for by region at the county level
    township = [r for r in LIVE if r.region and r.region.startswith("411202001")]
    expected = expected_kpis(township, 52_000)["LITIGATION_PER_10K"]
    body = await _ask(client, QUERY_KPIS, {"filter": {"region": "411202001"},
                                           "groupBy": ["REGION"], "kpis": ["LITIGATION_PER_10K"]})
    (row,) = body["data"]["recordKpis"]
    # then the county's row counts the township's filings over the township's people, as the
    # same figures do ungrouped, not over the whole county's
    assert row["key"]["regionCode"] == "411202"
    assert {k: row["figures"][0][k] for k in expected} == expected
    assert _figures(await _ask(client, QUERY_KPIS, {"filter": {"region": "411202001"},
                                                    "kpis": ["LITIGATION_PER_10K"]}))[
        "LITIGATION_PER_10K"
    ] == expected


async def test_litigation_per_10k_counts_a_region_named_twice_in_a_jurisdiction_once(
    client: httpx.AsyncClient,
) -> None:
    # given a token naming a city and one of its counties, whose people are the city's
    city = [r for r in LIVE if r.region and r.region.startswith("4112")]
    expected = expected_kpis(city, 2_034_872)["LITIGATION_PER_10K"]
    body = await _ask(client, QUERY_KPIS, {"kpis": ["LITIGATION_PER_10K"]},
                      role=Role.CENTER_STAFF, regions=["411200", "411202"])  # fmt: skip
    # then the county's people are not added to the city's a second time
    assert _figures(body)["LITIGATION_PER_10K"] == expected


def _county_rows(day: date) -> list[Row]:
    """The records of county 411202 on ``day`` (Beijing), the county's own included."""
    return [r for r in LIVE if r.region and r.region.startswith("411202") and r.day == day]


def _county_day(day: date) -> dict[str, str]:
    """A filter for county 411202 on ``day``."""
    return {"region": "411202", "occurredFrom": day.isoformat(),
            "occurredTo": date.fromordinal(day.toordinal() + 1).isoformat()}


async def test_litigation_per_10k_shows_no_zero_township_beneath_a_counted_county(
    client: httpx.AsyncClient,
) -> None:
    # given a day with records placed at the county itself (as courts place their filings)
    # and none placed in the township 411202002
    day = next(
        day for day in sorted({r.day for r in LIVE})
        if any(r.region == "411202" for r in _county_rows(day))
        and any((r.region or "").startswith("411202001") for r in _county_rows(day))
        and not any((r.region or "").startswith("411202002") for r in _county_rows(day))
    )  # fmt: skip
    filter_ = _county_day(day)
    body = await _ask(client, QUERY_KPIS, {"filter": filter_, "groupBy": ["REGION"],
                                           "level": "TOWNSHIP", "kpis": ["LITIGATION_PER_10K"]})
    rows = {r["key"]["regionCode"]: r["figures"][0] for r in body["data"]["recordKpis"]}
    # then that township is not shown with 0 filings per 10,000: its filings may be among the
    # county's; the rows are those that counted records
    counted = {region_key(r.region, RegionLevel.TOWNSHIP) for r in _county_rows(day)}
    assert set(rows) == counted and "411202002" not in rows


async def test_litigation_per_10k_by_township_beneath_a_counted_county_adds_up_to_the_county(
    client: httpx.AsyncClient,
) -> None:
    # given a day with records placed at the county itself (as courts place their filings)
    # and others placed in its township 411202001
    day = next(
        day for day in sorted({r.day for r in LIVE})
        if any(r.region == "411202" for r in _county_rows(day))
        and any((r.region or "").startswith("411202001") for r in _county_rows(day))
    )  # fmt: skip
    filter_ = _county_day(day)
    # when its figures are asked for by township
    body = await _ask(client, QUERY_KPIS, {"filter": filter_, "groupBy": ["REGION"],
                                           "level": "TOWNSHIP", "kpis": ["LITIGATION_PER_10K"]})
    rows = {r["key"]["regionCode"]: r["figures"][0] for r in body["data"]["recordKpis"]}
    # then the rows add up to the county's figure (numerators and denominators summed): the
    # township keeps its own people and the county's row has the rest, not the county's people
    # a second time
    whole = _figures(await _ask(client, QUERY_KPIS, {"filter": filter_,
                                                     "kpis": ["LITIGATION_PER_10K"]}))
    county = whole["LITIGATION_PER_10K"]
    assert county["denominator"] == 337_058
    assert rows["411202001"]["denominator"] == 52_000
    assert sum(row["numerator"] for row in rows.values()) == county["numerator"]
    assert sum(row["denominator"] for row in rows.values()) == 337_058
