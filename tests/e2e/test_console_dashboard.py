"""The console's 综合态势 and 风险预警 pages in Chromium with the network cut off: the
dashboard's figures are the API's for the same question, its ECharts canvases are drawn (the
library served by govhub), a dashboard viewer sees small cells as "<5"; a RED grade raised
while the 风险预警 page is open appears live and leads to the record, whose 风险研判 shows the
rules in Chinese, and staff override the grade with a required reason; the person's page
shows their grade too. 月研判报表 downloads a month's workbook from the dashboard."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.ingest import ingest_records
from db.models import Record
from db.resolution import resolve_all
from db.risk import grade_touched
from domain.enums import SourceSystem
from domain.risk.alerts import RiskAlert
from hub.risk import risk_alert_announcer
from tests.e2e.serving import ask, require_chromium, serving, watched_page
from tests.e2e.test_console import ACCESSIBILITY_PROBLEMS, _menu, _shot, _sign_in
from tests.integration.graphql_world import seed_sync, seed_world
from tests.integration.test_risk_storage import alert

QUERY_KPIS = """query K($filter: RecordFilter) { recordKpis(filter: $filter) {
  figures { kpi numerator denominator suppressed } } }"""
QUERY_CATEGORIES = """query C($filter: RecordFilter) {
  recordStats(filter: $filter, groupBy: [CATEGORY]) { key { category } count suppressed } }"""
QUERY_TOTAL = "query T($filter: RecordFilter) { recordStats(filter: $filter) { count suppressed } }"
QUERY_OPEN_RED = "query R { openRisks(level: RED, first: 20) { title } }"
QUERY_MATTER_KPIS = """query M($since: DateTime, $until: DateTime) {
  matterKpis(since: $since, until: $until) {
    figures { kpi numerator denominator suppressed } } }"""
QUERY_OVERDUE = "query O { overdueMatters(first: 20) { number } }"
CATEGORY_NAMES = "Object.fromEntries(Object.entries(m.CATEGORY))"
RULE = "同一地点60日内3次以上纠纷类110报警（民转刑风险）"
PERSON_RULE = "同一人60日内3次以上纠纷类110报警（民转刑风险）"


async def _api(base: str, page: Page, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The same question asked of the API directly, with the console's own token."""
    return await ask(base, await page.evaluate("sessionStorage.getItem('govhub.token')"),
                     query, variables)  # fmt: skip


async def _dashboard_matches_the_api(base: str, page: Page) -> None:
    await expect(page.get_by_role("heading", name="综合态势", exact=True)).to_be_visible()
    # the page's own window (the last twelve Beijing months), asked of the API directly
    window = await page.evaluate(
        "import('/console/js/pages/dashboard.js').then((m) => m.lastTwelveMonths())"
    )
    names = await page.evaluate(f"import('/console/js/labels.js').then((m) => {CATEGORY_NAMES})")
    filter_ = {**window, "region": None}
    kpis = (await _api(base, page, QUERY_KPIS, {"filter": filter_}))["recordKpis"][0]["figures"]
    record_tiles = page.locator("section[aria-labelledby=kpi-title] article.tile")
    await expect(record_tiles).to_have_count(len(kpis))
    matter = (
        await _api(base, page, QUERY_MATTER_KPIS,
                   {"since": window["occurredFrom"], "until": window["occurredTo"]})
    )["matterKpis"][0]  # fmt: skip
    matter_tiles = page.locator("section[aria-labelledby=matter-kpi-title] article.tile")
    await expect(matter_tiles).to_have_count(len(matter["figures"]) + 1)  # + 办理时长
    for figure in [*kpis, *matter["figures"]]:
        tile = page.locator(f"article.tile[data-kpi={figure['kpi']}]")
        for side in ("numerator", "denominator"):
            value = figure[side]
            shown = "<5" if figure["suppressed"] and value is None else str(value)
            if value is None and not figure["suppressed"]:
                shown = "未知"
            await expect(tile.locator(f"[data-side={side}]")).to_have_text(
                f"{'分子' if side == 'numerator' else '分母'} {shown}"
            )
    total = (await _api(base, page, QUERY_TOTAL, {"filter": filter_}))["recordStats"][0]
    total_text = "<5" if total["suppressed"] else str(total["count"])
    await expect(page.locator("[data-total]")).to_have_text(f"记录总数：{total_text} 条")
    rows = (await _api(base, page, QUERY_CATEGORIES, {"filter": filter_}))["recordStats"]
    table = page.locator("table[data-figures=按纠纷类别]")
    await expect(table.locator("tbody tr")).to_have_count(len(rows))
    shown_rows = await table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
    )
    assert shown_rows == [
        [names[r["key"]["category"]], "<5" if r["suppressed"] else str(r["count"])] for r in rows
    ]
    # ECharts (served by govhub) drew four charts, each on a canvas with pixels
    await expect(page.locator(".chart canvas")).to_have_count(4)
    drawn = await page.locator(".chart canvas").evaluate_all(
        "cs => cs.map(c => c.width > 0 && c.height > 0 && c.toDataURL().length > 2000)"
    )
    assert drawn == [True] * 4
    overdue = (await _api(base, page, QUERY_OVERDUE, {}))["overdueMatters"]
    if overdue:
        rows_shown = page.locator("table[data-figures=逾期事项清单] tbody tr")
        await expect(rows_shown).to_have_count(len(overdue))
    else:
        await expect(page.get_by_text("当前没有逾期未结的事项。")).to_be_visible()
    red = (await _api(base, page, QUERY_OPEN_RED, {}))["openRisks"]
    red_table = page.locator("table[data-figures=红色风险清单] tbody tr")
    await expect(red_table).to_have_count(len(red))


