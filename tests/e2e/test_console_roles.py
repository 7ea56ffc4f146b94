"""Each role in the console, in Chromium with the network cut off, on one shared server and
world: the menu is the one the role policy gives (from ``viewer``, never a list per role in
the console), a page outside it is never shown, and each role sees only its data — a partner
only the matters dispatched to its organisation, the auditor the audit log, the admin the dead
letters (重放) and the outbox (重试/撤销). Every page is photographed at 1366×768 and
1920×1080 into ``tests/e2e/artifacts/`` and checked with axe-core."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.outbox import Aggregate, enqueue_write
from domain.roles import Role
from domain.writeback import WriteOperation
from tests.e2e.serving import WatchedPage, ask, dispatched_matter, serving, watched_page
from tests.e2e.test_console import ACCESSIBILITY_PROBLEMS, _menu, _shot
from tests.integration.auth_support import token
from tests.integration.graphql_world import seed_sync, seed_world

COUNTY = "411202"
COMMITTEE = "湖滨区人民调解委员会"
POLICE_STATION = "湖滨区公安分局"
# a matter of another county, for a partner outside the world's matters: staff over 湖滨区
# never see it, and the world's counts stay as they are
OTHER_COUNTY = "411203"
JUDICIAL_OFFICE = "陕州区张汴司法所"
ALL_PAGES = ["工作台", "记录", "人员", "登记", "综合态势", "风险预警", "同步与运维"]
PARTNER_PAGES = ["工作台", "记录", "人员", "综合态势", "风险预警"]
MENUS: dict[Role, list[str]] = {
    Role.ADMIN: ALL_PAGES,
    Role.CENTER_STAFF: ALL_PAGES,
    Role.MEDIATOR: PARTNER_PAGES,
    Role.PARTNER_POLICE: PARTNER_PAGES,
    Role.PARTNER_COURT: PARTNER_PAGES,
    Role.PARTNER_PETITION: PARTNER_PAGES,
    Role.PARTNER_JUDICIAL: PARTNER_PAGES,
    Role.DASHBOARD_VIEWER: ["综合态势"],
    Role.AUDITOR: ["审计日志"],
}
# The organisation each role's token names: partners see the matters dispatched to it.
ORGS = {Role.MEDIATOR: COMMITTEE, Role.PARTNER_POLICE: POLICE_STATION}
MUTATION_SUSPEND = """mutation S($id: ID!, $reason: String!) {
  suspendMatter(id: $id, reason: $reason) { __typename } }"""
MUTATION_SUPERVISE = """mutation S($id: ID!, $input: SuperviseMatterInput!) {
  superviseMatter(id: $id, input: $input) { __typename } }"""
HEADINGS = {"工作台": "按环节", "审计日志": "审计日志", "同步与运维": "同步与运维",
            "综合态势": "综合态势", "记录": "记录", "人员": "人员", "登记": "登记",
            "风险预警": "风险预警"}  # fmt: skip


async def _seed(engine: AsyncEngine) -> None:
    """Records, a sync history with dead letters, and two write-backs waiting."""
    await seed_world(engine, records=24)
    await seed_sync(engine)
    async with session_factory(engine).begin() as session:
        for n in (1, 2):
            await enqueue_write(session, WriteOperation.MEDIATION_REFERRAL, {"summary": "委派"},
                                f"OPS{n}-D1", aggregate=Aggregate("matter", f"OPS{n}"))  # fmt: skip


async def _dispatched(base: str, title: str, org: str, track: str) -> str:
    staff = token(Role.CENTER_STAFF, [COUNTY], org="湖滨区综治中心")
    matter = await dispatched_matter(base, staff, title=title, region=COUNTY, org=org,
                                     track=track, category="NEIGHBOUR")  # fmt: skip
    return matter["number"]


@pytest.fixture(scope="module")
async def world(pii_key: bytes) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """One server for the module: its base URL and the matters, by the org they went to."""
    async with serving(pii_key, _seed) as (base, _app):
        matters = {
            COMMITTEE: await _dispatched(base, "邻里漏水纠纷", COMMITTEE, "PEOPLES_MEDIATION"),
            POLICE_STATION: await _dispatched(base, "酒后滋事报警", POLICE_STATION, "POLICE"),
        }
        yield base, matters


async def _signed_in(
    browser: Browser, base: str, role: Role, tolerated: str | None = None, org: str | None = None
) -> WatchedPage:
    """A fresh page signed in with a pasted token for ``role`` over 湖滨区 (and its org, or
    ``org``); console errors containing ``tolerated`` are not counted."""
    watched = await watched_page(browser, base, tolerated=tolerated)
    page = watched.page
    await page.goto(f"{base}/console/#/login", wait_until="load")
    org = ORGS.get(role, "") if org is None else org
    bearer = token(role, [COUNTY], org=org, name=f"测试{role.value}")
    await page.get_by_label("访问令牌（Bearer JWT）", exact=True).fill(bearer)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("navigation").get_by_role("link").first).to_be_visible()
    return watched


async def _every_page(page: Page, role: Role) -> None:
    """Each menu page, photographed at both screen sizes and checked by axe."""
    for text in MENUS[role]:
        await _menu(page, text).click()
        await expect(page.get_by_role("heading", name=HEADINGS[text], exact=True)).to_be_visible()
        await expect(page.locator("#main [role=status]", has_text="正在加载")).to_have_count(0)
        await _shot(page, f"roles-{role.value}-{text}")


async def _menu_is(page: Page, role: Role) -> None:
    shown = await page.get_by_role("navigation").get_by_role("link").all_inner_texts()
    assert shown == MENUS[role], shown


async def _finish(watched: WatchedPage, problems_before: int) -> None:
    assert watched.blocked == [], watched.blocked
    assert watched.script_errors == [], watched.script_errors
    mine = ACCESSIBILITY_PROBLEMS[problems_before:]
    assert mine == [], "\n".join(mine)
    await watched.page.context.close()


async def test_the_admin_replays_dead_letters_and_settles_the_outbox(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, Role.ADMIN)
    page = watched.page
    await _menu_is(page, Role.ADMIN)
    await _menu(page, "工作台").click()
    await expect(page.locator("[data-total]")).to_have_text("共 2 件")
    await _menu(page, "同步与运维").click()
    # the dead letters, newest first, each with 重放; without a sources file the hub says so
    letters = page.locator("table[data-dead-letters] tbody tr")
    await expect(letters).to_have_count(2)
    await expect(letters.first).to_contain_text("BAD_ID")
    await letters.first.get_by_role("button", name="重放").click()
    status = page.locator("[data-ops-status]")
    await expect(status).to_have_text("服务器未配置数据源，暂不能重放死信。")
    # the outbox towards the mediation platform: two seeded writes and the referral (委派调解)
    # the committee's dispatch queued, all waiting; one 撤销, then 重试
    outbox = page.locator("table[data-outbox=MEDIATION] tbody tr")
    await expect(outbox).to_have_count(3)
    target = page.locator("section[data-target=MEDIATION]")
    await expect(target).to_contain_text("待发送 3")
    write_id = await outbox.first.get_attribute("data-write")
    row = page.locator(f"tr[data-write='{write_id}']")
    await row.get_by_role("button", name="撤销").click()
    await expect(status).to_contain_text(f"回写 {write_id} 已撤销")
    await expect(row).to_contain_text("已取消")
    await expect(target).to_contain_text("已取消 1")
    await row.get_by_role("button", name="重试").click()
    await expect(status).to_contain_text(f"回写 {write_id} 已重新排队")
    await expect(row).to_contain_text("结果待核实")  # read back before it is sent again
    await _every_page(page, Role.ADMIN)
    assert set(matters) == {COMMITTEE, POLICE_STATION}
    await _finish(watched, problems)


async def test_centre_staff_see_every_matter_but_not_the_dead_letters(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, Role.CENTER_STAFF)
    page = watched.page
    await _menu_is(page, Role.CENTER_STAFF)
    await _menu(page, "工作台").click()
    await expect(page.locator("[data-total]")).to_have_text("共 2 件")
    for number in matters.values():
        await expect(page.locator(f"tr[data-matter='{number}']")).to_be_visible()
    await _menu(page, "同步与运维").click()
    await expect(page.get_by_text("死信与回写发件箱仅系统管理员可见。")).to_be_visible()
    await expect(page.locator("table[data-dead-letters]")).to_have_count(0)
    await _every_page(page, Role.CENTER_STAFF)
    await _finish(watched, problems)


@pytest.mark.parametrize("role", [Role.MEDIATOR, Role.PARTNER_POLICE])
async def test_a_partner_sees_only_its_organisations_matters(
    world: tuple[str, dict[str, str]], browser: Browser, role: Role
) -> None:
    base, matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, role)
    page = watched.page
    await _menu_is(page, role)
    await _menu(page, "工作台").click()
    await expect(page.locator("[data-total]")).to_have_text("共 1 件")
    own = matters[ORGS[role]]
    await expect(page.locator(f"tr[data-matter='{own}']")).to_be_visible()
    # no intake for a partner: the worklist offers none
    await expect(page.get_by_role("link", name="登记新事项")).to_have_count(0)
    other = next(number for org, number in matters.items() if org != ORGS[role])
    await expect(page.locator(f"tr[data-matter='{other}']")).to_have_count(0)
    # no intake, no operations: asked for by address, the role's first page is shown instead
    await page.goto(f"{base}/console/#/sync")
    await expect(page).to_have_url(f"{base}/console/#/records")
    await _every_page(page, role)
    await _finish(watched, problems)


@pytest.mark.parametrize("role", [Role.PARTNER_COURT, Role.PARTNER_PETITION, Role.PARTNER_JUDICIAL])
async def test_a_partner_with_no_matter_dispatched_to_it_sees_none(
    world: tuple[str, dict[str, str]], browser: Browser, role: Role
) -> None:
    base, _matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, role)
    page = watched.page
    await _menu_is(page, role)
    await _menu(page, "工作台").click()
    await expect(page.locator("[data-total]")).to_have_text("共 0 件")
    await _every_page(page, role)
    await _finish(watched, problems)


async def test_a_judicial_office_opens_signs_for_and_answers_its_matter(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    """司法所 (partner_judicial) reads no free text: its matter's page comes without the
    summary, notes and 督办 wording, not refused whole, and its forms work."""
    base, _matters = world
    staff = token(Role.CENTER_STAFF, [OTHER_COUNTY], org="陕州区综治中心")
    matter = await dispatched_matter(base, staff, title="宅基地界址纠纷", region=OTHER_COUNTY,
                                     org=JUDICIAL_OFFICE, track="JUDICIAL_OFFICE",
                                     category="HOUSING_HOMESTEAD")  # fmt: skip
    await ask(base, staff, MUTATION_SUPERVISE, {"id": matter["id"], "input": {
        "level": "REMINDER", "targetOrg": JUDICIAL_OFFICE, "reason": "请尽快签收"}})  # fmt: skip
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, Role.PARTNER_JUDICIAL, org=JUDICIAL_OFFICE)
    page = watched.page
    await _menu(page, "工作台").click()
    await page.get_by_role("link", name=matter["number"]).click()
    await expect(page.get_by_role("heading", name=f"事项 {matter['number']}")).to_be_visible()
    await expect(page.locator("[data-fact=承办单位]")).to_have_text(JUDICIAL_OFFICE)
    await expect(page.locator("[data-supervisions]")).to_contain_text("提醒 → " + JUDICIAL_OFFICE)
    await expect(page.get_by_role("alert")).to_have_count(0)
    await page.locator("form[data-action=accept]").get_by_role("button", name="签收").click()
    await expect(page.locator("[data-fact=环节]")).to_have_text("处置中")
    reply = page.locator("form[data-action^=reply-]")
    await reply.get_by_label("回复内容（必填）").fill("已签收，本周内上门调处。")
    await reply.get_by_role("button", name="回复督办").click()
    await expect(page.locator("[data-supervisions]")).to_contain_text("已回复")
    await _shot(page, "roles-partner_judicial-matter")
    await _finish(watched, problems)


async def test_staff_extend_a_running_clock_with_its_approval(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    """延期: a form on the matter's page for each running clock, within the rule."""
    base, matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, Role.CENTER_STAFF)
    page = watched.page
    await _menu(page, "工作台").click()
    await page.get_by_role("link", name=matters[COMMITTEE]).click()
    extend = page.locator("form[data-action=extend]")
    await extend.get_by_label("时限", exact=True).select_option("matter.tier.ordinary")
    await extend.get_by_label("延长量（按该时限的计算单位）（必填）").fill("3")
    await extend.get_by_label("延期理由（必填）").fill("当事人外出务工，需另约时间。")
    await extend.get_by_label("审批（批准人、文号）").fill("中心主任王某批准")
    await extend.get_by_role("button", name="延期").click()
    await expect(page.locator("table[data-clocks]")).to_contain_text("7 日（延期 3）")
    await expect(page.locator("[data-timeline] li[data-action=EXTEND]")).to_have_count(1)
    # 签收 (3 个工作日) cannot be extended: the form does not offer it, to be refused on sending
    offered = page.locator("form[data-action=extend] select[name='extend.ruleId'] option")
    await expect(offered).not_to_have_count(0)
    assert "dispatch.accept" not in await offered.evaluate_all("os => os.map((o) => o.value)")
    await _finish(watched, problems)


