"""A matter's 结案 time is the moment it left the open steps, on both databases: 回访 after it,
or a fact recorded on the closed matter, keeps it, so the closure stays in its own period
(按期办结率, 办理时长); a reopened matter (回访不满意) loses it until it closes again."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.matter_workflow import MatterWorkflow, NewMatter
from db.models import Matter
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import MatterAction, MatterOrigin, MatterStep
from tests.integration.clock_support import SettableClock, clocked_workflow

SH = ZoneInfo("Asia/Shanghai")
A = MatterAction
ORG = "org:tjw-huibin-001"
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("411202",)))
MEDIATOR = Actor.of(Principal("m-1", Role.MEDIATOR, org=ORG))
CLOSED = datetime(2025, 3, 31, 23, 30, tzinfo=SH)


@pytest.fixture
async def clock() -> SettableClock:
    return SettableClock(datetime(2025, 3, 3, 10, tzinfo=SH))


@pytest.fixture
async def flow(committing_engine: AsyncEngine, clock: SettableClock) -> MatterWorkflow:
    return clocked_workflow(committing_engine, clock)


async def _closed_on_march_31(flow: MatterWorkflow, clock: SettableClock) -> int:
    matter = await flow.open(STAFF, NewMatter(OpenPayload(
        origin=MatterOrigin.WALK_IN, region_code="411202001", title="邻里纠纷",
    )))  # fmt: skip
    await flow.apply(matter, A.ADMIT, STAFF, {})
    await flow.apply(matter, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "BLUE", "tier": "COMPLEX", "lead_org": "司法所",
    })  # fmt: skip
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    await flow.apply(matter, A.ACCEPT, MEDIATOR, {})
    await flow.apply(matter, A.REPORT_RESULT, MEDIATOR, {"result": "RESOLVED"})
    await flow.apply(matter, A.VERIFY, STAFF, {})
    clock.now = CLOSED
    await flow.apply(matter, A.CLOSE, STAFF, {"outcome": "RESOLVED"})
    return matter


async def _closed_at(flow: MatterWorkflow, matter_id: int) -> tuple[MatterStep, datetime | None]:
    async with flow.sessions() as session:
        row = await session.get(Matter, matter_id)
    assert row is not None
    return row.step, row.closed_at


async def test_a_revisit_after_closing_keeps_the_closing_time(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _closed_on_march_31(flow, clock)
    clock.now = datetime(2025, 4, 2, 10, tzinfo=SH)
    await flow.apply(matter, A.REVISIT, STAFF, {"satisfaction": "SATISFIED"})
    assert await _closed_at(flow, matter) == (MatterStep.REVISITED, CLOSED)


async def test_a_reopened_matter_closes_again_at_its_new_closing(
    flow: MatterWorkflow, clock: SettableClock
) -> None:
    matter = await _closed_on_march_31(flow, clock)
    clock.now = datetime(2025, 4, 2, 10, tzinfo=SH)
    await flow.apply(matter, A.REVISIT, STAFF, {"satisfaction": "DISSATISFIED"})
    await flow.apply(matter, A.REOPEN, STAFF, {"reason": "当事人不满意, 重新办理"})
    assert await _closed_at(flow, matter) == (MatterStep.ACCEPTED, None)
    await flow.apply(matter, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "BLUE", "tier": "COMPLEX", "lead_org": "司法所",
    })  # fmt: skip
    await flow.apply(matter, A.DISPATCH, STAFF, {"org": ORG, "track": "PEOPLES_MEDIATION"})
    await flow.apply(matter, A.ACCEPT, MEDIATOR, {})
    await flow.apply(matter, A.REPORT_RESULT, MEDIATOR, {"result": "RESOLVED"})
    await flow.apply(matter, A.VERIFY, STAFF, {})
    again = datetime(2025, 4, 20, 9, tzinfo=SH)
    clock.now = again
    await flow.apply(matter, A.CLOSE, STAFF, {"outcome": "RESOLVED"})
    assert await _closed_at(flow, matter) == (MatterStep.CLOSED, again)
