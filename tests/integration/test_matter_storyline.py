"""The closed loop end to end over the sandbox, on SQLite and PostgreSQL.

A 邻里纠纷 storyline of the sandbox (110 alert → grid event → mediation citing the alert →
司法确认 at the county court citing the mediation), with its mediation edited to fail so
the matter must go on to the court: the 110 alert syncs and opens a matter → staff assess and
dispatch it to the township mediation committee → the mediation record syncs, joins through
its REFERRED_FROM link and reports FAILED → staff re-dispatch to the court (诉前调解) → the
court record syncs, joins through its SAME_MATTER link and reports RESOLVED → staff verify,
close and revisit. Time is a fake clock: in one run every step is on time and nothing is
overdue; in the other the department sits on it, and two scanners at once breach the clocks
and supervise it exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.deadline_scanner import scan
from db.engine import session_factory
from db.matter_intake import take_in
from db.matter_workflow import MatterWorkflow
from db.models import Matter, MatterEvent, MatterRecord, Record, Supervision
from db.regions import seed_regions
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import CaseStatus, RecordKind, SourceSystem
from domain.events import ChangedRecord, MatterAnnouncement, MatterEventKind
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.intake import IntakeRules
from domain.workflow.vocabulary import MatterAction, MatterStep, SupervisionAction
from hub.demo import render_sources_file
from sandbox.model import SourceRecord, World
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.world import generate_world

A = MatterAction
STORYLINE = "neighbour_quarrel"
MEDIATION_ORG = "org:tjw-township"
COURT_ORG = "org:court-county"


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def _storyline(world: World) -> dict[SourceSystem, SourceRecord]:
    """The first neighbour_quarrel with every system but petitions, one record each."""
    matters: dict[str, dict[SourceSystem, SourceRecord]] = {}
    for system, records in world.records.items():
        for record in records:
            truth = world.truth[(system, record.key)]
            if truth.storyline == STORYLINE:
                matters.setdefault(truth.matter_id, {})[system] = record
    for found in matters.values():
        if {SourceSystem.POLICE_110, SourceSystem.MEDIATION, SourceSystem.COURT} <= set(found):
            return found
    raise AssertionError("the world has no complete neighbour_quarrel")


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[tuple[Sandbox, dict[SourceSystem, str]]]:
    world = generate_world(7, 300)
    story = _storyline(world)
    mediation = story[SourceSystem.MEDIATION]
    mediation.payload["status"] = "调解失败"  # this time the mediation fails
    mediation.payload.pop("agreement", None)
    async with Sandbox(SandboxConfig(base_port=0, scale=300, profile="clean"), world) as sb:
        yield sb, {system: record.key for system, record in story.items()}


STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("",)))
MEDIATOR = Actor.of(Principal("mediator-1", Role.MEDIATOR, org=MEDIATION_ORG))


class Loop:
    """The hub as serve wires it: sync with the intake hook, the workflow, a fake clock."""

    def __init__(self, engine: AsyncEngine, sb: Sandbox, start: datetime) -> None:
        self.engine = engine
        self.sandbox = sb
        self.clock = FakeClock(start)
        self.heard: list[MatterAnnouncement] = []

        async def publish(events: Sequence[MatterAnnouncement]) -> None:
            self.heard.extend(events)

        self.workflow = MatterWorkflow(
            session_factory(engine), load_rules(), ChineseWorkingCalendar(), publish, self.clock
        )
        # The centre opens matters from 110 alerts, whatever their status at the source.
        self.rules = IntakeRules(
            kinds=frozenset({RecordKind.POLICE_ALERT}), statuses=frozenset(CaseStatus)
        )

    async def sync(self, system: SourceSystem) -> None:
        configs = parse_sources(
            render_sources_file(self.sandbox.urls, self.sandbox.credentials, page_size=100)
        )

        async def follow(source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
            await take_in(self.workflow, self.rules, [c.record_id for c in changes],
                          source=source.value)

        async with open_connectors({system: configs[system]}) as connectors:
            result = await sync_source(
                self.engine, self.workflow.sessions, connectors[system], after_linking=follow
            )
        assert result.ok, result.error

    async def matter_of(self, source_key: str) -> Matter:
        async with self.workflow.sessions() as session:
            matter = await session.scalar(
                select(Matter).join(MatterRecord, MatterRecord.matter_id == Matter.id)
                .join(Record, Record.id == MatterRecord.record_id)
                .where(Record.source_key == source_key)
            )
        assert matter is not None, source_key
        return matter

    async def act(self, matter: Matter, action: MatterAction, actor: Actor,
                  payload: dict[str, Any], hours: float = 2) -> None:
        self.clock.advance(hours=hours)
        await self.workflow.apply(matter.id, action, actor, payload)

    async def timeline(self, matter: Matter) -> list[str]:
        async with self.workflow.sessions() as session:
            rows = await session.execute(
                select(MatterEvent.action, MatterEvent.details)
                .where(MatterEvent.matter_id == matter.id).order_by(MatterEvent.id)
            )
            return [
                f"{a}:{d['rule_id']}:{d['rung']}" if a in ("WARNING", "OVERDUE")
                else f"{a}:{d['kind']}" if a == "RECORD_JOINED" else a
                for a, d in rows
            ]


@pytest.fixture
async def loop(
    committing_engine: AsyncEngine, sandbox: tuple[Sandbox, dict[SourceSystem, str]]
) -> Loop:
    sb, _ = sandbox
    async with session_factory(committing_engine).begin() as session:
        await seed_regions(session)
    return Loop(committing_engine, sb, sb.world.now)


async def _to_dispatch(loop: Loop, keys: dict[SourceSystem, str]) -> Matter:
    await loop.sync(SourceSystem.POLICE_110)
    matter = await loop.matter_of(keys[SourceSystem.POLICE_110])
    assert matter.step is MatterStep.REGISTERED and matter.origin.value == "POLICE_ALERT"
    await loop.act(matter, A.ADMIT, STAFF, {})
    await loop.act(matter, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "YELLOW", "tier": "ORDINARY", "lead_org": "司法所"
    })
    await loop.act(matter, A.DISPATCH, STAFF,
                   {"org": MEDIATION_ORG, "track": "PEOPLES_MEDIATION"})
    return matter


async def _to_the_end(loop: Loop, keys: dict[SourceSystem, str], matter: Matter) -> Matter:
    loop.clock.advance(hours=20)
    await loop.sync(SourceSystem.GRID)  # the grid event joins only through a joining link
    await loop.sync(SourceSystem.MEDIATION)
    assert (await loop.matter_of(keys[SourceSystem.MEDIATION])).id == matter.id
    failed = await loop.matter_of(keys[SourceSystem.MEDIATION])
    assert (failed.step, failed.result) == (MatterStep.FED_BACK, CaseStatus.FAILED)
    await loop.act(failed, A.REDISPATCH, STAFF, {
        "org": COURT_ORG, "track": "PRE_FILING_MEDIATION", "reason": "调解不成，转诉前调解"
    })
    loop.clock.advance(days=1)
    await loop.sync(SourceSystem.COURT)
    resolved = await loop.matter_of(keys[SourceSystem.COURT])
    assert resolved.id == matter.id
    assert (resolved.step, resolved.result, resolved.assigned_org) == (
        MatterStep.FED_BACK, CaseStatus.RESOLVED, COURT_ORG
    )
    await loop.act(resolved, A.VERIFY, STAFF, {})
    await loop.act(resolved, A.CLOSE, STAFF, {"outcome": "RESOLVED"})
    await loop.act(resolved, A.REVISIT, STAFF, {"satisfaction": "SATISFIED"})
    return await loop.matter_of(keys[SourceSystem.COURT])


LOOP_ACTIONS = [
    "OPEN", "ADMIT", "ASSESS", "DISPATCH",
    "RECORD_JOINED:DISPUTE", "ACCEPT", "REPORT_RESULT",  # the mediation record, failed
    "REDISPATCH",
    "RECORD_JOINED:COURT_FILING", "ACCEPT", "REPORT_RESULT",  # the court record, resolved
    "VERIFY", "CLOSE", "REVISIT",
]


async def test_the_loop_on_time(
    loop: Loop, sandbox: tuple[Sandbox, dict[SourceSystem, str]]
) -> None:
    _, keys = sandbox
    matter = await _to_dispatch(loop, keys)
    final = await _to_the_end(loop, keys, matter)
    assert final.step is MatterStep.REVISITED and final.number.count("-") == 2
    await scan(loop.workflow, loop.clock())
    timeline = await loop.timeline(final)
    # (the grid event joins too when the linker ties it to the alert by a joining link)
    skip = ("WARNING", "OVERDUE", "RECORD_JOINED:GRID_EVENT")
    assert [a for a in timeline if not a.startswith(skip)] == LOOP_ACTIONS
    assert not any(a.startswith("OVERDUE") for a in timeline)
    async with loop.workflow.sessions() as session:
        orders = (await session.scalars(select(Supervision))).all()
    assert orders == []
    kinds = {e.kind for e in loop.heard if e.matter_id == matter.id}
    assert {MatterEventKind.OPENED, MatterEventKind.RECORD_JOINED,
            MatterEventKind.STEP_CHANGED} <= kinds  # fmt: skip


async def test_the_loop_breached_is_supervised_once_by_two_scanners(
    loop: Loop, sandbox: tuple[Sandbox, dict[SourceSystem, str]]
) -> None:
    _, keys = sandbox
    matter = await _to_dispatch(loop, keys)
    # the committee neither accepts nor reports for ten days
    loop.clock.advance(days=10)
    first, second = await asyncio.gather(
        scan(loop.workflow, loop.clock(), by="replica-a"),
        scan(loop.workflow, loop.clock(), by="replica-b"),
    )
    assert first.breaches + second.breaches == 2  # dispatch.accept and the tier clock
    assert (await scan(loop.workflow, loop.clock(), by="replica-a")).breaches == 0
    timeline = await loop.timeline(matter)
    overdue = sorted(a for a in timeline if a.startswith("OVERDUE"))
    assert overdue == [
        "OVERDUE:dispatch.accept:due", "OVERDUE:matter.tier.ordinary:due"
    ]
    async with loop.workflow.sessions() as session:
        orders = (await session.scalars(
            select(Supervision).where(Supervision.matter_id == matter.id)
            .order_by(Supervision.id)
        )).all()
    assert [(o.level.value, o.target_org, o.automatic) for o in orders] == [
        ("REMINDER", MEDIATION_ORG, True), ("SUPERVISE", MEDIATION_ORG, True)
    ]
    assert timeline.count("ISSUE_SUPERVISION") == 2
    # the department answers the first order, and the loop still closes
    first_order = orders[0].id
    loop.clock.advance(hours=1)
    await loop.workflow.act_on_order(first_order, SupervisionAction.REPLY_SUPERVISION,
                                     MEDIATOR, {"reply": "已组织调解"})
    final = await _to_the_end(loop, keys, matter)
    assert final.step is MatterStep.REVISITED