async def test_a_partner_is_offered_no_extension_of_the_centres_limits(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    """延期 for a department: its own limits only; the centre's (分级闭环, 签收) are not offered,
    to be refused (FORBIDDEN) once sent."""
    base, matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, Role.MEDIATOR)
    page = watched.page
    await _menu(page, "工作台").click()
    await page.get_by_role("link", name=matters[COMMITTEE]).click()
    await expect(page.locator("table[data-clocks]")).to_contain_text("一般纠纷闭环")
    # the committee's running clocks are the centre's: nothing to extend, so no form
    await expect(page.locator("form[data-action=accept]")).to_be_visible()
    await expect(page.locator("form[data-action=extend]")).to_have_count(0)
    await _finish(watched, problems)


async def test_the_step_counts_follow_the_keyword(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    """按环节 counts what the list shows: a keyword narrows both."""
    base, _matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, Role.CENTER_STAFF)
    page = watched.page
    await _menu(page, "工作台").click()
    await expect(page.locator("li[data-step=DISPATCHED] [data-count]")).to_have_text("2")
    await page.get_by_label("关键词（编号、标题）").fill("漏水")
    await page.get_by_role("button", name="筛选").click()
    await expect(page.locator("[data-total]")).to_have_text("共 1 件")
    await expect(page.locator("li[data-step=DISPATCHED] [data-count]")).to_have_text("1")
    await _finish(watched, problems)


