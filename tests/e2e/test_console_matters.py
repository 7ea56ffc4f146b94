"""The console's closed loop in Chromium with the network cut off: a walk-in matter registered
through 登记 (its ID number and phone checked as typed, as the server checks them) appears in
工作台, is 受理, 研判 and 分流 through the detail page's forms and its timeline shows each step;
a matter opened meanwhile appears in 工作台 live (``matterEvents``); a form sent with a stale
version is answered in Chinese (CONFLICT); a 督办 issued through its form puts the matter under
仅看督办中; the organisation it was dispatched to sees that matter only, signs for it, replies
to the 督办 and reports its result; the centre verifies, closes and revisits it; axe finds no
critical or serious problem on any of these pages. A matter its source concluded (来源系统已办结)
is closed from its page by 核查来源办结结果 and 结案, never dispatched."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import select, update

from db.matter_intake import take_in
from db.models import MatterRecord, Record
from db.models.records import Petition
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.roles import Role
from domain.validators import InvalidIdentifier, normalize_phone, validate_resident_id
from domain.workflow.intake import IntakeRules
from tests.e2e.serving import require_chromium, serving, watched_page
from tests.e2e.test_console import ACCESSIBILITY_PROBLEMS, _menu, _shot, _sign_in
from tests.e2e.test_console_dashboard import _api
from tests.integration.auth_support import token
from tests.integration.graphql_world import _insert

COUNTY = "411202"
MEDIATION_COMMITTEE = "湖滨区人民调解委员会"
MUTATION_OPEN = """mutation O($input: OpenMatterInput!) { openMatter(input: $input) {
  ... on MatterChanged { matter { id number version } } ... on MatterError { code } } }"""
MUTATION_ADMIT = """mutation A($id: ID!, $v: Int) { admitMatter(id: $id, expectedVersion: $v) {
  ... on MatterChanged { matter { version } } ... on MatterError { code } } }"""
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
PHONES = [
    "13812345678", "138 1234 5678", "+86 138-1234-5678", "1381234567", "12812345678",
    "0398-2812345", "010-12345678", "010-22345678", "02112345678", "0398281234", "abc",
]  # fmt: skip
CHECKS = """([ids, phones]) => import('/console/js/pages/intake.js').then((m) => [
  ids.map((c) => m.idNumberProblem(c) === ''), phones.map((c) => m.phoneProblem(c) === '')])"""


def _resident_id(first17: str) -> str:
    """The 18-digit ID number with its GB 11643 check character."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def _accepted(validate: Any, text: str) -> bool:
    try:
        validate(text)
    except InvalidIdentifier:
        return False
    return True


async def _checks_agree_with_the_server(page: Page) -> None:
    """登记's checks as typed accept what the server's validators accept (18-character ID
    numbers; phones without an extension): no number passes the form and fails on sending."""
    ids = [_resident_id(first17) for first17 in (
        "41120219850312004", "11010519491231002", "41120219850230004", "00000019850312004",
        "41120218000312004", "41120230000312004", "12345619850312004")]  # fmt: skip
    ids += [ids[0][:17] + ("1" if ids[0][17] == "0" else "0"), ids[0].lower(), ids[0][:16]]
    in_browser = await page.evaluate(CHECKS, [ids, PHONES])
    assert in_browser == [
        [_accepted(validate_resident_id, c) for c in ids],
        [_accepted(normalize_phone, c) for c in PHONES],
    ]


