"""Supervision orders (督办单): pressing an organisation that is late, and escalating.

A 督办单 targets one organisation about one matter, at a level (提醒 / 督办 / 挂牌督办), issued
by the centre of one region level (督办主体), with its own reply deadline (a clock from the
deadline rules, started by ``ISSUE_SUPERVISION``). It is issued by staff, or by the system when
a clock whose duty falls on an organisation runs out (逾期). The target replies (回复); staff
close it (办结) or escalate it.

Repeated breach climbs (:func:`escalation`): the first breach on a matter is a 提醒 from the
matter's own region; each further breach — of the matter's clocks or of a 督办 reply — raises
the level by one (up to 挂牌督办) and moves the issuing centre one region level up (村 → 乡镇
→ 县 → 市 → 省, by :func:`~domain.validators.parent_division`). An order at the top of both
(挂牌督办 from a province) escalates no further (:func:`escalated`): staff are refused, and the
scanner leaves it open with its late reply recorded as a breach.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.calendar import to_local
from domain.deadlines import ClockOp, ClockOpKind, DeadlineRule, Duty, RuleBook, RuleFacts
from domain.validators import InvalidIdentifier, parent_division, validate_division_code
from domain.workflow.actors import Actor
from domain.workflow.errors import BadInput, Forbidden, IllegalTransition, check_version
from domain.workflow.payloads import (
    IssueSupervisionPayload,
    Payload,
    ReasonPayload,
    ReplySupervisionPayload,
    validated,
)
from domain.workflow.state import MatterState
from domain.workflow.vocabulary import (
    OPEN_STEPS,
    ActorKind,
    MatterStep,
    SupervisionAction,
    SupervisionLevel,
)

LEVELS = tuple(SupervisionLevel)
"""Mildest first: 提醒, 督办, 挂牌督办."""


class SupervisionStatus(StrEnum):
    """Where a supervision order stands (督办状态)."""

    OPEN = "OPEN"  # 待回复
    REPLIED = "REPLIED"  # 已回复
    CLOSED = "CLOSED"  # 已办结
    ESCALATED = "ESCALATED"  # 已升级 (superseded by a higher order)


@dataclass(frozen=True, slots=True)
class SupervisionOrder:
    """One 督办单."""

    matter_region: str | None
    """The matter's region: staff act on the order within this jurisdiction."""
    level: SupervisionLevel
    target_org: str
    issuing_region: str | None
    reason: str
    issued_at: datetime
    automatic: bool
    breach_rule_id: str | None = None
    """The clock whose breach caused it (None when staff issued it by hand)."""
    rung: int = 0
    """How many breaches preceded this one on the matter (0 for the first)."""
    status: SupervisionStatus = SupervisionStatus.OPEN
    reply: str = ""
    version: int = 1
    clocks: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SupervisionEvent:
    """A timeline entry about a supervision order (goes on the matter's timeline too)."""

    action: SupervisionAction
    at: datetime
    actor_kind: ActorKind
    actor_sub: str
    actor_org: str
    level: SupervisionLevel
    target_org: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class SupervisionTransition:
    order: SupervisionOrder
    events: tuple[SupervisionEvent, ...]
    clock_ops: tuple[ClockOp, ...]
    successor: SupervisionOrder | None = None
    """On escalation: the new, higher order (its clock ops are in ``successor_clock_ops``)."""
    successor_clock_ops: tuple[ClockOp, ...] = ()


def escalation(prior_breaches: int, region_code: str | None) -> tuple[SupervisionLevel, str | None]:
    """Level and issuing region for a breach after ``prior_breaches`` earlier ones."""
    level = LEVELS[min(prior_breaches, len(LEVELS) - 1)]
    region = region_code
    for _ in range(prior_breaches):
        region = region_above(region)
    return level, region