async def test_staff_are_offered_no_reply_to_a_supervision_order_on_another_organisation(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    """回复督办 is the pressed organisation's: staff see the order with 办结督办 and 督办升级,
    not a reply form the API would refuse them."""
    base, _matters = world
    staff = token(Role.CENTER_STAFF, [OTHER_COUNTY], org="陕州区综治中心")
    matter = await dispatched_matter(base, staff, title="噪音扰民", region=OTHER_COUNTY,
                                     org=JUDICIAL_OFFICE, track="JUDICIAL_OFFICE",
                                     category="NEIGHBOUR")  # fmt: skip
    await ask(base, staff, MUTATION_SUPERVISE, {"id": matter["id"], "input": {
        "level": "SUPERVISE", "targetOrg": JUDICIAL_OFFICE, "reason": "逾期未签收"}})  # fmt: skip
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await watched_page(browser, base)
    page = watched.page
    await page.goto(f"{base}/console/#/login", wait_until="load")
    await page.get_by_label("访问令牌（Bearer JWT）", exact=True).fill(staff)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("navigation").get_by_role("link").first).to_be_visible()
    await page.goto(f"{base}/console/#/matter/{matter['id']}")
    await expect(page.locator("[data-supervisions]")).to_contain_text("逾期未签收")
    await expect(page.locator("form[data-action^=escalate-order-]")).to_have_count(1)
    await expect(page.locator("form[data-action^=reply-]")).to_have_count(0)
    await _finish(watched, problems)