async def _register(page: Page, id_number: str) -> None:
    """登记 a walk-in neighbour dispute, the ID number and phone corrected as they are typed."""
    await expect(page.get_by_role("heading", name="登记", exact=True)).to_be_visible()
    await page.get_by_label("事项标题（必填）").fill("楼上漏水引发邻里纠纷")
    await page.get_by_label("所在区划代码（必填）").fill(COUNTY)
    await page.get_by_label("纠纷类别", exact=True).select_option("NEIGHBOUR")
    await page.get_by_label("简要情况", exact=True).fill("来访人称楼上住户漏水多次协商未果。")
    await page.get_by_label("姓名（必填）").fill("张三")
    id_box = page.get_by_label("身份证号", exact=True)
    await id_box.fill(id_number[:17])
    await expect(page.get_by_text("身份证号应为 18 位，当前 17 位。")).to_be_visible()
    wrong = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    await id_box.fill(wrong)
    await expect(page.get_by_text("身份证号校验位不正确，请核对。")).to_be_visible()
    await expect(id_box).to_have_attribute("aria-invalid", "true")
    await id_box.fill(id_number)
    await expect(id_box).to_have_attribute("aria-invalid", "false")
    phone = page.get_by_label("联系电话", exact=True)
    await phone.fill("1381234567")
    await expect(page.get_by_text("手机号码应为 11 位，当前 10 位。")).to_be_visible()
    await _shot(page, "21-intake-checks")
    # sent while wrong: refused before anything reaches the server
    await page.get_by_role("button", name="提交登记").click()
    await expect(page.get_by_role("alert")).to_contain_text("请先更正")
    await phone.fill("138 1234 5678")
    await expect(phone).to_have_attribute("aria-invalid", "false")
    # what only the server checks comes back in Chinese, naming the field
    summary = page.get_by_label("简要情况", exact=True)
    await summary.fill("漏" * 2001)
    await page.get_by_role("button", name="提交登记").click()
    refused = page.get_by_role("alert")
    await expect(refused).to_have_text("输入有误，请检查必填项后重试。（简要情况）")
    await summary.fill("来访人称楼上住户漏水多次协商未果。")
    await page.get_by_role("button", name="提交登记").click()


async def _act(page: Page, action: str, button: str, fields: dict[str, str]) -> None:
    """Fill one action form of the detail page (text boxes and selects by label) and send it."""
    form = page.locator(f"form[data-action={action}]")
    for name, value in fields.items():
        control = form.get_by_label(name)
        if await control.evaluate("c => c.tagName") == "SELECT":
            await control.select_option(value)
        else:
            await control.fill(value)
    await form.get_by_role("button", name=button, exact=True).click()


