"""The closed loop on stored matters (事项办理服务): load, let the machine decide, store, announce.

One unit of work per action: the matter is read, :class:`~domain.workflow.MatterMachine` (or
:class:`~domain.supervision.SupervisionMachine`) computes the transition, and the new state
is written under the version that was read (optimistic concurrency: of two actors acting at
once exactly one wins, the other gets ``CONFLICT``), with its timeline rows, clock changes and
write-backs (:mod:`db.matter_writes`: outbox rows for a dispatch or a result that must reach a
department's own system), in one transaction. After the commit the change is announced
(``publish``: the event bus). A matter outside the actor's reach
(:class:`~domain.workflow.visibility.MatterScope`) is ``NOT_FOUND``; the machine's own refusals
keep their codes. After the commit the matter is also re-graded (风险研判,
:meth:`MatterWorkflow.grade`), in a transaction of its own that never fails the action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.linking_lock import grading_lock
from db.matter_writes import enqueue_matter_writes
from db.matters import (
    allocate_numbers,
    append_events,
    apply_clock_ops,
    bump_version,
    held_source_conclusion,
    load_matter,
    new_matter_row,
    number_key,
    save_state,
    started_clocks,
    state_of,
    typed_text,
)
from db.models import (
    ClockRow,
    ClockRung,
    Matter,
    MatterEvent,
    MatterParty,
    MatterRecord,
    Supervision,
)
from db.risk import RiskConfig, grade_matters, grade_touched
from domain.calendar import WorkingCalendar
from domain.deadlines import DUE, RuleBook
from domain.enums import PartyRole
from domain.events import MatterAnnouncement, MatterEventKind
from domain.masking import mask_text
from domain.risk.alerts import RiskAlert
from domain.supervision import (
    SupervisionEvent,
    SupervisionMachine,
    SupervisionOrder,
    SupervisionStatus,
    SupervisionTransition,
)
from domain.workflow.actors import Actor
from domain.workflow.errors import Conflict, NotFound
from domain.workflow.intake import UNDISPATCHED, SourceDates
from domain.workflow.machine import MatterMachine
from domain.workflow.payloads import IssueSupervisionPayload, OpenPayload, Payload
from domain.workflow.state import MatterState, Transition
from domain.workflow.visibility import ALL_MATTERS, MatterScope
from domain.workflow.vocabulary import (
    OPEN_STEPS,
    ActorKind,
    MatterAction,
    MatterStep,
    SupervisionAction,
)

log = structlog.get_logger(__name__)

Publisher = Callable[[Sequence[MatterAnnouncement]], Awaitable[None]]
RiskAlertListener = Callable[[Sequence[RiskAlert]], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class IntakeParty:
    """A party as staff register it at intake; identifiers already validated."""

    role: PartyRole
    name: str
    id_number: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class NewMatter:
    """What opening a matter needs beside the machine's payload."""

    payload: OpenPayload
    summary: str | None = None
    parties: Sequence[IntakeParty] = ()
    record_id: int | None = None
    """The synced record that opened it (how = ORIGIN)."""
    source_dates: SourceDates | None = None
    """The synced record's own dates (来源日期): the matter is registered, and 受理 when the
    source says so, on these (:meth:`MatterMachine.take_over`)."""


def scope_of(actor: Actor) -> MatterScope:
    """The matters an actor reaches: the system all, a person by their principal."""
    if actor.kind is ActorKind.SYSTEM:
        return ALL_MATTERS
    return MatterScope.of(actor.principal)


def announcement(
    row: Matter, kind: MatterEventKind, detail: str, at: datetime, previous_org: str | None = None
) -> MatterAnnouncement:
    return MatterAnnouncement(
        matter_id=row.id, kind=kind, step=row.step.value, region_code=row.region_code,
        assigned_org=row.assigned_org, detail=detail, at=at,
        previous_org=previous_org if previous_org != row.assigned_org else None,
    )