def escalated(
    level: SupervisionLevel, issuing_region: str | None
) -> tuple[SupervisionLevel, str | None] | None:
    """Level and issuing region an escalation (督办升级) of an order at ``level`` issued by
    ``issuing_region`` raises it to: one level up (capped at 挂牌督办) and one region level up
    (capped at the province). None when neither rises — a 挂牌督办 issued by a province (or an
    unplaced or non-standard region): a copy of the order would only restart its reply clock
    and wipe the target's breach."""
    higher = LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]
    region = region_above(issuing_region)
    if higher is level and region == issuing_region:
        return None
    return higher, region


def region_above(region_code: str | None) -> str | None:
    """The region one level up; a province (or an unplaced or non-standard code) stays."""
    if region_code is None:
        return None
    try:
        return parent_division(region_code) or region_code
    except InvalidIdentifier:
        return region_code


def breach_target(rule: DeadlineRule, matter: MatterState, centre_org: str) -> str | None:
    """Whom a breach of ``rule``'s clock on ``matter`` supervises; None: a reminder only.

    A breached 督办 reply (duty ``supervised_org``) is not a new target: escalate its order
    (``ESCALATE_SUPERVISION``) instead.
    """
    if rule.duty is Duty.SUPERVISED_ORG:
        raise ValueError(f"a breach of {rule.id} escalates its supervision order")
    if rule.duty is Duty.PARTIES:
        return None
    if rule.duty is Duty.ASSIGNEE and matter.assigned_org:
        return matter.assigned_org
    return centre_org


