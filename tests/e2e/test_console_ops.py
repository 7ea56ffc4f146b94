"""同步与运维 in Chromium with the network cut off: under a source whose last sync run did not
succeed, a row says why in Chinese and what to do, with the error as the hub recorded it; a
source whose last run succeeded has no such row, whatever its earlier runs were."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Browser, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.models import SyncRun, SyncState
from domain.enums import SourceSystem
from domain.roles import Role
from tests.e2e.serving import serving
from tests.e2e.test_console import ACCESSIBILITY_PROBLEMS, _menu, _shot
from tests.e2e.test_console_roles import _finish, _signed_in
from tests.integration.graphql_world import BASE_TIME, seed_world

INTAKE_OWED = "matter intake could not take in 3 records: the next run hands them on"
# The last run of each source, as connectors.sync and hub.sync_workers record them.
LAST_RUNS = {
    SourceSystem.COURT: ("FAILED", "SERVER_ERROR: COURT: server error 503"),
    SourceSystem.PETITION: ("INCOMPLETE", f"AUTH: PETITION: credentials refused; {INTAKE_OWED}"),
    SourceSystem.MEDIATION: ("INCOMPLETE", INTAKE_OWED),
    SourceSystem.POLICE_110: ("FAILED", "NEWLY_ADDED: POLICE_110: a code the console never saw"),
    SourceSystem.GRID: ("SUCCEEDED", None),
}

WATERMARKS = {
    SourceSystem.COURT: "2026-10-31T03:42:57.936000+00:00",
    SourceSystem.MEDIATION: "2026-10-31T04:44:58Z",
    SourceSystem.POLICE_110: "2026-10-28T10:03:56+08:00",
    SourceSystem.PETITION: "xf_20261015.csv",
}


async def _seed(engine: AsyncEngine) -> None:
    """A few records, and each source's runs: the grid's failed before its last succeeded."""
    await seed_world(engine, records=4)
    earlier = SyncRun(source=SourceSystem.GRID, started_at=BASE_TIME - timedelta(hours=1),
                      status="FAILED", error="TIMEOUT: GRID: read timed out")  # fmt: skip
    last = [
        SyncRun(source=source, started_at=BASE_TIME, finished_at=BASE_TIME, status=status,
                error=error, fetched=10)
        for source, (status, error) in LAST_RUNS.items()
    ]  # fmt: skip
    # where each source resumes, as each connector writes it: an instant in UTC or with its
    # offset, or a file name (信访's CSV drops)
    states = [
        SyncState(source=source, watermark=watermark) for source, watermark in WATERMARKS.items()
    ]
    async with session_factory(engine).begin() as session:
        session.add_all(states)
        session.add(earlier)
        await session.flush()  # the grid's failed run is the older one: a lower id
        session.add_all(last)


async def test_a_failed_run_says_why_in_chinese_and_a_succeeded_one_says_nothing(
    pii_key: bytes, browser: Browser
) -> None:
    async with serving(pii_key, _seed) as (base, _app):
        problems = len(ACCESSIBILITY_PROBLEMS)
        watched = await _signed_in(browser, base, Role.CENTER_STAFF)
        page = watched.page
        # when staff open 同步与运维
        await _menu(page, "同步与运维").click()
        await expect(page.locator("tr[data-source=GRID]")).to_be_visible()
        # then beneath each source whose last run did not succeed: why, and the error as recorded
        why = page.locator("tr.run-problem")
        await expect(why).to_have_count(4)
        court = page.locator("tr[data-source=COURT] + tr.run-problem")
        await expect(court).to_contain_text("法院案件系统最近批次未成功：来源系统自身出错")
        await expect(court).to_contain_text("持续出现请联系来源系统运维")
        await expect(court).to_contain_text("原文：SERVER_ERROR: COURT: server error 503")
        # a run whose matter intake fell short: what that means, though its error names no code,
        # and beside the code of a failure before it when there was one
        petition = page.locator("tr[data-source=PETITION] + tr.run-problem")
        await expect(petition).to_contain_text("来源系统拒绝了本平台的账号或密钥")
        await expect(petition).to_contain_text("部分记录未能登记为事项")
        mediation = page.locator("tr[data-source=MEDIATION] + tr.run-problem")
        await expect(mediation).to_contain_text("部分记录未能登记为事项，下次同步会再次登记")
        await expect(mediation).to_contain_text(f"原文：{INTAKE_OWED}")
        # a code the console has no name for is still shown, with what to do
        police = page.locator("tr[data-source=POLICE_110] + tr.run-problem")
        await expect(police).to_contain_text("同步出错（错误代码 NEWLY_ADDED）")
        await expect(police).to_contain_text("请把原文告知系统管理员")
        # and the grid, whose last run succeeded after one that timed out, shows no reason
        await expect(page.locator("tr[data-source=GRID] + tr.run-problem")).to_have_count(0)
        await expect(page.locator("table")).not_to_contain_text("TIMEOUT")
        await expect(page.locator("tr[data-source=GRID]")).to_contain_text("成功（增量）")
        # each source's 同步水位: an instant in Beijing time, as every other time on the page,
        # a file name as it is, none as —
        await expect(page.locator("tr[data-source=COURT] td[data-watermark]")).to_have_text(
            "2026/10/31 11:42"
        )
        await expect(page.locator("tr[data-source=MEDIATION] td[data-watermark]")).to_have_text(
            "2026/10/31 12:44"
        )
        await expect(page.locator("tr[data-source=POLICE_110] td[data-watermark]")).to_have_text(
            "2026/10/28 10:03"
        )
        await expect(page.locator("tr[data-source=PETITION] td[data-watermark]")).to_have_text(
            "xf_20261015.csv"
        )
        await expect(page.locator("tr[data-source=GRID] td[data-watermark]")).to_have_text("—")
        await _shot(page, "ops-run-problems")
        await _finish(watched, problems)