async def test_the_closed_loop_in_the_console(pii_key: bytes) -> None:
    chromium = require_chromium()
    id_number = _resident_id("41120219850312004")
    partner = token(Role.MEDIATOR, [COUNTY], org=MEDIATION_COMMITTEE, name="调解员李四")
    async with serving(pii_key) as (base, _app), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        problems_before = len(ACCESSIBILITY_PROBLEMS)
        try:
            watched = await watched_page(browser, base)
            page = watched.page

            # 登记 as centre staff: checked as typed, then sent; the matter's page opens
            await page.goto(f"{base}/console/#/intake", wait_until="load")
            await _sign_in(page, "center_staff")
            await _checks_agree_with_the_server(page)
            await _register(page, id_number)
            heading = page.get_by_role("heading", name="事项 411202-", exact=False)
            await expect(heading).to_be_visible()
            number = (await heading.text_content() or "").removeprefix("事项 ")
            first_id = page.url.split("#/matter/", 1)[1]
            await expect(page.locator("[data-fact=环节]")).to_have_text("已登记")
            await expect(page.locator("[data-timeline] li[data-action=OPEN]")).to_be_visible()
            parties = page.locator("table[data-parties]")
            await expect(parties).to_contain_text("张三")
            assert id_number not in await parties.inner_text()  # masked
            await _shot(page, "22-matter-registered")

            # 工作台: the matter under 已登记, with its count
            await _menu(page, "工作台").click()
            row = page.locator(f"tr[data-matter='{number}']")
            await expect(row).to_contain_text("已登记")
            registered = page.locator("li[data-step=REGISTERED] [data-count]")
            await expect(registered).to_have_text("1")
            await _shot(page, "23-worklist")

            # a matter registered at another desk meanwhile appears live
            other = await _api(base, page, MUTATION_OPEN, {"input": {
                "origin": "PHONE", "title": "来电反映噪音扰民", "regionCode": COUNTY}})  # fmt: skip
            other_matter = other["openMatter"]["matter"]
            other_row = page.locator(f"tr[data-matter='{other_matter['number']}']")
            await expect(other_row).to_be_visible()
            await expect(registered).to_have_text("2")
            # 已超期 filter: none yet
            await page.get_by_label("期限", exact=True).select_option("overdue")
            await page.get_by_role("button", name="筛选", exact=True).click()
            await expect(page.get_by_text("没有符合条件的事项。")).to_be_visible()
            await _menu(page, "工作台").click()

            # 受理, 研判 and 分流 through the forms; the timeline shows each
            await row.get_by_role("link", name=number).click()
            await _act(page, "admit", "受理", {"办理意见": "来访登记，予以受理。"})
            await expect(page.locator("[data-fact=环节]")).to_have_text("已受理")
            await _act(page, "assess", "研判", {
                "纠纷类别": "NEIGHBOUR", "风险等级": "YELLOW", "复杂程度": "ORDINARY",
                "牵头单位（必填）": "湖滨区综治中心"})  # fmt: skip
            await expect(page.locator("[data-fact=环节]")).to_have_text("已研判")
            await _shot(page, "24-matter-assessed")
            await _act(page, "dispatch", "分流", {
                "承办单位（必填）": MEDIATION_COMMITTEE,
                "处置途径": "PEOPLES_MEDIATION"})  # fmt: skip
            await expect(page.locator("[data-fact=环节]")).to_have_text("已分流")
            timeline = page.locator("[data-timeline]")
            for action, text in (("ADMIT", "受理"), ("ASSESS", "研判"), ("DISPATCH", "分流")):
                await expect(timeline.locator(f"li[data-action={action}]")).to_contain_text(text)
            await expect(timeline.locator("li[data-action=DISPATCH]")).to_contain_text(
                "已研判 → 已分流"
            )
            await expect(page.locator("[data-fact=承办单位]")).to_have_text(MEDIATION_COMMITTEE)
            await expect(page.locator("[data-changed]")).to_be_empty()  # its own steps: no notice
            # the referral to the mediation platform (委派调解), queued by the dispatch
            await expect(page.locator("table[data-writebacks]")).to_contain_text("委派调解")
            # 督办 the committee through its form
            await _act(page, "supervise", "督办", {
                "督办级别": "SUPERVISE", "被督办单位（必填）": MEDIATION_COMMITTEE,
                "理由（必填）": "请加快调处进度。"})  # fmt: skip
            await expect(page.locator("[data-supervisions]")).to_contain_text(
                f"督办 → {MEDIATION_COMMITTEE}（办理中"
            )
            # day limits end at 24:00 of their last day: shown so, never as 00:00 of the next
            await expect(page.locator("[data-supervisions]")).to_contain_text(
                re.compile(r"回复期限 \d{4}/\d{2}/\d{2} 24:00")
            )
            due_cells = page.locator("table[data-clocks] tbody td:nth-child(4)")
            await expect(due_cells.filter(has_text=re.compile(r" 24:00$"))).not_to_have_count(0)
            await expect(due_cells.filter(has_text=re.compile(r" 00:00$"))).to_have_count(0)
            await _shot(page, "25-matter-dispatched")

            # a stale version: someone else took the other matter meanwhile → CONFLICT in Chinese
            await page.goto(f"{base}/console/#/matter/{other_matter['id']}")
            await expect(page.locator("form[data-action=admit]")).to_be_visible()
            await _api(base, page, MUTATION_ADMIT,
                       {"id": other_matter["id"], "v": other_matter["version"]})  # fmt: skip
            await expect(page.locator("[data-changed]")).to_contain_text("请刷新后再办理")
            await _act(page, "admit", "受理", {})
            await expect(page.locator("form[data-action=admit] [role=alert]")).to_have_text(
                "事项已被他人更新，请刷新后重试。"
            )
            await _shot(page, "26-matter-conflict")
            await page.get_by_role("button", name="刷新", exact=True).click()
            await expect(page.locator("[data-fact=环节]")).to_have_text("已受理")

            # 工作台, 仅看督办中: the supervised matter alone
            await _menu(page, "工作台").click()
            await page.get_by_label("仅看督办中").check()
            await page.get_by_role("button", name="筛选", exact=True).click()
            await expect(row).to_contain_text("督办")
            await expect(other_row).to_have_count(0)

            # the mediation committee sees only the matter dispatched to it, and signs for it
            await page.get_by_role("button", name="退出").click()
            await page.get_by_label("访问令牌（Bearer JWT）", exact=True).fill(partner)
            await page.get_by_role("button", name="登录", exact=True).click()
            await _menu(page, "工作台").click()
            await expect(page.locator("[data-total]")).to_have_text("共 1 件")
            await expect(page.locator(f"tr[data-matter='{number}']")).to_be_visible()
            await expect(other_row).to_have_count(0)
            await _shot(page, "27-worklist-partner")
            await page.get_by_role("link", name=number).click()
            await expect(page.locator("form[data-action=assess]")).to_have_count(0)
            await _act(page, "accept", "签收", {})
            await expect(page.locator("[data-fact=环节]")).to_have_text("处置中")
            reply = page.locator("form[data-action^=reply-]")
            await reply.get_by_label("回复内容（必填）").fill("已约双方本周五到场调解。")
            await reply.get_by_role("button", name="回复督办").click()
            await expect(page.locator("[data-supervisions]")).to_contain_text(
                "回复：已约双方本周五到场调解。"
            )
            # its result, through 反馈结果
            await _act(page, "result", "反馈结果", {"处置结果": "RESOLVED", "办理意见": "已调解。"})
            await expect(page.locator("[data-fact=环节]")).to_have_text("已反馈")
            await _shot(page, "28-matter-partner")
            # the other matter does not exist for it
            await page.goto(f"{base}/console/#/matter/{other_matter['id']}")
            await expect(page.get_by_role("alert")).to_contain_text("未找到该事项")

            # back at the centre: 核查, 结案, 回访 close the loop, all on the timeline
            await page.get_by_role("button", name="退出").click()
            await _sign_in(page, "center_staff")
            await expect(page.get_by_role("heading", name="记录", exact=True)).to_be_visible()
            await page.goto(f"{base}/console/#/matter/{first_id}")
            # the replied 督办: staff escalate it (督办升级), then close its successor (办结督办)
            escalate = page.locator("form[data-action^=escalate-order-]")
            await expect(escalate).to_have_count(1)
            await escalate.get_by_label("理由（必填）").fill("回复未落实，升级督办。")
            await escalate.get_by_role("button", name="督办升级").click()
            await expect(page.locator("[data-supervisions]")).to_contain_text(
                f"挂牌督办 → {MEDIATION_COMMITTEE}（办理中"
            )
            close_order = page.locator("form[data-action^=close-order-]")
            await expect(close_order).to_have_count(1)  # the escalated order is done with
            await close_order.get_by_label("理由（必填）").fill("已督促落实。")
            await close_order.get_by_role("button", name="办结督办").click()
            await expect(page.locator("form[data-action^=close-order-]")).to_have_count(0)
            await _act(page, "verify", "核查通过", {})
            await expect(page.locator("[data-fact=环节]")).to_have_text("已核查")
            await _act(page, "close", "结案", {"结案方式": "RESOLVED"})
            await expect(page.locator("[data-fact=环节]")).to_have_text("已结案")
            await _act(page, "revisit", "回访", {"满意度": "SATISFIED"})
            await expect(page.locator("[data-fact=环节]")).to_have_text("已回访")
            await expect(page.locator("[data-fact=回访满意度]")).to_have_text("满意")
            # 重新办理 follows a 不满意 revisit only: nothing to offer here
            await expect(page.locator("form[data-action=reopen]")).to_have_count(0)
            shown = await page.locator("[data-timeline] > li").evaluate_all(
                "items => items.map((li) => li.dataset.action)"
            )
            assert {"ISSUE_SUPERVISION", "REPLY_SUPERVISION"} <= set(shown)
            steps = [action for action in shown if not action.endswith("_SUPERVISION")]
            assert steps == ["OPEN", "ADMIT", "ASSESS", "DISPATCH", "ACCEPT", "REPORT_RESULT",
                             "VERIFY", "CLOSE", "REVISIT"]  # fmt: skip
            await _shot(page, "29-matter-revisited")

            assert watched.blocked == [], watched.blocked
            assert watched.script_errors == [], watched.script_errors
            mine = ACCESSIBILITY_PROBLEMS[problems_before:]
            assert mine == [], "\n".join(mine)
        finally:
            await browser.close()