class SupervisionMachine:
    """Issues and moves 督办单 under one set of deadline rules (for their reply clocks)."""

    def __init__(self, rules: RuleBook) -> None:
        self.rules = rules

    def issue(
        self,
        matter: MatterState,
        actor: Actor,
        payload: IssueSupervisionPayload | Mapping[str, Any],
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> SupervisionTransition:
        """督办 by staff (any level, within their jurisdiction) on an open matter; the
        matter's version, when the caller states the one they saw, is checked as a step's
        (after authorisation)."""
        if actor.kind is not ActorKind.CENTRE_STAFF:
            raise Forbidden("only centre staff issue a supervision order by hand")
        if not actor.covers(matter.region_code):
            raise Forbidden("the matter lies outside the actor's jurisdiction")
        check_version(matter.version, expected_version)
        if matter.step not in OPEN_STEPS:
            raise IllegalTransition(
                f"a supervision order presses an open matter; this one is {matter.step.value}"
            )
        data = validated(IssueSupervisionPayload, payload)
        issuing = data.issuing_region or matter.region_code
        if data.issuing_region is not None:
            issuing = _issuing_region(data.issuing_region, matter, actor)
        order = SupervisionOrder(
            matter_region=matter.region_code,
            level=data.level,
            target_org=data.target_org,
            issuing_region=issuing,
            reason=data.reason,
            issued_at=to_local(now),
            automatic=False,
        )
        return self._issued(order, actor, now)

    def end_with_matter(
        self, order: SupervisionOrder, actor: Actor, now: datetime, step: MatterStep
    ) -> SupervisionTransition:
        """办结 an open or replied order because its matter ended (结案 or 撤回, ``step``) by
        ``actor``'s action: nobody is pressed about a finished matter, and its reply clock
        stops instead of running on to an escalation."""
        ended = "撤回" if step is MatterStep.WITHDRAWN else "结案"
        return self._closed_by_system(order, actor, now, f"事项已{ended}，督办随之办结")

    def void_breach(
        self, order: SupervisionOrder, actor: Actor, now: datetime, limit: str,
        met_at: datetime,
    ) -> SupervisionTransition:
        """办结 an open or replied order whose breach did not happen (逾期不成立): the clock of
        ``limit`` (its name) has stopped at ``met_at``, within the limit the breach was
        declared on, on a date learned after it was declared (a source's own 受理 or 办结,
        synced late). Nobody is pressed, nor escalated, for a limit that was met."""
        day = to_local(met_at).date().isoformat()
        note = f"{limit}已于{day}按期完成，逾期不成立，督办随之办结"
        return self._closed_by_system(order, actor, now, note)

    def _closed_by_system(
        self, order: SupervisionOrder, actor: Actor, now: datetime, note: str
    ) -> SupervisionTransition:
        if order.status not in _SOURCES[SupervisionAction.CLOSE_SUPERVISION]:
            raise IllegalTransition(f"the order is already {order.status.value}")
        new = replace(order, status=SupervisionStatus.CLOSED)
        return self._moved(order, new, SupervisionAction.CLOSE_SUPERVISION, actor, now, note)

    def on_breach(
        self,
        matter: MatterState,
        rule: DeadlineRule,
        target_org: str,
        prior_breaches: int,
        now: datetime,
    ) -> SupervisionTransition:
        """The automatic 督办 when ``rule``'s clock on ``matter`` runs out (逾期).

        ``target_org`` comes from :func:`breach_target`; ``prior_breaches`` counts the
        automatic orders the matter already had, so repeated breach climbs (:func:`escalation`).
        """
        level, issuing = escalation(prior_breaches, matter.region_code)
        order = SupervisionOrder(
            matter_region=matter.region_code,
            level=level,
            target_org=target_org,
            issuing_region=issuing,
            reason=f"逾期：{rule.name}",  # the rule itself is breach_rule_id
            issued_at=to_local(now),
            automatic=True,
            breach_rule_id=rule.id,
            rung=prior_breaches,
        )
        return self._issued(order, Actor.system("deadline-scanner"), now)

    def apply(
        self,
        order: SupervisionOrder,
        action: SupervisionAction,
        actor: Actor,
        payload: Payload | Mapping[str, Any] | None,
        now: datetime,
        *,
        expected_version: int | None = None,
    ) -> SupervisionTransition:
        """回复 (the target organisation), 办结 or 升级 (staff; the scanner escalates too)."""
        if action is SupervisionAction.ISSUE_SUPERVISION:
            raise IllegalTransition("the order is already issued")
        _authorise(order, action, actor)
        check_version(order.version, expected_version, "order")
        allowed = _SOURCES[action]
        if order.status not in allowed:
            raise IllegalTransition(
                f"{action.value} is not allowed on a {order.status.value} order"
            )
        to_local(now)
        if action is SupervisionAction.REPLY_SUPERVISION:
            reply = validated(ReplySupervisionPayload, payload).reply
            new = replace(order, status=SupervisionStatus.REPLIED, reply=reply)
            return self._moved(order, new, action, actor, now, reply)
        note = validated(ReasonPayload, payload).reason
        if action is SupervisionAction.CLOSE_SUPERVISION:
            new = replace(order, status=SupervisionStatus.CLOSED)
            return self._moved(order, new, action, actor, now, note)
        raised = escalated(order.level, order.issuing_region)
        if raised is None:
            raise IllegalTransition(
                f"the order is already {order.level.value} issued by the top region "
                f"({order.issuing_region or 'unplaced'}): there is no level nor region above to "
                "escalate to; close it or press its target otherwise"
            )
        level, issuing_region = raised
        new = replace(order, status=SupervisionStatus.ESCALATED)
        moved = self._moved(order, new, action, actor, now, note)
        successor = replace(
            order,
            level=level,
            issuing_region=issuing_region,
            reason=f"升级：{note}",
            issued_at=to_local(now),
            automatic=actor.kind is ActorKind.SYSTEM,
            rung=order.rung + 1,
            status=SupervisionStatus.OPEN,
            reply="",
            version=1,
            clocks=frozenset(),
        )
        issued = self._issued(successor, actor, now)
        return replace(
            moved, successor=issued.order, successor_clock_ops=issued.clock_ops,
            events=moved.events + issued.events,
        )

    # -- helpers ----------------------------------------------------------------------------

    def _facts(self, order: SupervisionOrder) -> RuleFacts:
        return RuleFacts(level=order.level)

    def _issued(
        self, order: SupervisionOrder, actor: Actor, now: datetime
    ) -> SupervisionTransition:
        trigger = SupervisionAction.ISSUE_SUPERVISION
        started = self.rules.started_by(trigger, self._facts(order))
        ops = tuple(ClockOp(ClockOpKind.START, r.id, now, trigger.value) for r in started)
        order = replace(order, clocks=frozenset(r.id for r in started))
        event = _event(trigger, actor, now, order, order.reason)
        return SupervisionTransition(order, (event,), ops)

    def _moved(
        self,
        before: SupervisionOrder,
        after: SupervisionOrder,
        action: SupervisionAction,
        actor: Actor,
        now: datetime,
        note: str,
    ) -> SupervisionTransition:
        stopped = [r for r in self.rules.stopped_by(action) if r.id in before.clocks]
        ops = tuple(ClockOp(ClockOpKind.STOP, r.id, now, action.value) for r in stopped)
        after = replace(
            after,
            clocks=before.clocks - {r.id for r in stopped},
            version=before.version + 1,
        )
        return SupervisionTransition(after, (_event(action, actor, now, after, note),), ops)


_OPEN, _REPLIED = SupervisionStatus.OPEN, SupervisionStatus.REPLIED
_SOURCES: dict[SupervisionAction, frozenset[SupervisionStatus]] = {
    SupervisionAction.REPLY_SUPERVISION: frozenset({_OPEN}),
    SupervisionAction.CLOSE_SUPERVISION: frozenset({_OPEN, _REPLIED}),
    SupervisionAction.ESCALATE_SUPERVISION: frozenset({_OPEN, _REPLIED}),
}
_ACTORS: dict[SupervisionAction, frozenset[ActorKind]] = {
    SupervisionAction.REPLY_SUPERVISION: frozenset({ActorKind.PARTNER, ActorKind.CENTRE_STAFF}),
    SupervisionAction.CLOSE_SUPERVISION: frozenset({ActorKind.CENTRE_STAFF}),
    SupervisionAction.ESCALATE_SUPERVISION: frozenset({ActorKind.CENTRE_STAFF, ActorKind.SYSTEM}),
}


def _issuing_region(code: str, matter: MatterState, actor: Actor) -> str:
    """The centre an order is issued in the name of (督办主体), given by staff: the matter's own
    region or one above it, within the actor's jurisdiction (a county centre does not issue in
    the city's name, nor in another county's)."""
    try:
        issuing = validate_division_code(code)
    except InvalidIdentifier as exc:
        raise BadInput(f"issuing_region: {exc}") from None
    if matter.region_code is not None and issuing not in _region_and_above(matter.region_code):
        raise BadInput(
            f"issuing_region: {issuing} is neither the matter's region nor a region above it"
        )
    if not actor.covers(issuing):
        raise Forbidden(f"issuing_region: {issuing} lies outside the actor's jurisdiction")
    return issuing


def _region_and_above(region_code: str) -> list[str]:
    """``region_code`` and every region above it, up to its province."""
    chain: list[str] = []
    code: str | None = region_code
    while code is not None and code not in chain:
        chain.append(code)
        code = region_above(code)
    return chain


def _authorise(order: SupervisionOrder, action: SupervisionAction, actor: Actor) -> None:
    if actor.kind not in _ACTORS[action]:
        raise Forbidden(f"{actor.kind.value if actor.kind else 'nobody'} may not {action.value}")
    if action is SupervisionAction.REPLY_SUPERVISION:
        if not actor.belongs_to(order.target_org):
            raise Forbidden("only the organisation the order targets replies to it")
    elif actor.kind is ActorKind.CENTRE_STAFF and not actor.covers(order.matter_region):
        raise Forbidden("the matter lies outside the actor's jurisdiction")


def _event(
    action: SupervisionAction, actor: Actor, at: datetime, order: SupervisionOrder, note: str
) -> SupervisionEvent:
    if actor.kind is None:  # pragma: no cover - refused before
        raise Forbidden("nobody may act")
    return SupervisionEvent(
        action, at, actor.kind, actor.sub, actor.org, order.level, order.target_org, note
    )
