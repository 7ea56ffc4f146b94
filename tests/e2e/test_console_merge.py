"""并案 (merging matters) from a matter's page in Chromium with the network cut off: centre
staff name the other matters by their numbers, as they read them in 工作台; those are
withdrawn into the one kept, and a number that names no matter they may see is refused in
Chinese before anything is sent."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from domain.roles import Role
from tests.e2e.serving import MUTATION_OPEN, ask, serving
from tests.e2e.test_console import ACCESSIBILITY_PROBLEMS, _shot
from tests.e2e.test_console_roles import COUNTY, _finish, _signed_in
from tests.integration.auth_support import token

QUERY_STEP = "query S($id: ID!) { matter(id: $id) { step records { id } } }"


async def test_staff_merge_matters_by_their_numbers(pii_key: bytes, browser: Browser) -> None:
    async with serving(pii_key) as (base, _app):
        # given three matters phoned in about the same leaking roof
        staff = token(Role.CENTER_STAFF, [COUNTY])
        kept, *others = [
            (await ask(base, staff, MUTATION_OPEN, {"input": {
                "origin": "PHONE", "title": f"楼上漏水（第{n}次来电）", "regionCode": COUNTY}}))[
                "openMatter"]["matter"]
            for n in (1, 2, 3)
        ]  # fmt: skip
        problems = len(ACCESSIBILITY_PROBLEMS)
        watched = await _signed_in(browser, base, Role.CENTER_STAFF)
        page = watched.page
        await page.goto(f"{base}/console/#/matter/{kept['id']}")
        form = page.locator("form[data-action=merge]")
        # when staff name a number that is no matter of theirs
        await form.get_by_label("并入事项编号").fill(f"{others[0]['number']} 411202-1999-000009")
        await form.get_by_label("理由").fill("同一漏水纠纷重复来电")
        await form.get_by_role("button", name="并案", exact=True).click()
        # then nothing is merged, and the console says which number it could not find
        await expect(form.get_by_role("alert")).to_have_text(
            "未找到事项 411202-1999-000009（或不在您的辖区内），未并案。"
        )
        assert (await ask(base, staff, QUERY_STEP, {"id": others[0]["id"]}))["matter"][
            "step"
        ] == "REGISTERED"
        # when they name the two others, separated by a comma
        numbers = f"{others[0]['number']}，{others[1]['number']}"
        await form.get_by_label("并入事项编号").fill(numbers)
        await form.get_by_role("button", name="并案", exact=True).click()
        # then both are withdrawn into the one kept, whose timeline says so
        timeline = page.locator("[data-timeline] li[data-action=MERGED_FROM]")
        await expect(timeline).to_have_count(2)
        await expect(timeline.first).to_contain_text("并入其他事项")
        for other in others:
            merged = await ask(base, staff, QUERY_STEP, {"id": other["id"]})
            assert merged["matter"]["step"] == "WITHDRAWN"
        await _shot(page, "merge-kept")
        await _finish(watched, problems)