async def _concluded_petition(app: Any) -> int:
    """A petition the petition system accepted, taken in by a sync, then answered (已答复) there
    and synced again: its matter (已受理) holds 来源系统已办结. Returns the matter's id."""
    workflow = app.state.govhub.workflow
    received = datetime(2026, 11, 2, tzinfo=ZoneInfo("Asia/Shanghai"))
    async with workflow.sessions.begin() as session:
        connection = await session.connection()
        await _insert(connection, Record, [{
            "id": 900001, "kind": RecordKind.PETITION, "source": SourceSystem.PETITION,
            "source_key": "XF411202202600900001", "category": DisputeCategory.NEIGHBOUR,
            "title": "邻里漏水（来访）", "summary": None, "occurred_at": received,
            "reported_at": received, "region_code": f"{COUNTY}001", "address": None,
            "status": CaseStatus.ACCEPTED, "risk_level": RiskLevel.NONE,
            "source_status": "已受理", "source_updated_at": received, "updated_at": received,
            "deleted": False,
        }])  # fmt: skip
        await _insert(connection, Petition, [{
            "id": 900001, "form": "来访", "accepted_on": received.date(),
            "petition_numbers": {"county": "XF411202202600900001"},
        }])  # fmt: skip
    assert (await take_in(workflow, IntakeRules(), [900001], source="PETITION")).opened == 1
    async with workflow.sessions.begin() as session:
        await session.execute(update(Record).where(Record.id == 900001).values(
            status=CaseStatus.RESOLVED, source_status="已答复"))  # fmt: skip
    assert (await take_in(workflow, IntakeRules(), [900001], source="PETITION")).concluded == 1
    async with workflow.sessions() as session:
        matter_id = await session.scalar(
            select(MatterRecord.matter_id).where(MatterRecord.record_id == 900001))
    assert matter_id is not None
    return int(matter_id)