async def open_matters(
    session: AsyncSession,
    machine: MatterMachine,
    calendar: WorkingCalendar,
    actor: Actor,
    matters: Sequence[NewMatter],
    now: datetime,
) -> list[Matter]:
    """Open ``matters`` in ``session`` (one number each, timeline, clocks). A matter from a
    synced record is registered at the record's own receipt (its ``opened_at``, its clocks);
    its number (一案一码) is drawn for the year govhub registers it in."""
    transitions = [
        machine.open(actor, m.payload, now) if m.source_dates is None
        else machine.take_over(actor, m.payload, m.source_dates, now)
        for m in matters
    ]
    numbers = await allocate_numbers(
        session, [number_key(t.state.region_code, now) for t in transitions]
    )
    rows = [
        new_matter_row(
            t.state, number=number, title=typed_text(m.payload.title, actor.kind),
            summary=typed_text(m.summary, actor.kind) if m.summary else m.summary,
            opened_by=actor.sub, opened_at=t.events[0].at, updated_at=now,
        )
        for m, t, number in zip(matters, transitions, numbers, strict=True)
    ]
    session.add_all(rows)
    await session.flush()
    for m, t, row in zip(matters, transitions, rows, strict=True):
        append_events(session, row.id, t.events)
        session.add_all(
            MatterParty(matter_id=row.id, position=i, role=p.role, name=p.name,
                        id_number=p.id_number, phone=p.phone)
            for i, p in enumerate(m.parties)
        )
        if m.record_id is not None:
            session.add(MatterRecord(matter_id=row.id, record_id=m.record_id, how="ORIGIN",
                                     attached_by=actor.sub, attached_at=now))
        # a new matter has no stored clock to read first: its clocks start (and one taken
        # over from a source's dates may stop again, e.g. 登记转送 at the source's 受理)
        session.add_all(started_clocks(row.id, t.clock_ops, machine.rules, calendar))
    await session.flush()
    return rows