async def test_dashboard_and_live_risk_alerts(pii_key: bytes) -> None:
    chromium = require_chromium()
    engines: list[AsyncEngine] = []

    async def seed(engine: AsyncEngine) -> None:
        await seed_world(engine, records=40)
        await seed_sync(engine)
        engines.append(engine)

    async with serving(pii_key, seed) as (base, app), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:
            watched = await watched_page(browser, base)
            page, blocked, script_errors = watched.page, watched.blocked, watched.script_errors

            # centre staff: the dashboard's figures are the API's
            await page.goto(f"{base}/console/#/dashboard", wait_until="load")
            await _sign_in(page, "center_staff")
            await _dashboard_matches_the_api(base, page)
            await _shot(page, "11-dashboard-staff")

            # 风险预警 open; three calls from one home are graded RED meanwhile: shown live
            await _menu(page, "风险预警").click()
            await expect(page.get_by_text("已连接，正在实时接收预警")).to_be_visible()
            async with session_factory(engines[0]).begin() as session:
                await ingest_records(session, [alert(f"J{i}", 7 * i) for i in range(1, 4)])
                await resolve_all(session)
                calls = list(await session.scalars(
                    select(Record.id).where(Record.source == SourceSystem.POLICE_110,
                                            Record.source_key.in_(["J1", "J2", "J3"]))
                ))  # fmt: skip
                raised: list[RiskAlert] = await grade_touched(session, calls)
            assert raised, "grading the three calls raised no alert"
            announce = risk_alert_announcer(app.state.govhub.bus)
            items = page.locator("ol.alerts > li")
            for _ in range(120):  # until the subscription is registered and an alert shown
                await announce(raised)
                if await items.count():
                    break
                await asyncio.sleep(0.25)
            await expect(items.first).to_contain_text("由无升至红色")
            await _shot(page, "12-risk-alerts")

            # the alert leads to the record: its grade, the rule in Chinese, the evidence
            await items.get_by_role("link", name="查看记录").first.click()
            await expect(page.get_by_role("heading", name="风险研判", exact=True)).to_be_visible()
            await expect(page.get_by_text(RULE).first).to_be_visible()
            await expect(page.get_by_text("涉及记录：").first).to_be_visible()
            await _shot(page, "13-record-risk")

            # the override needs a reason, then holds with the computed grade beside it
            await page.get_by_label("调整后等级", exact=True).select_option("BLUE")
            await page.get_by_role("button", name="调整等级").click()
            await expect(page.get_by_role("alert")).to_contain_text("请填写调整理由")
            await page.get_by_label("调整理由（必填）", exact=True).fill("双方已和解，回访无异常")
            await page.get_by_role("button", name="调整等级").click()
            await expect(page.get_by_text("已将风险等级调整为蓝色")).to_be_visible()
            await expect(page.get_by_text("双方已和解，回访无异常")).to_be_visible()
            await _shot(page, "14-record-risk-overridden")

            # the caller's person page: their grade over all their calls
            await page.get_by_role("link", name="查看 王芳 的时间线").click()
            await expect(page.get_by_role("heading", name="风险研判", exact=True)).to_be_visible()
            await expect(page.get_by_text(PERSON_RULE).first).to_be_visible()
            await expect(page.get_by_label("调整理由（必填）", exact=True)).to_be_visible()
            await _shot(page, "15-person-risk")

            # a dashboard viewer: lands on the same page, figures only, small cells as "<5"
            await page.get_by_role("button", name="退出").click()
            await _sign_in(page, "dashboard_viewer")
            await _dashboard_matches_the_api(base, page)
            await expect(_menu(page, "记录")).to_have_count(0)
            await _shot(page, "16-dashboard-viewer")

            assert blocked == []
            assert script_errors == []
            assert ACCESSIBILITY_PROBLEMS == [], "\n".join(ACCESSIBILITY_PROBLEMS)
        finally:
            await browser.close()