async def test_a_suspended_matter_offers_what_may_be_done_while_it_waits(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    """挂起: the steps wait for 恢复 (the API answers them ILLEGAL_TRANSITION), so the page
    offers 恢复, 督办, 撤回 and 延期, not 重新分流."""
    base, _matters = world
    staff = token(Role.CENTER_STAFF, [OTHER_COUNTY], org="陕州区综治中心")
    matter = await dispatched_matter(base, staff, title="鉴定中", region=OTHER_COUNTY,
                                     org=JUDICIAL_OFFICE, track="JUDICIAL_OFFICE",
                                     category="DAMAGES")  # fmt: skip
    await ask(base, staff, MUTATION_SUSPEND, {"id": matter["id"], "reason": "伤情鉴定"})
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await watched_page(browser, base)
    page = watched.page
    await page.goto(f"{base}/console/#/login", wait_until="load")
    await page.get_by_label("访问令牌（Bearer JWT）", exact=True).fill(staff)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("navigation").get_by_role("link").first).to_be_visible()
    await page.goto(f"{base}/console/#/matter/{matter['id']}")
    await expect(page.locator("[data-fact=环节]")).to_have_text("已分流（已挂起）")
    offered = page.locator("section[aria-label=办理操作] form")
    await expect(offered).to_have_count(4)
    assert {await f.get_attribute("data-action") for f in await offered.all()} == {
        "resume", "supervise", "withdraw", "extend"}  # fmt: skip
    await _finish(watched, problems)