@dataclass
class MatterWorkflow:
    """Acts on stored matters: ``open``, ``apply``, and 督办 ``supervise`` / ``act_on_order``."""

    sessions: async_sessionmaker[AsyncSession]
    rules: RuleBook
    calendar: WorkingCalendar
    publish: Publisher | None = None
    now: Callable[[], datetime] = utc_now
    risk: RiskConfig | None = None
    """The risk rules matters are graded by; the shipped ones when None."""
    on_risk_alerts: RiskAlertListener | None = None
    """Hears a matter's grade rising to the alert level (风险预警), after the commit."""
    machine: MatterMachine = field(init=False)
    supervision: SupervisionMachine = field(init=False)
    ungraded: set[int] = field(init=False, default_factory=set)
    """Matters whose grading failed: graded again with the next call of :meth:`grade`."""

    def __post_init__(self) -> None:
        self.machine = MatterMachine(self.rules)
        self.supervision = SupervisionMachine(self.rules)

    async def announce(self, events: Sequence[MatterAnnouncement]) -> None:
        """Publish after the commit; a failure is logged: the change itself is stored."""
        if self.publish is None or not events:
            return
        try:
            await self.publish(events)
        except Exception as exc:  # subscribers miss it; nothing to undo
            log.warning("matter_announcement_failed", error=type(exc).__name__)

    async def grade(self, matter_ids: Collection[int]) -> None:
        """Re-grade ``matter_ids`` and those whose grading failed before, in a transaction of
        its own; never raises: a failure is logged and the matters kept for the next call."""
        wanted = set(matter_ids) | self.ungraded
        if not wanted:
            return
        try:
            # under the grading lock: a sync's grading pass may be adding the first grade of
            # the same matter (two first grades would collide) or writing one from what it
            # read before this step; so the step's grade waits for such a pass (a few seconds
            # at most, during a sync) and is computed after it
            async with self.sessions.begin() as session, grading_lock(session):
                alerts = await grade_matters(session, wanted, self.risk, now=self.now())
        except Exception as exc:  # the step is committed; the grade follows with a later call
            self.ungraded |= wanted  # with those of any other call that failed meanwhile
            log.warning("matter_grading_failed", matters=len(wanted), error=type(exc).__name__)
            return
        self.ungraded -= wanted
        await self._alert(alerts)

    async def grade_records(self, record_ids: Collection[int]) -> None:
        """Re-grade ``record_ids`` with their persons (风险研判) after a staff decision changed
        their facts (a merge, a split, a link confirmed or rejected), in a transaction of its
        own under the grading lock; never raises: the next sync pass grades them otherwise."""
        if not record_ids:
            return
        try:
            async with self.sessions.begin() as session, grading_lock(session):
                alerts = await grade_touched(session, record_ids, self.risk, now=self.now())
        except Exception as exc:  # the decision is committed
            log.warning("record_grading_failed", records=len(record_ids),
                        error=type(exc).__name__)
            return
        await self._alert(alerts)

    async def _alert(self, alerts: Sequence[RiskAlert]) -> None:
        if self.on_risk_alerts is not None and alerts:
            try:
                await self.on_risk_alerts(alerts)
            except Exception as exc:  # subscribers miss these alerts; the grades are committed
                log.warning("risk_alert_failed", error=type(exc).__name__)

    async def open(self, actor: Actor, matter: NewMatter) -> int:
        now = self.now()
        async with self.sessions.begin() as session:
            (row,) = await open_matters(session, self.machine, self.calendar, actor, [matter], now)
            event = announcement(row, MatterEventKind.OPENED, MatterAction.OPEN.value, now)
        await self.announce([event])
        await self.grade([row.id])
        return row.id

    async def apply(
        self,
        matter_id: int,
        action: MatterAction,
        actor: Actor,
        payload: Payload | Mapping[str, Any] | None,
        *,
        expected_version: int | None = None,
    ) -> int:
        """Apply ``action``; returns the matter's new version."""
        now = self.now()
        async with self.sessions.begin() as session:
            row = await load_matter(session, matter_id, scope_of(actor))
            before = state_of(row)
            concluded = (
                await held_source_conclusion(session, matter_id)
                if action is MatterAction.VERIFY and before.step in UNDISPATCHED else None
            )  # fmt: skip
            transition = self.machine.apply(
                before, action, actor, payload, now, expected_version=expected_version,
                source_concluded=concluded,
            )
            await store_transition(session, self, matter_id, before, transition, now)
            row = await load_matter(session, matter_id, ALL_MATTERS)
            event = announcement(row, MatterEventKind.STEP_CHANGED, action.value, now,
                                 previous_org=before.assigned_org)  # fmt: skip
        await self.announce([event])
        await self.grade([matter_id])
        return transition.state.version

    async def supervise(
        self,
        matter_id: int,
        actor: Actor,
        payload: IssueSupervisionPayload | Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> int:
        """督办 by staff: a new order on the matter; returns its id.

        The order moves the matter's version under the same optimistic check as a step: of a
        督办 and a step taken at once (a 结案 or 撤回 that would close the matter's orders,
        another 督办), one wins and the other is :class:`Conflict` — never an open order on
        a matter that ended without it."""
        now = self.now()
        async with self.sessions.begin() as session:
            row = await load_matter(session, matter_id, scope_of(actor))
            moved = self.supervision.issue(
                state_of(row), actor, payload, now, expected_version=expected_version
            )
            await bump_version(session, row, now)
            order = await store_order(session, self, row, None, moved, now)
            event = announcement(row, MatterEventKind.SUPERVISED, moved.order.level.value, now)
        await self.announce([event])
        await self.grade([matter_id])
        return order.id

    async def act_on_order(
        self,
        order_id: int,
        action: SupervisionAction,
        actor: Actor,
        payload: Payload | Mapping[str, Any] | None,
        *,
        expected_version: int | None = None,
    ) -> int:
        """回复 / 办结 / 升级 a 督办单; returns the order's id (the new one on escalation)."""
        now = self.now()
        async with self.sessions.begin() as session:
            stored = await session.get(Supervision, order_id, populate_existing=True)
            if stored is None:
                raise NotFound(f"supervision order {order_id} does not exist")
            row = await session.get(Matter, stored.matter_id)
            assert row is not None
            reaches = scope_of(actor).admits(row.region_code, row.assigned_org) or (
                actor.kind is ActorKind.PARTNER and actor.belongs_to(stored.target_org)
            )
            if not reaches:
                raise NotFound(f"supervision order {order_id} does not exist")
            moved = self.supervision.apply(
                order_of(stored, row), action, actor, payload, now,
                expected_version=expected_version,
            )
            order = await store_order(session, self, row, stored, moved, now)
            event = announcement(row, MatterEventKind.SUPERVISED, action.value, now)
        await self.announce([event])
        await self.grade([row.id])
        return order.id


async def store_transition(
    session: AsyncSession,
    workflow: MatterWorkflow,
    matter_id: int,
    before: MatterState,
    transition: Transition,
    now: datetime,
) -> None:
    """Write a machine transition: state (version-checked), timeline, clocks, and the
    write-backs it asks for (outbox rows: they commit or roll back with the step)."""
    await save_state(session, matter_id, before.version, transition.state, now)
    append_events(session, matter_id, transition.events)
    await apply_clock_ops(
        session, matter_id, transition.clock_ops, workflow.rules, workflow.calendar
    )
    await enqueue_matter_writes(session, matter_id, transition, now)
    if before.step in OPEN_STEPS and transition.state.step not in OPEN_STEPS:
        await end_orders(session, workflow, matter_id, transition.state.step, now)


MATTER_ENDED = "matter-ended"
"""The system actor that closes a finished matter's supervision orders."""
BREACH_VOIDED = "breach-voided"
"""The system actor that closes the 督办单 of a breach that did not happen."""


_PRESSING = (SupervisionStatus.OPEN.value, SupervisionStatus.REPLIED.value)
"""An order's statuses while it presses its target (an ESCALATED one is superseded)."""


@dataclass(frozen=True, slots=True)
class VoidedOrder:
    """A 督办单 closed because the breach it pressed did not happen, as stored."""

    order: Supervision
    moved: SupervisionTransition
    rule_id: str


async def void_breaches(
    session: AsyncSession,
    workflow: MatterWorkflow,
    matter_id: int,
    clock_ids: Collection[int],
    now: datetime,
) -> list[VoidedOrder]:
    """办结 the 督办单 of breaches that did not happen (逾期不成立), for the matter's clocks
    ``clock_ids`` that a source's own 受理 or 办结 has just stopped on its own date.

    A clock whose breach was declared (its ``due`` rung fired) and which now stops at or before
    the limit the breach was declared on (that rung's instant, not a later extension's) was
    met: the order the breach issued and every order escalated from it (``escalated_from_id``)
    are marked ``voided``, and those still open or replied are closed by
    ``system:breach-voided``, their reply clocks stopped. The matter's orders are locked first
    and read afresh, so an escalation committed meanwhile is closed too, and one that comes
    later finds its order closed. Only a source's date may void a breach: a staff or
    department step is dated when it is taken (and no extension is granted once a limit has
    run out, ``db.matters.apply_clock_ops``)."""
    if not clock_ids:
        return []
    declared: dict[int, datetime] = {
        clock_id: due_at
        for clock_id, due_at in await session.execute(
            select(ClockRung.clock_id, ClockRung.due_at)
            .where(ClockRung.clock_id.in_(sorted(clock_ids)), ClockRung.rung == DUE)
        )
    }
    clocks = await session.scalars(select(ClockRow).where(ClockRow.id.in_(sorted(declared))))
    met = {
        row.id: row for row in clocks
        if row.stopped_at is not None and row.stopped_at <= declared[row.id]
    }  # fmt: skip
    if not met:
        return []
    await session.execute(
        select(Supervision.id).where(Supervision.matter_id == matter_id).with_for_update()
    )
    orders = list(await session.scalars(
        select(Supervision).where(Supervision.matter_id == matter_id).order_by(Supervision.id)
        .execution_options(populate_existing=True)
    ))  # fmt: skip
    chain: dict[int, ClockRow] = {}
    for order in orders:  # by id: an order comes before those escalated from it
        if order.breach_clock_id in met:
            chain[order.id] = met[order.breach_clock_id]
        elif order.escalated_from_id in chain:
            chain[order.id] = chain[order.escalated_from_id]
    if not chain:
        return []
    await session.execute(
        update(Supervision).where(Supervision.id.in_(sorted(chain))).values(voided=True)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    matter = await session.get(Matter, matter_id, populate_existing=True)
    assert matter is not None
    actor = Actor.system(BREACH_VOIDED)
    voided: list[VoidedOrder] = []
    for order in orders:
        clock = chain.get(order.id)
        if clock is None or order.status not in _PRESSING:
            continue
        assert clock.stopped_at is not None
        rule = workflow.rules.rules.get(clock.rule_id)
        moved = workflow.supervision.void_breach(
            order_of(order, matter), actor, now, rule.name if rule else clock.rule_id,
            clock.stopped_at,
        )  # fmt: skip
        await store_order(session, workflow, matter, order, moved, now)
        voided.append(VoidedOrder(order, moved, clock.rule_id))
    return voided


async def _open_orders(session: AsyncSession, matter_id: int) -> list[Supervision]:
    """A matter's 督办单 still open or replied (an ESCALATED one is superseded), oldest first."""
    return list(await session.scalars(
        select(Supervision)
        .where(Supervision.matter_id == matter_id, Supervision.status.in_(_PRESSING))
        .order_by(Supervision.id)
    ))  # fmt: skip


async def end_orders(
    session: AsyncSession,
    workflow: MatterWorkflow,
    matter_id: int,
    step: MatterStep,
    now: datetime,
) -> None:
    """办结 the open and replied 督办单 of a matter that has just ended (结案, 撤回, 并案):
    their reply clocks stop, so none breaches or escalates about a finished matter, and the
    matter leaves the worklist's 督办中. A reopened matter (回访不满意) is supervised afresh."""
    orders = await _open_orders(session, matter_id)
    if not orders:
        return
    matter = await session.get(Matter, matter_id, populate_existing=True)  # the step just saved
    assert matter is not None
    actor = Actor.system(MATTER_ENDED)
    for stored in orders:
        moved = workflow.supervision.end_with_matter(order_of(stored, matter), actor, now, step)
        await store_order(session, workflow, matter, stored, moved, now)


def order_of(row: Supervision, matter: Matter) -> SupervisionOrder:
    return SupervisionOrder(
        matter_region=matter.region_code,
        level=row.level,
        target_org=row.target_org,
        issuing_region=row.issuing_region,
        reason=row.reason,
        issued_at=row.issued_at,
        automatic=row.automatic,
        breach_rule_id=row.breach_rule_id,
        rung=row.rung,
        status=SupervisionStatus(row.status),
        reply=row.reply,
        version=row.version,
        clocks=frozenset(row.running_clocks or ()),
    )


def _order_columns(order: SupervisionOrder) -> dict[str, Any]:
    return {
        "level": order.level,
        "target_org": order.target_org,
        "issuing_region": order.issuing_region,
        "reason": mask_text(order.reason),
        "issued_at": order.issued_at,
        "automatic": order.automatic,
        "breach_rule_id": order.breach_rule_id,
        "rung": order.rung,
        "status": order.status.value,
        "reply": mask_text(order.reply),
        "version": order.version,
        "running_clocks": sorted(order.clocks),
    }


def supervision_event_row(matter_id: int, event: SupervisionEvent, row: Matter) -> MatterEvent:
    return MatterEvent(
        matter_id=matter_id, action=event.action.value, at=event.at,
        actor_kind=event.actor_kind, actor_sub=event.actor_sub, actor_role=None,
        actor_org=event.actor_org, from_step=row.step, to_step=row.step,
        note=mask_text(event.note),
        details={"level": event.level.value, "target_org": event.target_org},
    )


async def store_order(
    session: AsyncSession,
    workflow: MatterWorkflow,
    matter: Matter,
    stored: Supervision | None,
    moved: SupervisionTransition,
    now: datetime,
    *,
    breach_clock_id: int | None = None,
) -> Supervision:
    """Write a supervision transition: the order (new, or updated under its version), its
    successor on escalation, timeline rows and the orders' reply clocks."""
    if stored is None:
        stored = Supervision(matter_id=matter.id, breach_clock_id=breach_clock_id,
                             **_order_columns(moved.order))
        session.add(stored)
        await session.flush()
        session.add_all(started_clocks(matter.id, moved.clock_ops, workflow.rules,
                                       workflow.calendar, supervision_id=stored.id))
    else:
        written = await session.execute(
            update(Supervision)
            .where(Supervision.id == stored.id, Supervision.version == moved.order.version - 1)
            .values(**_order_columns(moved.order))
            .execution_options(synchronize_session=False)
        )
        if written.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            raise Conflict(f"supervision order {stored.id} changed meanwhile")
        await apply_clock_ops(session, matter.id, moved.clock_ops, workflow.rules,
                              workflow.calendar, supervision_id=stored.id)
    session.add_all(supervision_event_row(matter.id, e, matter) for e in moved.events)
    if moved.successor is None:
        return stored
    successor = Supervision(
        matter_id=matter.id, escalated_from_id=stored.id, **_order_columns(moved.successor)
    )
    session.add(successor)
    await session.flush()
    session.add_all(started_clocks(matter.id, moved.successor_clock_ops, workflow.rules,
                                   workflow.calendar, supervision_id=successor.id))
    return successor


async def automatic_orders(session: AsyncSession, matter_ids: Collection[int]) -> dict[int, int]:
    """How many automatic 督办单 each matter has had (repeated breach escalates)."""
    counts = dict.fromkeys(matter_ids, 0)
    rows = await session.execute(
        select(Supervision.matter_id, func.count())
        .where(
            Supervision.matter_id.in_(counts),
            Supervision.automatic.is_(True),
            Supervision.voided.is_(False),  # a breach that did not happen climbs nothing
        )
        .group_by(Supervision.matter_id)
    )
    for matter_id, count in rows:
        counts[matter_id] = int(count)
    return counts