async def _seed_forty(engine: AsyncEngine) -> None:
    await seed_world(engine, records=40)  # records from 27 February to 1 March 2026


async def test_staff_download_the_monthly_report_from_the_dashboard(
    pii_key: bytes, tmp_path: Path
) -> None:
    chromium = require_chromium()
    async with serving(pii_key, _seed_forty) as (base, _app), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:
            watched = await watched_page(browser, base)
            page, blocked, script_errors = watched.page, watched.blocked, watched.script_errors
            await page.goto(f"{base}/console/#/dashboard", wait_until="load")
            await _sign_in(page, "center_staff")  # 三门峡市 (411200)
            panel = page.locator("section[aria-labelledby=report-title]")
            await expect(panel.get_by_role("heading", name="月研判报表")).to_be_visible()
            # the month offered is the previous Beijing month
            previous = await page.evaluate(
                "import('/console/js/pages/dashboard.js').then((m) => m.previousMonth())"
            )
            month = panel.get_by_label("报告月份", exact=True)
            await expect(month).to_have_value(previous)

            # 下载 for February: the browser saves the API's workbook under its name
            await month.fill("2026-02")
            async with page.expect_download() as download_info:
                await panel.get_by_role("button", name="下载").click()
            download = await download_info.value
            assert download.suggested_filename == "月研判-411200-2026-02.xlsx"
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            workbook = load_workbook(saved)
            assert workbook.sheetnames[0] == "指标"
            header = [cell.value for cell in next(workbook["指标"].iter_rows())]
            assert header[:4] == ["指标", "分子", "分母", "指标值"]
            # its kinds add up to what the API counts for the city in February
            february = {"region": "411200", "occurredFrom": "2026-02-01T00:00:00+08:00",
                        "occurredTo": "2026-03-01T00:00:00+08:00"}  # fmt: skip
            total = (await _api(base, page, QUERY_TOTAL, {"filter": february}))["recordStats"]
            kinds = [row[1].value for row in workbook["按类型"].iter_rows(min_row=2)]
            assert sum(kinds) == total[0]["count"] > 0
            await expect(panel.get_by_role("status")).to_have_text(
                "已下载 月研判-411200-2026-02.xlsx"
            )
            await _shot(page, "17-dashboard-report")

            # a region outside the jurisdiction: refused, said in Chinese on the page
            await page.get_by_label("区划代码", exact=True).fill("510104")
            await page.get_by_role("button", name="查询", exact=True).click()
            await expect(month).to_have_value(previous)
            await panel.get_by_role("button", name="下载").click()
            await expect(panel.get_by_role("alert")).to_have_text(
                "该区划不在您的辖区内，或您的角色无权下载报表。"
            )

            assert blocked == []
            assert script_errors == []
            assert ACCESSIBILITY_PROBLEMS == [], "\n".join(ACCESSIBILITY_PROBLEMS)
        finally:
            await browser.close()
