"""How the console shows a due instant (到期时间), run in Chromium on the console's own
``labels.js`` (no hub: the page is served from the sources, every other host blocked).

A limit counted in days ends at 24:00 of its last day; govhub stores that instant as 00:00
of the next day. Staff must read the last allowed day, not the day after it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page

from tests.e2e.sources_page import sources_page

SHOW_DUE = """async (values) => {
  const { dueTime } = await import('/js/labels.js');
  return values.map((value) => dueTime(value));
}"""


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    async with sources_page(browser, timezone_id="Europe/London") as opened:  # not Beijing's
        yield opened


async def test_a_limit_ending_at_midnight_shows_its_last_day_at_24_00(page: Page) -> None:
    # given due instants at Beijing midnight: the end of 10 December, of 31 December, of a
    # leap day, written in Beijing time and in UTC
    due = ["2026-12-11T00:00:00+08:00", "2027-01-01T00:00:00+08:00",
           "2028-03-01T00:00:00+08:00", "2026-12-10T16:00:00Z"]  # fmt: skip
    # when the console shows them
    shown = await page.evaluate(SHOW_DUE, due)
    # then each reads as the last allowed day, ending at 24:00 — never 00:00 of the day after
    assert shown == ["2026/12/10 24:00", "2026/12/31 24:00", "2028/02/29 24:00",
                     "2026/12/10 24:00"]  # fmt: skip


async def test_a_due_instant_not_at_midnight_shows_as_it_is(page: Page) -> None:
    # given a working-hour clock's due instants, a missing one and one that is not a date
    due = ["2026-12-11T09:30:00+08:00", "2026-12-10T16:01:00Z", None, "不是日期"]
    # when the console shows them
    shown = await page.evaluate(SHOW_DUE, due)
    # then they are Beijing time as stored
    assert shown == ["2026/12/11 09:30", "2026/12/11 00:01", "—", "不是日期"]
