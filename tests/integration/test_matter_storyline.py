"""The closed loop end to end over the sandbox, on SQLite and PostgreSQL.

The sandbox's ``grid_to_court`` storyline (a grid event the 网格员 hands on, still 处置中 at
the grid → the township committee's mediation fails → the county court's 诉前调解 citing the
mediation succeeds), as the hub lives it under the shipped intake configuration
(``GOVHUB_MATTER_OPEN_*`` unset: every kind, any category, records still being handled): the
grid event syncs and opens a matter → staff assess and dispatch it to the township mediation
committee → the mediation record syncs, joins through its SAME_MATTER link to the grid event
(the same two parties, place, time and category) and reports FAILED → staff re-dispatch to the
court (诉前调解) → the court record syncs, joins through its ESCALATED_TO link from the
mediation (its mediationCaseNo) and reports RESOLVED → staff verify, close and revisit. Time
is a fake clock: in one run every step is on time and nothing is overdue; in the other the
department sits on it, and two scanners at once breach the clocks and supervise it exactly
once. Every automatic action (opening, joining, 签收 and feedback from a synced record, each
warning, breach and automatic 督办) is on the audit chain under a system principal, and the
chain still verifies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.audit import verify_chain
from db.deadline_scanner import scan
from db.engine import session_factory
from db.matter_intake import take_in
from db.matter_workflow import MatterWorkflow
from db.models import AuditEntry, Link, Matter, MatterEvent, MatterRecord, Record, Supervision
from db.regions import seed_regions
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import CaseStatus, DisputeCategory, SourceSystem
from domain.events import ChangedRecord, MatterAnnouncement, MatterEventKind
from domain.masking import mask_text
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.intake import IntakeRules
from domain.workflow.vocabulary import MatterAction, MatterStep, SupervisionAction
from hub.demo import render_sources_file
from hub.matters import intake_rules
from hub.settings import Settings
from sandbox.model import SourceRecord, World
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.world import generate_world

A = MatterAction
STORYLINE = "grid_to_court"
MEDIATION_ORG = "org:tjw-township"
COURT_ORG = "org:court-county"
CHAIN = (SourceSystem.GRID, SourceSystem.MEDIATION, SourceSystem.COURT)


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def _storyline(world: World) -> dict[SourceSystem, SourceRecord]:
    """The world's first grid_to_court matter: one grid event, mediation and court case."""
    matters: dict[str, dict[SourceSystem, SourceRecord]] = {}
    for system, records in world.records.items():
        for record in records:
            truth = world.truth[(system, record.key)]
            if truth.storyline == STORYLINE:
                matters.setdefault(truth.matter_id, {})[system] = record
    first = matters[min(matters)]
    assert set(first) == set(CHAIN), first
    return first


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[tuple[Sandbox, dict[SourceSystem, str]]]:
    world = generate_world(7, 300)
    story = _storyline(world)
    # as generated: still being handled at the grid, failed at the committee, resolved by
    # the court's 诉前调解 citing the mediation
    assert story[SourceSystem.GRID].payload["status"] == "03"
    assert story[SourceSystem.MEDIATION].payload["status"] == "调解失败"
    court = story[SourceSystem.COURT].payload
    assert (court["caseType"], court["outcome"], court["mediationCaseNo"]) == (
        "诉前调解", "调解成功", story[SourceSystem.MEDIATION].key
    )
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
        # the shipped configuration, as serve reads it with no GOVHUB_MATTER_OPEN_* set
        self.rules = intake_rules(Settings(_env_file=None))
        assert self.rules == IntakeRules()

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


async def links_between(loop: Loop, a: str, b: str) -> set[str]:
    """The link kinds stored between the records keyed ``a`` and ``b``, either direction."""
    async with loop.workflow.sessions() as session:
        ids = list(await session.scalars(
            select(Record.id).where(Record.source_key.in_([a, b]))
        ))  # fmt: skip
        assert len(ids) == 2
        kinds = await session.scalars(
            select(Link.link_kind).where(
                Link.from_record_id.in_(ids), Link.to_record_id.in_(ids)
            )
        )
        return {str(k) for k in kinds}


async def _to_dispatch(loop: Loop, keys: dict[SourceSystem, str]) -> Matter:
    await loop.sync(SourceSystem.GRID)
    matter = await loop.matter_of(keys[SourceSystem.GRID])
    # the grid platform is already handling it (处理中): the matter arrives 受理 by the source
    assert matter.step is MatterStep.ACCEPTED and matter.origin.value == "GRID_EVENT"
    assert matter.category is DisputeCategory.NEIGHBOUR
    await loop.act(matter, A.ASSESS, STAFF, {
        "category": "NEIGHBOUR", "risk": "YELLOW", "tier": "ORDINARY", "lead_org": "司法所"
    })
    await loop.act(matter, A.DISPATCH, STAFF,
                   {"org": MEDIATION_ORG, "track": "PEOPLES_MEDIATION"})
    return matter