async def test_staff_close_a_matter_its_source_concluded_without_dispatching_it(
    pii_key: bytes,
) -> None:
    chromium = require_chromium()
    async with serving(pii_key) as (base, app), async_playwright() as playwright:
        matter_id = await _concluded_petition(app)
        gid = base64.b64encode(f"Matter:{matter_id}".encode()).decode()
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:
            watched = await watched_page(browser, base)
            page = watched.page
            await page.goto(f"{base}/console/#/matter/{gid}", wait_until="load")
            await _sign_in(page, "center_staff")
            step = page.locator("[data-fact=环节]")
            await expect(step).to_have_text("已受理")
            fact = page.locator("[data-timeline] li[data-action=RECORD_FACT]")
            await expect(fact).to_be_visible()
            # staff verify the petition system's answer and close, no dispatch needed
            await _act(page, "verify-source", "核查来源办结结果", {"办理意见": "已核查信访答复。"})
            await expect(step).to_have_text("已核查")
            await expect(page.locator("form[data-action=dispatch]")).to_have_count(0)
            await _act(page, "close", "结案", {"结案方式": "RESOLVED"})
            await expect(step).to_have_text("已结案")
            assert watched.blocked == [], watched.blocked
            assert watched.script_errors == [], watched.script_errors
        finally:
            await browser.close()
