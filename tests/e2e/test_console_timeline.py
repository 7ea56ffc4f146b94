"""How 办理记录 names the hub's own actors and the notes a sync writes, run in Chromium on the
console's own ``labels.js`` (no hub: ``tests.e2e.sources_page`` serves the sources, every
other host blocked).

A sync, the deadline scanner and a matter's end act as ``system:sync:MEDIATION``,
``deadline-scanner:<replica>`` or ``system:matter-ended``, and a sync's notes cite the record
as ``MEDIATION TJ…: ACCEPTED``; staff read neither the codes nor the English."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page

from tests.e2e.sources_page import sources_page

SHOW_ACTORS = """async (values) => {
  const { actorName } = await import('/js/labels.js');
  return values.map((value) => actorName(value));
}"""
SHOW_NOTES = """async (values) => {
  const { timelineNote } = await import('/js/labels.js');
  return values.map((value) => timelineNote(value));
}"""


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    async with sources_page(browser) as opened:
        yield opened


async def test_the_hubs_own_actors_are_named_in_chinese(page: Page) -> None:
    # given the actors a sync, the scanner (on one replica) and a matter's end write
    actors = ["system:sync:MEDIATION", "system:sync:POLICE_110", "deadline-scanner:vm:12032:3911ee",
              "system:deadline-scanner", "system:matter-ended", "system:breach-voided",
              "staff-qa", "system:something-new"]  # fmt: skip
    # when 办理记录 shows them
    shown = await page.evaluate(SHOW_ACTORS, actors)
    # then staff read which system acted, and a person's id as it is
    assert shown == ["人民调解平台同步", "110 接处警平台同步", "时限扫描", "时限扫描",
                     "事项办结", "逾期核销", "staff-qa", "系统"]  # fmt: skip


async def test_a_syncs_notes_name_the_source_and_status_in_chinese(page: Page) -> None:
    # given the notes a sync writes: the record it took in, its feedback, a source's 办结
    notes = ["MEDIATION TJ510117001202600001", "MEDIATION TJ510117001202689001: ACCEPTED",
             "GRID G-77: RESOLVED", "PETITION XF2025-1（已办结）", "COURT K1（RESOLVED）",
             "已约双方调解。", "OK 123"]  # fmt: skip
    # when 办理记录 shows them
    shown = await page.evaluate(SHOW_NOTES, notes)
    # then the source system and the status are Chinese, the source's own key kept
    assert shown == [
        "人民调解平台 TJ510117001202600001",
        "人民调解平台 TJ510117001202689001：已受理",
        "网格化服务管理平台 G-77：已化解",
        "信访信息系统 XF2025-1（已办结）",
        "法院案件系统 K1（已化解）",
        "已约双方调解。",
        "OK 123",
    ]