async def _to_the_end(loop: Loop, keys: dict[SourceSystem, str], matter: Matter) -> Matter:
    grid, mediation, court = (keys[s] for s in CHAIN)
    loop.clock.advance(hours=20)
    await loop.sync(SourceSystem.MEDIATION)
    assert await links_between(loop, grid, mediation) == {"SAME_MATTER"}
    failed = await loop.matter_of(mediation)
    assert failed.id == matter.id
    assert (failed.step, failed.result) == (MatterStep.FED_BACK, CaseStatus.FAILED)
    await loop.act(failed, A.REDISPATCH, STAFF, {
        "org": COURT_ORG, "track": "PRE_FILING_MEDIATION", "reason": "调解不成，转诉前调解"
    })
    loop.clock.advance(days=1)
    await loop.sync(SourceSystem.COURT)
    assert await links_between(loop, mediation, court) == {"ESCALATED_TO"}
    resolved = await loop.matter_of(court)
    assert resolved.id == matter.id
    assert (resolved.step, resolved.result, resolved.assigned_org) == (
        MatterStep.FED_BACK, CaseStatus.RESOLVED, COURT_ORG
    )
    await loop.act(resolved, A.VERIFY, STAFF, {})
    await loop.act(resolved, A.CLOSE, STAFF, {"outcome": "RESOLVED"})
    await loop.act(resolved, A.REVISIT, STAFF, {"satisfaction": "SATISFIED"})
    final = await loop.matter_of(court)
    async with loop.workflow.sessions() as session:
        members = set(await session.scalars(
            select(Record.source_key).join(MatterRecord, MatterRecord.record_id == Record.id)
            .where(MatterRecord.matter_id == matter.id)
        ))  # fmt: skip
    assert members == {grid, mediation, court}
    return final


async def system_audit(loop: Loop, matter: Matter) -> list[tuple[str, str]]:
    """(principal, operation) of the audit rows about ``matter``, in chain order, after
    checking the whole chain still verifies and that every row is masked and by the system."""
    async with loop.workflow.sessions() as session:
        checked, problem = await verify_chain(session)
        assert problem is None and checked > 0
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    about = []
    for row in rows:
        assert row.role == "system" and row.principal and row.principal.startswith("system:")
        shown = json.dumps(row.variables, ensure_ascii=False)
        assert mask_text(shown) == shown
        assert row.variables is not None and row.variables["matterNumber"]
        if row.variables["matterId"] == matter.id:
            about.append((row.principal, row.operation or ""))
    return about


LOOP_AUDIT = [
    ("system:sync:GRID", "matter.OPEN"),
    ("system:sync:GRID", "matter.ADMIT"),  # the grid's own 处理中, taken over at intake
    ("system:sync:MEDIATION", "matter.RECORD_JOINED"),
    ("system:sync:MEDIATION", "matter.ACCEPT"),  # 签收 implied by the result
    ("system:sync:MEDIATION", "matter.REPORT_RESULT"),
    ("system:sync:COURT", "matter.RECORD_JOINED"),
    ("system:sync:COURT", "matter.ACCEPT"),
    ("system:sync:COURT", "matter.REPORT_RESULT"),
]
"""The automatic actions of the loop, each on the audit chain (staff act through GraphQL,
audited there; this test drives the workflow directly)."""

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
    assert [a for a in timeline if not a.startswith("WARNING")] == LOOP_ACTIONS
    assert not any(a.startswith("OVERDUE") for a in timeline)
    async with loop.workflow.sessions() as session:
        orders = (await session.scalars(select(Supervision))).all()
    assert orders == []
    audited = await system_audit(loop, final)
    warnings = [a for a in audited if a[1] == "matter.WARNING"]
    assert [a for a in audited if a not in warnings] == LOOP_AUDIT
    assert len(warnings) == sum(a.startswith("WARNING") for a in timeline)
    assert {p for p, _ in warnings} <= {"system:deadline-scanner"}
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
    # each firing and each automatic 督办 on the audit chain, by the scanner that won it
    audited = await system_audit(loop, matter)
    scanners = {"system:replica-a", "system:replica-b"}
    overdue = [a for a in audited if a[1] == "matter.OVERDUE"]
    supervised = [a for a in audited if a[1] == "matter.ISSUE_SUPERVISION"]
    assert len(overdue) == 2 and len(supervised) == 2
    assert {p for p, _ in overdue + supervised} <= scanners
    assert sum(a[1] == "matter.WARNING" for a in audited) == sum(
        a.startswith("WARNING") for a in timeline)
    # the department answers the first order, and the loop still closes
    first_order = orders[0].id
    loop.clock.advance(hours=1)
    await loop.workflow.act_on_order(first_order, SupervisionAction.REPLY_SUPERVISION,
                                     MEDIATOR, {"reply": "已组织调解"})
    final = await _to_the_end(loop, keys, matter)
    assert final.step is MatterStep.REVISITED
