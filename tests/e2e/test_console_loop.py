"""What the hub does by itself, seen in the console (Chromium, network cut off), on one shared
server over a sandbox: the deadline scanner, run on an injected clock ten days on, breaches a
dispatched matter's clock and 督办s the organisation on duty — the matter shows under 已超期
and 仅看督办中 with the system's 督办; and the closed loop with the departments' own results
arriving by sync: a grid event syncs and opens a matter (intake), 受理 by the system as the
grid handles it, staff 研判 and 分流 it to the township mediation committee in the console,
the committee's record syncs and reports
化解不成 on the open page, staff 重新分流 to the court, the court's 诉前调解 record syncs and
reports 已化解, and staff 核查, 结案 and 回访 — every step on the timeline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.deadline_scanner import scan
from db.engine import session_factory
from db.matter_intake import take_in
from db.matter_workflow import MatterWorkflow
from db.regions import seed_regions
from domain.enums import SourceSystem
from domain.events import ChangedRecord
from domain.roles import Role
from hub.demo import render_sources_file
from hub.matters import intake_rules
from hub.settings import Settings
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.world import generate_world
from tests.e2e.serving import WatchedPage, ask, dispatched_matter, serving, watched_page
from tests.e2e.test_console import ACCESSIBILITY_PROBLEMS, _shot
from tests.e2e.test_console_matters import _act
from tests.integration.auth_support import token
from tests.integration.test_matter_storyline import _storyline

COUNTY = "411202"
OVERDUE_ORG = "湖滨区司法所"
MEDIATION_ORG = "org:tjw-township"
COURT_ORG = "org:court-county"
STAFF = token(Role.CENTER_STAFF, org="湖滨区综治中心", name="综治中心王五")
QUERY_MATTERS = "query M { matters(first: 20) { nodes { id number records { sourceKey } } } }"


async def _seed(engine: AsyncEngine) -> None:
    async with session_factory(engine).begin() as session:
        await seed_regions(session)


class World:
    """The shared server, its workflow (whose clock the tests may move) and the sandbox."""

    def __init__(self, base: str, app: Starlette, sandbox: Sandbox, keys: dict[SourceSystem, str]):
        self.base, self.app, self.sandbox, self.keys = base, app, sandbox, keys

    @property
    def workflow(self) -> MatterWorkflow:
        workflow: MatterWorkflow | None = self.app.state.govhub.workflow
        assert workflow is not None
        return workflow

    async def sync(self, system: SourceSystem) -> None:
        """One sync of ``system`` as ``serve`` runs it: records in, then the intake hook."""
        configs = parse_sources(render_sources_file(self.sandbox.urls, self.sandbox.credentials))
        rules = intake_rules(Settings(_env_file=None))
        workflow = self.workflow

        async def follow(source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
            await take_in(workflow, rules, [c.record_id for c in changes], source=source.value)

        async with open_connectors({system: configs[system]}) as connectors:
            result = await sync_source(self.app.state.govhub.engine, workflow.sessions,
                                       connectors[system], after_linking=follow)  # fmt: skip
        assert result.ok, result.error


@pytest.fixture(scope="module")
async def world(pii_key: bytes) -> AsyncIterator[World]:
    generated = generate_world(7, 300)
    keys = {system: record.key for system, record in _storyline(generated).items()}
    async with (
        Sandbox(SandboxConfig(base_port=0, scale=300, profile="clean"), generated) as sb,
        serving(pii_key, _seed) as (base, app),
    ):
        yield World(base, app, sb, keys)


async def _staff_page(browser: Browser, base: str, where: str) -> WatchedPage:
    watched = await watched_page(browser, base)
    await watched.page.goto(f"{base}/console/#/{where}", wait_until="load")
    await watched.page.get_by_label("访问令牌（Bearer JWT）", exact=True).fill(STAFF)
    await watched.page.get_by_role("button", name="登录", exact=True).click()
    return watched


def _finish(watched: WatchedPage, problems_before: int) -> None:
    assert watched.blocked == [], watched.blocked
    assert watched.script_errors == [], watched.script_errors
    mine = ACCESSIBILITY_PROBLEMS[problems_before:]
    assert mine == [], "\n".join(mine)


async def test_an_overdue_matter_is_under_supervision_by_the_scanner(
    world: World, browser: Browser
) -> None:
    problems = len(ACCESSIBILITY_PROBLEMS)
    # given a matter dispatched to the judicial office today
    matter = await dispatched_matter(world.base, STAFF, title="宅基地边界纠纷", region=COUNTY,
                                     org=OVERDUE_ORG, track="JUDICIAL_OFFICE",
                                     category="HOUSING_HOMESTEAD")  # fmt: skip
    # when the deadline scanner runs on a clock ten days on, the office never having signed
    workflow = world.workflow
    real_clock = workflow.now
    later = real_clock() + timedelta(days=10)
    workflow.now = lambda: later
    try:
        result = await scan(workflow, workflow.now())
        assert result.breaches >= 1
        watched = await _staff_page(browser, world.base, "worklist")
        page = watched.page
        # then 工作台 shows it under 已超期 …
        await expect(page.get_by_role("heading", name="按环节", exact=True)).to_be_visible()
        await page.get_by_label("期限", exact=True).select_option("overdue")
        await page.get_by_role("button", name="筛选", exact=True).click()
        row = page.locator(f"tr[data-matter='{matter['number']}']")
        await expect(row).to_contain_text("已超期")
        await _shot(page, "loop-01-overdue")
        # … and under 仅看督办中, as the API filters it, with the system's 督办
        await page.get_by_label("期限", exact=True).select_option("")
        await page.get_by_label("仅看督办中").check()
        await page.get_by_role("button", name="筛选", exact=True).click()
        await expect(page).to_have_url(f"{world.base}/console/#/worklist?supervised=1")
        await expect(page.locator("[data-total]")).to_have_text("共 1 件（督办中）")
        await expect(row).to_contain_text("督办")
        await row.get_by_role("link", name=matter["number"]).click()
        await expect(page.locator("[data-supervisions]")).to_contain_text(
            f"督办 → {OVERDUE_ORG}（办理中"
        )
        await expect(page.locator("[data-supervisions]")).to_contain_text("系统自动")
        # each breached clock is on the timeline, by the system
        breach = page.locator("[data-timeline] li[data-action=OVERDUE]").first
        await expect(breach).to_contain_text("系统")
        await _shot(page, "loop-02-supervised")
        _finish(watched, problems)
        await page.context.close()
    finally:
        workflow.now = real_clock


async def _matter_of(world: World, key: str) -> dict[str, Any]:
    nodes = (await ask(world.base, STAFF, QUERY_MATTERS))["matters"]["nodes"]
    [matter] = [m for m in nodes if key in {r["sourceKey"] for r in m["records"]}]
    return matter


async def _heard(page: Page) -> None:
    """A sync changed the matter on screen: the page says so; 刷新 shows it."""
    await expect(page.locator("[data-changed]")).to_contain_text("请刷新后再办理")
    await page.get_by_role("button", name="刷新", exact=True).click()


async def test_the_departments_results_arrive_by_sync(world: World, browser: Browser) -> None:
    problems = len(ACCESSIBILITY_PROBLEMS)
    grid = world.keys[SourceSystem.GRID]
    # intake: the grid event syncs and opens a matter
    await world.sync(SourceSystem.GRID)
    matter = await _matter_of(world, grid)
    watched = await _staff_page(browser, world.base, f"matter/{matter['id']}")
    page = watched.page
    step = page.locator("[data-fact=环节]")
    # the grid handles it (处理中): the system takes the grid's 受理 over (来源系统已受理)
    await expect(step).to_have_text("已受理")
    await expect(page.locator("[data-fact=来源]")).to_have_text("网格事件")
    await expect(page.locator("[data-timeline] li[data-action=ADMIT]")).to_contain_text("系统")
    # 研判, 分流 to the township mediation committee, through the forms
    await _act(page, "assess", "研判", {
        "纠纷类别": "NEIGHBOUR", "风险等级": "YELLOW", "复杂程度": "ORDINARY",
        "牵头单位（必填）": "司法所"})  # fmt: skip
    await expect(step).to_have_text("已研判")
    await _act(page, "dispatch", "分流", {
        "承办单位（必填）": MEDIATION_ORG, "处置途径": "PEOPLES_MEDIATION"})  # fmt: skip
    await expect(step).to_have_text("已分流")
    # the committee's own record arrives by sync: mediation failed (化解不成)
    await world.sync(SourceSystem.MEDIATION)
    await _heard(page)
    await expect(step).to_have_text("已反馈")
    await expect(page.locator("[data-fact=处置结果]")).to_have_text("化解不成")
    await expect(page.locator("[data-records]")).to_contain_text("人民调解")
    await _shot(page, "loop-03-mediation-synced")
    # 重新分流 to the court's 诉前调解; its record arrives by sync: resolved (已化解)
    await _act(page, "redispatch", "重新分流", {
        "新承办单位（必填）": COURT_ORG, "处置途径": "PRE_FILING_MEDIATION",
        "理由（必填）": "调解不成，转诉前调解"})  # fmt: skip
    await expect(step).to_have_text("已分流")
    await world.sync(SourceSystem.COURT)
    await _heard(page)
    await expect(step).to_have_text("已反馈")
    await expect(page.locator("[data-fact=处置结果]")).to_have_text("已化解")
    await expect(page.locator("[data-fact=承办单位]")).to_have_text(COURT_ORG)
    await expect(page.locator("[data-records] li")).to_have_count(3)
    await _shot(page, "loop-04-court-synced")
    # 核查, 结案, 回访 close the loop
    await _act(page, "verify", "核查通过", {})
    await expect(step).to_have_text("已核查")
    await _act(page, "close", "结案", {"结案方式": "RESOLVED"})
    await expect(step).to_have_text("已结案")
    await _act(page, "revisit", "回访", {"满意度": "SATISFIED"})
    await expect(step).to_have_text("已回访")
    shown = await page.locator("[data-timeline] > li").evaluate_all(
        "items => items.map((li) => li.dataset.action)"
    )
    assert shown == [
        "OPEN", "ADMIT", "ASSESS", "DISPATCH",
        "RECORD_JOINED", "ACCEPT", "REPORT_RESULT",  # the committee's record, by sync
        "REDISPATCH",
        "RECORD_JOINED", "ACCEPT", "REPORT_RESULT",  # the court's record, by sync
        "VERIFY", "CLOSE", "REVISIT",
    ], shown  # fmt: skip
    timeline = page.locator("[data-timeline]")
    await expect(timeline.locator("li[data-action=REPORT_RESULT]").first).to_contain_text("系统")
    await _shot(page, "loop-05-revisited")
    _finish(watched, problems)
    await page.context.close()