async def test_a_dashboard_viewer_sees_the_figures_only(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, Role.DASHBOARD_VIEWER)
    page = watched.page
    await expect(page).to_have_url(f"{base}/console/#/dashboard")
    await _menu_is(page, Role.DASHBOARD_VIEWER)
    await page.goto(f"{base}/console/#/worklist")
    await expect(page).to_have_url(f"{base}/console/#/dashboard")
    await _every_page(page, Role.DASHBOARD_VIEWER)
    await _finish(watched, problems)


async def test_the_auditor_reads_the_audit_log_and_nothing_else(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _matters = world
    problems = len(ACCESSIBILITY_PROBLEMS)
    watched = await _signed_in(browser, base, Role.AUDITOR)
    page = watched.page
    await expect(page).to_have_url(f"{base}/console/#/audit")
    await _menu_is(page, Role.AUDITOR)
    # the operations of this module so far, newest first: its own sign-in on top
    await expect(page.locator("tr[data-sequence]").first).to_be_visible()
    operations = await page.locator("tr[data-sequence] td:nth-child(6)").all_inner_texts()
    assert operations[:2] == ["Viewer", "SignInCheck"], operations
    # pages of 50: the world's 8 staff operations, the sign-in and more (other tests' too)
    total = int((await page.locator("[data-total]").inner_text()).strip("共 条"))
    assert total >= 10
    await expect(page.locator("tr[data-sequence]")).to_have_count(min(total, 50))
    await expect(page.get_by_role("link", name="下一页")).to_have_count(1 if total > 50 else 0)
    await page.get_by_role("button", name="校验审计链").click()
    await expect(page.locator("[data-chain]")).to_contain_text("审计链完整")
    # one subject's entries only
    await page.get_by_label("访问主体", exact=True).fill("nobody-at-all")
    await page.get_by_role("button", name="查询", exact=True).click()
    await expect(page.get_by_text("没有符合条件的审计记录。")).to_be_visible()
    await page.goto(f"{base}/console/#/records")
    await expect(page).to_have_url(f"{base}/console/#/audit")
    await _every_page(page, Role.AUDITOR)
    await _finish(watched, problems)


async def test_an_expired_token_returns_to_sign_in_keeping_what_was_typed(
    world: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _matters = world
    # the refused call is answered 401, which Chromium logs
    watched = await _signed_in(browser, base, Role.AUDITOR, tolerated="status of 401")
    page = watched.page
    await page.get_by_label("访问主体", exact=True).fill("staff-42")
    # the token expires while the auditor works: the next call is refused
    expired = token(Role.AUDITOR, [COUNTY], ttl_seconds=-60)
    await page.evaluate("t => sessionStorage.setItem('govhub.token', t)", expired)
    await page.get_by_role("button", name="校验审计链").click()
    await expect(page.get_by_text("登录已失效，请重新登录")).to_be_visible()
    await expect(page.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    # signed in again: back on the page, with what was typed
    await page.get_by_label("访问令牌（Bearer JWT）", exact=True).fill(
        token(Role.AUDITOR, [COUNTY])
    )
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", name="审计日志", exact=True)).to_be_visible()
    await expect(page.get_by_label("访问主体", exact=True)).to_have_value("staff-42")
    await expect(page.get_by_text("已恢复您先前填写的内容。")).to_be_visible()
    assert watched.script_errors == [], watched.script_errors
    await page.context.close()
