"""Matter figures correct to the row: every matter KPI, grouping and the overdue list against
plain Python over the world's matters, on SQLite and PostgreSQL, with closures either side of
a Beijing month end, open overdue matters counting against 按期办结率, empty buckets,
suppression, a partner's restricted view and a dashboard that reads figures but no matter."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models.audit import AuditEntry
from domain.enums import Role
from tests.integration.auth_support import token
from tests.integration.graphql_world import codes, graphql, graphql_client
from tests.integration.matter_stats_world import (
    MATTER_KPIS,
    MATTERS,
    PARTNER_ORG,
    M,
    expected,
    expected_durations,
    first_overdue_handling,
    seed_matter_world,
    utc,
)
from tests.integration.security_world import wipe

QUERY_KPIS = """
query MatterKpis($filter: MatterFilter, $groupBy: [MatterDimension!], $bucket: TimeBucket,
                 $kpis: [KpiId!], $since: DateTime, $until: DateTime, $top: Int,
                 $level: RegionLevel! = COUNTY) {
  matterKpis(filter: $filter, groupBy: $groupBy, bucket: $bucket, kpis: $kpis, since: $since,
             until: $until, top: $top, regionLevel: $level) {
    key { regionCode track period { start label } }
    figures { kpi numerator denominator value suppressed definition { name version subject } }
    duration { count p50Hours p90Hours suppressed version }
  }
}
"""
QUERY_STATS = """
query MatterStats($filter: MatterFilter, $groupBy: [MatterDimension!], $bucket: TimeBucket,
                  $since: DateTime, $until: DateTime, $dateBy: MatterDateBasis! = OPENED,
                  $top: Int, $level: RegionLevel! = COUNTY) {
  matterStats(filter: $filter, groupBy: $groupBy, bucket: $bucket, since: $since,
              until: $until, dateBy: $dateBy, top: $top, regionLevel: $level) {
    key { step status category riskLevel origin track regionCode region { name }
          period { start } }
    count suppressed
  }
}
"""
QUERY_OVERDUE = """
query Overdue($filter: MatterFilter, $first: Int) {
  overdueMatters(filter: $filter, first: $first) {
    number category step riskLevel regionCode overdueSince
  }
}
"""
QUERY_MATTERS = "query { matters(first: 5) { totalCount } }"


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine, pii_key: bytes) -> AsyncIterator[httpx.AsyncClient]:
    await wipe(engine)
    await seed_matter_world(engine)
    async with graphql_client(engine, pii_key, role=None) as client:
        yield client
    await wipe(engine)


def _auth(
    role: Role = Role.ADMIN, regions: list[str] | None = None, **claims: Any
) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, regions, sub=f'{role}-1', **claims)}"}


async def _ask(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = await graphql(client, query, variables, headers=headers or _auth())
    assert "errors" not in body, body
    return body["data"]


def _now() -> datetime:
    return datetime.now(UTC)


def _figures(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f["kpi"]: {k: f[k] for k in ("numerator", "denominator", "value")} for f in row["figures"]
    }


def _in(region: str | None, prefix: str) -> bool:
    return region is not None and region.startswith(prefix)


def _county(region: str | None) -> str | None:
    return region[:6] if region else None


async def test_every_matter_kpi_over_everything_equals_plain_python(
    client: httpx.AsyncClient,
) -> None:
    data = await _ask(client, QUERY_KPIS)
    (row,) = data["matterKpis"]
    now = _now()
    assert _figures(row) == {kpi: expected(MATTERS, kpi, now) for kpi in MATTER_KPIS}
    assert {f["definition"]["subject"] for f in row["figures"]} == {"MATTERS"}
    count, p50, p90 = expected_durations(MATTERS)
    assert row["duration"]["count"] == count
    assert row["duration"]["p50Hours"] == pytest.approx(p50, rel=1e-9)
    assert row["duration"]["p90Hours"] == pytest.approx(p90, rel=1e-9)


async def test_closures_at_2330_and_0030_beijing_fall_in_march_and_april(
    client: httpx.AsyncClient,
) -> None:
    # given months from January to August (Beijing); nothing closes or falls due in August
    variables = {"bucket": "MONTH", "since": "2026-01-01", "until": "2026-09-01"}
    rows = (await _ask(client, QUERY_KPIS, variables))["matterKpis"]
    now = _now()
    months = [date(2026, m, 1) for m in range(1, 9)]
    assert [row["key"]["period"]["start"] for row in rows] == [m.isoformat() for m in months]
    for row, start in zip(rows, months, strict=True):
        end = date(2026, start.month + 1, 1)
        assert _figures(row) == {kpi: expected(MATTERS, kpi, now, start, end)
                                 for kpi in MATTER_KPIS}, start  # fmt: skip
    # the matter closed at 23:30 on 31 March (on time) counts in March, the one closed at
    # 00:30 on 1 April (late) in April, though both closed on 31 March UTC
    edge_1, edge_2 = MATTERS[0], MATTERS[1]
    assert utc(edge_1.closed).date() == utc(edge_2.closed).date() == date(2026, 3, 31)  # type: ignore[arg-type]
    march = [m for m in MATTERS if m.id != 1]
    april = [m for m in MATTERS if m.id != 2]
    assert _figures(rows[2])["ON_TIME_CLOSURE_RATE"]["numerator"] == (
        expected(march, "ON_TIME_CLOSURE_RATE", now, months[2], months[3])["numerator"] + 1
    )
    assert _figures(rows[3])["ON_TIME_CLOSURE_RATE"]["denominator"] == (
        expected(april, "ON_TIME_CLOSURE_RATE", now, months[3], months[4])["denominator"] + 1
    )
    assert (
        _figures(rows[3])["ON_TIME_CLOSURE_RATE"]["numerator"]
        == (expected(april, "ON_TIME_CLOSURE_RATE", now, months[3], months[4])["numerator"])
    )
    # an empty month is there, all zeros, no value
    august = rows[7]["figures"]
    assert all(f["numerator"] == f["denominator"] == 0 and f["value"] is None for f in august)


async def test_an_open_overdue_matter_counts_against_on_time_closure(
    client: httpx.AsyncClient,
) -> None:
    # given matter 3, open with its handling clock overdue since 15 March, in 湖滨区
    overdue = MATTERS[2]
    assert overdue.closed is None and first_overdue_handling(overdue, _now()) is not None
    variables = {"kpis": ["ON_TIME_CLOSURE_RATE"], "since": "2026-03-15",
                 "until": "2026-03-16", "filter": {"region": "411202"}}  # fmt: skip
    (row,) = (await _ask(client, QUERY_KPIS, variables))["matterKpis"]
    inside = [m for m in MATTERS if _in(m.region, "411202")]
    figure = _figures(row)["ON_TIME_CLOSURE_RATE"]
    assert figure == expected(inside, "ON_TIME_CLOSURE_RATE", _now(), date(2026, 3, 15),
                              date(2026, 3, 16))  # fmt: skip
    assert figure["denominator"] >= 1 and figure["numerator"] < figure["denominator"]


async def test_an_open_matter_due_at_2400_on_a_month_end_counts_in_that_month(
    client: httpx.AsyncClient,
) -> None:
    """Due 24:00 on 30 April (the instant 1 May 00:00): due in April, not May."""
    (edge,) = [m for m in MATTERS if m.id == 101]
    assert first_overdue_handling(edge, _now()) == datetime(2026, 5, 1, 0)
    variables = {"kpis": ["ON_TIME_CLOSURE_RATE"], "bucket": "MONTH", "since": "2026-04-01",
                 "until": "2026-06-01", "filter": {"region": "411202"}}  # fmt: skip
    april, may = (await _ask(client, QUERY_KPIS, variables))["matterKpis"]
    inside = [m for m in MATTERS if _in(m.region, "411202")]
    without = [m for m in inside if m.id != 101]
    assert _figures(april)["ON_TIME_CLOSURE_RATE"]["denominator"] == expected(
        without, "ON_TIME_CLOSURE_RATE", _now(), date(2026, 4, 1), date(2026, 5, 1)
    )["denominator"] + 1
    assert _figures(may)["ON_TIME_CLOSURE_RATE"] == expected(
        without, "ON_TIME_CLOSURE_RATE", _now(), date(2026, 5, 1), date(2026, 6, 1)
    )


async def test_an_open_matter_answered_late_counts_against_its_due_day(
    client: httpx.AsyncClient,
) -> None:
    """A handling clock stopped after its due instant (a result reported late) while the
    matter is still open (not verified, not closed) ran out all the same: the matter counts
    as not on time on its 届满日, as an open overdue one does, until it is closed."""
    (late,) = [m for m in MATTERS if m.id == 102]
    assert late.is_open and first_overdue_handling(late, _now()) == datetime(2026, 3, 10, 0)
    variables = {"kpis": ["ON_TIME_CLOSURE_RATE"], "since": "2026-03-09",
                 "until": "2026-03-10", "filter": {"region": "411202"}}  # fmt: skip
    (row,) = (await _ask(client, QUERY_KPIS, variables))["matterKpis"]
    inside = [m for m in MATTERS if _in(m.region, "411202") and m.id != 102]
    want = expected(inside, "ON_TIME_CLOSURE_RATE", _now(), date(2026, 3, 9), date(2026, 3, 10))
    assert _figures(row)["ON_TIME_CLOSURE_RATE"]["denominator"] == want["denominator"] + 1
    assert _figures(row)["ON_TIME_CLOSURE_RATE"]["numerator"] == want["numerator"]


async def test_sum_over_counties_is_sum_of_numerators_over_sum_of_denominators(
    client: httpx.AsyncClient,
) -> None:
    total = _figures((await _ask(client, QUERY_KPIS))["matterKpis"][0])
    rows = (await _ask(client, QUERY_KPIS, {"groupBy": ["REGION"]}))["matterKpis"]
    now = _now()
    for row in rows:
        code = row["key"]["regionCode"]
        mine = [m for m in MATTERS if _county(m.region) == code]
        assert _figures(row) == {kpi: expected(mine, kpi, now) for kpi in MATTER_KPIS}, code
    for kpi in MATTER_KPIS:
        numerator = sum(_figures(row)[kpi]["numerator"] for row in rows)
        denominator = sum(_figures(row)[kpi]["denominator"] for row in rows)
        assert (total[kpi]["numerator"], total[kpi]["denominator"]) == (numerator, denominator)


async def test_counts_by_step_category_and_opening_month_with_empty_months(
    client: httpx.AsyncClient,
) -> None:
    variables = {"groupBy": ["STEP"], "bucket": "MONTH", "since": "2025-12-01",
                 "until": "2026-08-01"}  # fmt: skip
    rows = (await _ask(client, QUERY_STATS, variables))["matterStats"]
    got = {(r["key"]["step"], r["key"]["period"]["start"]): r["count"] for r in rows}
    want = Counter((m.step.value, m.opened.date().replace(day=1).isoformat()) for m in MATTERS)
    months = ["2025-12-01", *(f"2026-{n:02d}-01" for n in range(1, 8))]
    steps = {m.step.value for m in MATTERS}
    assert got == {(step, month): want.get((step, month), 0) for step in steps for month in months}
    by_category = await _ask(client, QUERY_STATS, {"groupBy": ["CATEGORY", "TRACK"]})
    assert {
        (r["key"]["category"], r["key"]["track"]): r["count"] for r in by_category["matterStats"]
    } == Counter((m.category.value, m.track.value if m.track else None) for m in MATTERS)


async def test_counts_by_closing_day_put_2330_and_0030_on_their_beijing_days(
    client: httpx.AsyncClient,
) -> None:
    variables = {"bucket": "DAY", "dateBy": "CLOSED", "since": "2026-03-31",
                 "until": "2026-04-02"}  # fmt: skip
    rows = (await _ask(client, QUERY_STATS, variables))["matterStats"]
    want = Counter(m.closed.date() for m in MATTERS if m.closed)
    assert [(r["key"]["period"]["start"], r["count"]) for r in rows] == [
        ("2026-03-31", want[date(2026, 3, 31)]),
        ("2026-04-01", want[date(2026, 4, 1)]),
    ]
    assert want[date(2026, 3, 31)] >= 1 and want[date(2026, 4, 1)] >= 1


async def test_regions_ranked_by_count_and_by_rate(client: httpx.AsyncClient) -> None:
    top = (await _ask(client, QUERY_STATS, {"groupBy": ["REGION"], "top": 2}))["matterStats"]
    counts = Counter(_county(m.region) for m in MATTERS)
    assert [r["count"] for r in top] == sorted(counts.values(), reverse=True)[:2]
    variables = {"groupBy": ["REGION"], "kpis": ["REVISIT_RATE"], "top": 3}
    ranked = (await _ask(client, QUERY_KPIS, variables))["matterKpis"]
    now = _now()
    rates = {
        code: expected([m for m in MATTERS if _county(m.region) == code], "REVISIT_RATE", now)
        for code in counts
    }
    want = sorted((r["value"] for r in rates.values() if r["value"] is not None), reverse=True)
    assert [row["figures"][0]["value"] for row in ranked] == want[:3]


async def test_small_cells_are_suppressed_for_a_dashboard(client: httpx.AsyncClient) -> None:
    viewer = _auth(Role.DASHBOARD_VIEWER, ["411200"])
    variables = {"groupBy": ["REGION", "CATEGORY"], "level": "TOWNSHIP"}
    rows = (await _ask(client, QUERY_STATS, variables, viewer))["matterStats"]
    inside = Counter(
        (m.region[:9] if len(m.region) >= 9 else m.region, m.category.value)
        for m in MATTERS if m.region and _in(m.region, "4112")
    )  # fmt: skip
    assert len(rows) == len(inside)
    for row in rows:
        n = inside[row["key"]["regionCode"], row["key"]["category"]]
        assert row["suppressed"] == (0 < n < 5)
        assert row["count"] == (None if 0 < n < 5 else n)
    assert any(row["suppressed"] for row in rows)
    kpis = (await _ask(client, QUERY_KPIS, {"groupBy": ["REGION"], "level": "TOWNSHIP"},
                       viewer))["matterKpis"]  # fmt: skip
    for row in kpis:
        for figure in row["figures"]:
            small = any(0 < (n or 0) < 5 for n in (figure["numerator"], figure["denominator"]))
            assert not small  # a small side is never shown
            if figure["suppressed"]:
                assert figure["numerator"] is None and figure["value"] is None
    # centre staff see the same cells in full
    staff = (await _ask(client, QUERY_STATS, variables,
                        _auth(Role.CENTER_STAFF, ["411200"])))["matterStats"]  # fmt: skip
    assert not any(row["suppressed"] for row in staff)


async def test_a_dashboard_reads_matter_figures_but_no_matter(client: httpx.AsyncClient) -> None:
    viewer = _auth(Role.DASHBOARD_VIEWER, ["411200"])
    body = await graphql(client, QUERY_MATTERS, headers=viewer)
    assert codes(body) == ["FORBIDDEN"]
    (total,) = (await _ask(client, QUERY_STATS, None, viewer))["matterStats"]
    assert total["count"] == sum(_in(m.region, "4112") for m in MATTERS)


async def test_a_dashboard_may_not_filter_matter_figures_on_titles(
    client: httpx.AsyncClient,
) -> None:
    # titles name the parties (谢生健与王婷房屋宅基地纠纷): a count or an overdue list over a
    # word of them would tell a dashboard which matters, where, name that person
    viewer = _auth(Role.DASHBOARD_VIEWER, ["411200"])
    named = {"filter": {"text": "事项3"}}
    for query in (QUERY_STATS, QUERY_KPIS, QUERY_OVERDUE):
        body = await graphql(client, query, named, headers=viewer)
        assert codes(body) == ["FORBIDDEN"] and body["data"] is None
    # staff, who read the matters and their titles, filter on them
    staff = _auth(Role.CENTER_STAFF, ["411200"])
    (total,) = (await _ask(client, QUERY_STATS, named, staff))["matterStats"]
    named_here = [m for m in MATTERS if "事项3" in f"事项{m.id}" and _in(m.region, "4112")]
    assert total["count"] == len(named_here)
    assert total["count"] > 0


async def test_a_partner_counts_only_its_own_organisations_matters(
    client: httpx.AsyncClient,
) -> None:
    partner = _auth(Role.MEDIATOR, ["510104"], org=PARTNER_ORG)
    ours = [m for m in MATTERS if m.org == PARTNER_ORG]
    (total,) = (await _ask(client, QUERY_STATS, None, partner))["matterStats"]
    assert total["count"] == len(ours)
    (row,) = (await _ask(client, QUERY_KPIS, None, partner))["matterKpis"]
    now = _now()
    assert _figures(row) == {kpi: expected(ours, kpi, now) for kpi in MATTER_KPIS}
    overdue = (await _ask(client, QUERY_OVERDUE, None, partner))["overdueMatters"]
    assert {item["number"] for item in overdue} == {
        f"MS-{m.id:04d}" for m in ours if _overdue(m, now)
    }


def _overdue(m: M, now: datetime) -> bool:
    return m.is_open and any(c.stopped is None and utc(c.due) <= now for c in m.clocks)


async def test_the_overdue_list_holds_open_overdue_matters_longest_overdue_first(
    client: httpx.AsyncClient,
) -> None:
    viewer = _auth(Role.DASHBOARD_VIEWER, ["411200"])
    items = (await _ask(client, QUERY_OVERDUE, {"first": 20}, viewer))["overdueMatters"]
    now = _now()
    want = sorted(
        (
            min(utc(c.due) for c in m.clocks if c.stopped is None and utc(c.due) <= now),
            f"MS-{m.id:04d}",
        )
        for m in MATTERS
        if _overdue(m, now) and _in(m.region, "4112")
    )[:20]
    assert [item["number"] for item in items] == [number for _, number in want]
    assert "MS-0003" in [item["number"] for item in items]
    assert [datetime.fromisoformat(item["overdueSince"]) for item in items] == [
        due for due, _ in want
    ]


async def test_asking_matter_kpis_of_records_is_refused(client: httpx.AsyncClient) -> None:
    body = await graphql(client, QUERY_KPIS, {"kpis": ["MEDIATION_SUCCESS_RATE"]}, headers=_auth())
    assert codes(body) == ["BAD_USER_INPUT"]
    records = await graphql(
        client,
        "query { recordKpis(kpis: [REVISIT_RATE]) { figures { value } } }",
        headers=_auth(),
    )
    assert codes(records) == ["BAD_USER_INPUT"]


async def test_matter_figures_are_audited(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    await _ask(client, QUERY_KPIS, None, _auth(Role.DASHBOARD_VIEWER, ["411200"]))
    async with engine.connect() as connection:
        last = (
            await connection.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        ).one()
    assert (last.role, last.operation, last.outcome) == ("dashboard_viewer", "MatterKpis", "OK")


async def test_quarters_gather_their_months_kpis_and_durations(
    client: httpx.AsyncClient,
) -> None:
    # given quarters by closure: SQLite counts months and gathers them, PostgreSQL truncates
    variables = {"bucket": "QUARTER", "since": "2026-01-01", "until": "2026-07-01",
                 "groupBy": ["REGION"]}  # fmt: skip
    rows = (await _ask(client, QUERY_KPIS, variables))["matterKpis"]
    now = _now()
    quarters = [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)]
    seen = set()
    for row in rows:
        start = date.fromisoformat(row["key"]["period"]["start"])
        end = quarters[quarters.index(start) + 1]
        code = row["key"]["regionCode"]
        seen.add((code, start))
        mine = [m for m in MATTERS if _county(m.region) == code]
        assert _figures(row) == {kpi: expected(mine, kpi, now, start, end)
                                 for kpi in MATTER_KPIS}, (code, start)  # fmt: skip
        closed = [m for m in mine if m.closed and start <= m.closed.date() < end]
        count, p50, p90 = expected_durations(closed)
        assert row["duration"]["count"] == count, (code, start)
        assert row["duration"]["p50Hours"] == pytest.approx(p50, rel=1e-9)
        assert row["duration"]["p90Hours"] == pytest.approx(p90, rel=1e-9)
    # every county (and the unplaced) in both quarters, empty ones as zero
    counties = {_county(m.region) for m in MATTERS}
    assert seen == {(code, start) for code in counties for start in quarters[:2]}


async def test_too_many_groups_and_a_reversed_period_are_refused(
    client: httpx.AsyncClient,
) -> None:
    daily = {"bucket": "DAY", "since": "2000-01-01", "until": "2026-01-01"}
    assert codes(await graphql(client, QUERY_STATS, daily, headers=_auth())) == ["BAD_USER_INPUT"]
    reversed_ = {"since": "2026-02-01", "until": "2026-01-01"}
    body = await graphql(client, QUERY_KPIS, reversed_, headers=_auth())
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_a_matter_its_village_mediation_concluded_counts_as_resolved_in_the_village(
    client: httpx.AsyncClient,
) -> None:
    # given June, in which one matter closed without dispatch: on its mediation case's success
    # at a village 调委会 (来源系统已办结, 核查来源办结结果)
    closed = [m for m in MATTERS if m.closed and m.closed.date().month == 6]
    assert [m.id for m in closed if m.track is None and m.outcome] == [103]
    june = {"since": "2026-06-01", "until": "2026-07-01", "filter": {"region": "411202"}}
    (row,) = (await _ask(client, QUERY_KPIS, june))["matterKpis"]
    figures = _figures(row)
    # then it is resolved in the village (小事不出村), not at the county
    inside = [m for m in MATTERS if _in(m.region, "411202")]
    for kpi in ("RESOLVED_IN_VILLAGE_SHARE", "RESOLVED_IN_TOWNSHIP_SHARE",
                "RESOLVED_IN_COUNTY_SHARE"):  # fmt: skip
        assert figures[kpi] == expected(inside, kpi, _now(), date(2026, 6, 1), date(2026, 7, 1))
    without = [m for m in inside if m.id != 103]
    assert figures["RESOLVED_IN_VILLAGE_SHARE"]["numerator"] == 1 + expected(
        without, "RESOLVED_IN_VILLAGE_SHARE", _now(), date(2026, 6, 1), date(2026, 7, 1)
    )["numerator"]
