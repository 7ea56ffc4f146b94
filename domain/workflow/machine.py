"""The matter state machine (事项状态机): ``apply(state, action, actor, payload, now)``.

Checks run in a fixed order, so a caller learns no more than it may:

1. the actor's kind may take the action at all, else ``FORBIDDEN``;
2. the actor may act on this matter — staff within their jurisdiction (辖区), a partner only
   on a matter dispatched to its own organisation — else ``FORBIDDEN``;
3. the version the caller saw, when given, is current, else ``CONFLICT``;
4. the matter's step (and 挂起 flag) allows the action, else ``ILLEGAL_TRANSITION``;
5. the payload is valid, else ``BAD_USER_INPUT``; then the action's own guards.

The answer is a :class:`~domain.workflow.state.Transition`: the new state (version + 1), the
timeline events, and the clock operations the deadline rules call for — for each event the
stops come before the starts, so an event in both lists restarts its clock; and a running
clock whose rule no longer applies (a new tier, a new track) is stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.calendar import to_local
from domain.deadlines import (
    ClockOp,
    ClockOpKind,
    DeadlineRule,
    Duty,
    ExtensionApprover,
    RuleBook,
    RuleFacts,
    Trigger,
)
from domain.workflow.actors import Actor
from domain.workflow.errors import BadInput, Forbidden, IllegalTransition, check_version
from domain.workflow.intake import UNDISPATCHED, SourceConclusion, SourceDates
from domain.workflow.payloads import (
    AssessPayload,
    ClosePayload,
    DispatchPayload,
    ExtendPayload,
    NotePayload,
    OpenPayload,
    Payload,
    ProgressPayload,
    RecordFactPayload,
    RedispatchPayload,
    ResultPayload,
    RevisitPayload,
    validated,
)
from domain.workflow.state import MatterState, TimelineEvent, Transition, frozen_map
from domain.workflow.transitions import TRANSITIONS, TransitionSpec
from domain.workflow.vocabulary import (
    FEEDBACK_RESULTS,
    ActorKind,
    MatterAction,
    MatterStep,
    Satisfaction,
    SourceFact,
    label,
)

A = MatterAction

_Changes = dict[str, Any]


class MatterMachine:
    """Applies actions to matters under one set of deadline rules."""

    def __init__(self, rules: RuleBook) -> None:
        self.rules = rules

    def open(
        self, actor: Actor, payload: OpenPayload | Mapping[str, Any], now: datetime
    ) -> Transition:
        """登记: a new matter, opened by staff (来访/来电登记) or by the system (synced record)."""
        if actor.kind not in TRANSITIONS[A.OPEN].actors:
            raise Forbidden(f"{_who(actor)} may not {A.OPEN.value}")
        data = validated(OpenPayload, payload)
        if actor.kind is ActorKind.CENTRE_STAFF and not actor.covers(data.region_code):
            raise Forbidden("the region lies outside the actor's jurisdiction")
        to_local(now)
        state = MatterState(
            step=MatterStep.REGISTERED,
            origin=data.origin,
            region_code=data.region_code,
            version=0,
            category=data.category,
            risk=data.risk,
        )
        event = _event(A.OPEN, actor, now, None, state.step, "", {"origin": data.origin.value})
        return self._finish(state, state, [event], [(A.OPEN, now)], [])

    def take_over(
        self,
        actor: Actor,
        payload: OpenPayload | Mapping[str, Any],
        dates: SourceDates,
        now: datetime,
    ) -> Transition:
        """登记 by the system from a synced record, on the record's own dates (来源日期): the
        matter is registered at the source's receipt and, when the source has already
        accepted it, 受理 at the source's acceptance with the ``SOURCE_ACCEPTED`` fact — so
        the clocks the rules start on these run from the source's days, not from the sync."""
        opened_at = dates.opened_at(now)
        opened = self.open(actor, payload, opened_at)
        (registered,) = opened.events
        if "received" in dates.ignored:  # the source's receipt was no date: say so
            registered = replace(registered, details=frozen_map(
                {**registered.details, "source_date_ignored": "received"}
            ))  # fmt: skip
            opened = replace(opened, events=(registered,))
        if not dates.accepted:
            return opened
        at = dates.admitted_at(now)
        admitted = _event(A.ADMIT, actor, at, registered.to_step, MatterStep.ACCEPTED,
                          dates.source, _admission_details(dates))
        before = replace(opened.state, clocks=frozen_map({}), version=0)
        return self._finish(
            before, replace(before, step=MatterStep.ACCEPTED), [registered, admitted],
            [(A.OPEN, opened_at), (A.ADMIT, at), (SourceFact.SOURCE_ACCEPTED, at)], [],
        )

    def accept_at_source(
        self,
        state: MatterState,
        actor: Actor,
        dates: SourceDates,
        now: datetime,
        *,
        not_before: datetime | None = None,
    ) -> Transition:
        """The system takes over the 受理 the source of a matter's ORIGIN record gave after
        govhub first saw it (来源系统已受理): ADMIT with the ``SOURCE_ACCEPTED`` fact on the
        source's acceptance date, never before ``not_before`` (the last event of a clock it
        stops) nor after ``now`` — so 登记转送 stops and the source's handling clock runs from
        that day. Only for a matter still 已登记 (REGISTERED)."""
        if actor.kind is not ActorKind.SYSTEM:
            raise Forbidden(f"{_who(actor)} may not record what a source system reports")
        if state.step is not MatterStep.REGISTERED or state.suspended:
            raise IllegalTransition(
                f"a source's 受理 is taken over only at step REGISTERED, not {state.step.value}"
            )
        at = dates.admitted_at(now)
        if not_before is not None:
            at = min(max(at, not_before), now)
        event = _event(A.ADMIT, actor, at, state.step, MatterStep.ACCEPTED, dates.source,
                       _admission_details(dates))
        return self._finish(
            state, replace(state, step=MatterStep.ACCEPTED), [event],
            [(A.ADMIT, at), (SourceFact.SOURCE_ACCEPTED, at)], [],
        )

    def conclude_at_source(
        self,
        state: MatterState,
        actor: Actor,
        conclusion: SourceConclusion,
        now: datetime,
        *,
        not_before: datetime | None = None,
    ) -> Transition:
        """The system records that the source of a matter's ORIGIN record has concluded it
        (来源系统已办结): a RECORD_FACT row now, with the ``SOURCE_CONCLUDED`` fact on the
        source's date (never before ``not_before``), which stops the source's clocks. Only
        for a matter no department works on (:data:`UNDISPATCHED`); the step stays: the
        centre still verifies and closes it."""
        if actor.kind is not ActorKind.SYSTEM:
            raise Forbidden(f"{_who(actor)} may not record what a source system reports")
        if state.step not in UNDISPATCHED:
            raise IllegalTransition(
                f"a source's conclusion is feedback at step {state.step.value}, not a fact"
            )
        at = conclusion.at(not_before, now)
        fact = SourceFact.SOURCE_CONCLUDED
        details = {"fact": fact.value, "at": to_local(at).isoformat(),
                   "record_status": conclusion.status.value,
                   "evidence_record_id": str(conclusion.record_id)}
        note = f"{label(fact)}：{conclusion.source}" if conclusion.source else label(fact)
        event = _event(A.RECORD_FACT, actor, now, state.step, state.step, note, details)
        return self._finish(state, state, [event], [(A.RECORD_FACT, now), (fact, at)], [])

    def apply(
        self,
        state: MatterState,
        action: MatterAction,
        actor: Actor,
        payload: Payload | Mapping[str, Any] | None,
        now: datetime,
        *,
        expected_version: int | None = None,
        source_concluded: SourceConclusion | None = None,
    ) -> Transition:
        """The transition ``action`` makes from ``state``, or a coded error.

        ``source_concluded`` is the conclusion (来源系统已办结) the matter holds, if any: with
        it, staff verify (核查) a matter not dispatched, taking the source's result as its own
        (:meth:`_verify_at_source`)."""
        if action is A.OPEN:
            raise IllegalTransition("the matter is already open")
        spec = TRANSITIONS[action]
        _authorise(spec, action, actor, state)
        check_version(state.version, expected_version)
        if action is A.VERIFY and state.step in UNDISPATCHED and source_concluded is not None:
            return self._verify_at_source(state, actor, payload, source_concluded, now)
        _check_step(spec, action, state)
        to_local(now)
        data = validated(spec.payload, payload)
        changes, note, details = _CHANGES.get(action, _no_changes)(state, data)
        if action is A.EXTEND:
            return self._extend(state, actor, data, now)
        if action in (A.REPORT_PROGRESS, A.REPORT_RESULT):
            return self._report(state, action, actor, changes, note, details, now)
        if action is A.RECORD_FACT:
            return self._record_fact(state, actor, data, now)
        target = spec.target or state.step
        new = replace(state, step=target, **changes)
        event = _event(action, actor, now, state.step, target, note, details)
        ops = self._suspension_ops(state, action, note, now)
        return self._finish(state, new, [event], [(action, now)], ops)

    # -- actions with more to them ----------------------------------------------------------

    def _report(
        self,
        state: MatterState,
        action: A,
        actor: Actor,
        changes: _Changes,
        note: str,
        details: dict[str, str],
        now: datetime,
    ) -> Transition:
        events: list[TimelineEvent] = []
        triggers: list[tuple[Trigger, datetime]] = []
        step = state.step
        if step is MatterStep.DISPATCHED:
            # Feedback before 签收 (typically taken from the source system) implies 签收.
            events.append(
                _event(A.ACCEPT, actor, now, step, MatterStep.IN_PROGRESS, "", {"implicit": "true"})
            )
            triggers.append((A.ACCEPT, now))
            step = MatterStep.IN_PROGRESS
        target = TRANSITIONS[action].target or step
        events.append(_event(action, actor, now, step, target, note, details))
        triggers.append((action, now))
        return self._finish(state, replace(state, step=target, **changes), events, triggers, [])

    def _verify_at_source(
        self,
        state: MatterState,
        actor: Actor,
        payload: Payload | Mapping[str, Any] | None,
        conclusion: SourceConclusion,
        now: datetime,
    ) -> Transition:
        """核查来源办结结果: staff verify a matter no department worked on by the conclusion its
        ORIGIN record's source gave (来源系统已办结), which becomes the matter's result
        (已答复/调解成功 RESOLVED, 调解失败 FAILED; a bare 已办结 carries none); the matter is then
        closed (结案) as any verified one. Nothing goes back to that source: the result is its
        own."""
        if state.suspended:
            raise IllegalTransition(f"{A.VERIFY.value} waits until the matter is resumed (恢复)")
        data = validated(NotePayload, payload)
        result = conclusion.status if conclusion.status in FEEDBACK_RESULTS else None
        details = {"source_concluded": "true", "record_status": conclusion.status.value,
                   "evidence_record_id": str(conclusion.record_id)}
        if result is not None:
            details["result"] = result.value
        new = replace(state, step=MatterStep.VERIFIED, result=result)
        event = _event(A.VERIFY, actor, now, state.step, MatterStep.VERIFIED, data.note, details)
        return self._finish(state, new, [event], [(A.VERIFY, now)], [])

    def _extend(self, state: MatterState, actor: Actor, data: Payload, now: datetime) -> Transition:
        assert isinstance(data, ExtendPayload)
        if data.rule_id not in state.clocks:
            raise IllegalTransition(f"no clock {data.rule_id} is running on this matter")
        rule = self.rules.rules.get(data.rule_id)
        if rule is None:
            raise BadInput(f"rule_id: rule {data.rule_id} is not in force")
        if actor.kind is ActorKind.PARTNER and not _partner_may_extend(rule):
            raise Forbidden(f"only the centre extends clock {data.rule_id}")
        limit = rule.extension_limit
        if limit == 0:
            raise IllegalTransition(f"clock {data.rule_id} cannot be extended")
        granted = state.clocks[data.rule_id]
        if limit is not None and granted + data.amount > limit:
            raise BadInput(
                f"amount: clock {data.rule_id} may be extended by {limit} in all; "
                f"{granted} already granted"
            )
        if rule.extension_approver is not ExtensionApprover.NONE and not data.approval:
            raise BadInput(f"approval: required ({rule.extension_approver.value})")
        clocks = {**state.clocks, data.rule_id: granted + data.amount}
        op = ClockOp(
            ClockOpKind.EXTEND, data.rule_id, now, data.reason, data.amount, data.approval
        )
        details = {"rule_id": data.rule_id, "amount": str(data.amount)}
        event = _event(A.EXTEND, actor, now, state.step, state.step, data.reason, details)
        new = replace(state, clocks=frozen_map(clocks))
        return self._finish(state, new, [event], [(A.EXTEND, now)], [op])

    def _record_fact(
        self, state: MatterState, actor: Actor, data: Payload, now: datetime
    ) -> Transition:
        assert isinstance(data, RecordFactPayload)
        at = data.at or now
        if at > now:
            raise BadInput("at: a fact cannot lie in the future")
        details = {"fact": data.fact.value, "at": to_local(at).isoformat()}
        if data.evidence_record_id is not None:
            details["evidence_record_id"] = str(data.evidence_record_id)
        event = _event(A.RECORD_FACT, actor, now, state.step, state.step, data.note, details)
        return self._finish(state, state, [event], [(A.RECORD_FACT, now), (data.fact, at)], [])

    # -- clocks -----------------------------------------------------------------------------

    def _suspension_ops(
        self, state: MatterState, action: A, reason: str, now: datetime
    ) -> list[ClockOp]:
        """挂起/恢复 pause and restart the suspendable clocks; the others keep running."""
        if action not in (A.SUSPEND, A.RESUME):
            return []
        kind = ClockOpKind.SUSPEND if action is A.SUSPEND else ClockOpKind.RESUME
        return [
            ClockOp(kind, rule.id, now, reason if action is A.SUSPEND else "")
            for rule in self._running_rules(state)
            if rule.suspendable
        ]

    def _running_rules(self, state: MatterState) -> list[DeadlineRule]:
        return [self.rules[rule_id] for rule_id in state.clocks if rule_id in self.rules]

    def _finish(
        self,
        before: MatterState,
        after: MatterState,
        events: list[TimelineEvent],
        triggers: list[tuple[Trigger, datetime]],
        ops: list[ClockOp],
    ) -> Transition:
        """Apply the deadline rules for ``triggers`` and bump the version."""
        clocks = dict(after.clocks)
        facts = RuleFacts(
            origin=after.origin, track=after.track, tier=after.tier, result=after.result
        )
        for trigger, at in triggers:
            for rule in self.rules.stopped_by(trigger):
                if clocks.pop(rule.id, None) is not None:
                    ops.append(ClockOp(ClockOpKind.STOP, rule.id, at, f"{trigger.value}"))
            for rule in self.rules.started_by(trigger, facts):
                if rule.id in clocks:
                    continue  # running: an event restarts a clock only if it also stops it
                ops.append(ClockOp(ClockOpKind.START, rule.id, at, f"{trigger.value}"))
                clocks[rule.id] = 0
                if after.suspended and rule.suspendable:
                    ops.append(ClockOp(ClockOpKind.SUSPEND, rule.id, at, "matter suspended"))
        last = triggers[-1][1]
        for rule_id in list(clocks):
            running = self.rules.rules.get(rule_id)
            if running is not None and not running.applies(facts):
                ops.append(ClockOp(ClockOpKind.STOP, rule_id, last, "no longer applies"))
                del clocks[rule_id]
        new = replace(after, clocks=frozen_map(clocks), version=before.version + 1)
        return Transition(new, tuple(events), tuple(ops))


# -- what each plain action changes -----------------------------------------------------------

_ChangeFn = Callable[[MatterState, Payload], tuple[_Changes, str, dict[str, str]]]


def _no_changes(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    return {}, _text(data), {}


def _assess(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    assert isinstance(data, AssessPayload)
    changes = {"category": data.category, "risk": data.risk, "tier": data.tier,
               "lead_org": data.lead_org}
    return changes, data.note, _details(changes)


def _dispatch(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    assert isinstance(data, DispatchPayload | RedispatchPayload)
    changes = {"assigned_org": data.org, "track": data.track, "result": None}
    details = {"org": data.org, "track": data.track.value}
    if state.assigned_org:
        details["previous_org"] = state.assigned_org
    return changes, _text(data), details


def _report_changes(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    assert isinstance(data, ProgressPayload | ResultPayload)
    details = {}
    if data.evidence_record_id is not None:
        details["evidence_record_id"] = str(data.evidence_record_id)
    if isinstance(data, ResultPayload):
        details["result"] = data.result.value
        return {"result": data.result}, data.note, details
    return {}, data.note, details


def _close(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    assert isinstance(data, ClosePayload)
    return {"outcome": data.outcome}, data.note, {"outcome": data.outcome.value}


def _revisit(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    assert isinstance(data, RevisitPayload)
    return (
        {"satisfaction": data.satisfaction},
        data.note,
        {"satisfaction": data.satisfaction.value},
    )


def _reopen(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    if state.satisfaction is not Satisfaction.DISSATISFIED:
        raise IllegalTransition("only a matter revisited as 不满意 (DISSATISFIED) reopens")
    changes = {"result": None, "outcome": None, "satisfaction": None, "assigned_org": None,
               "track": None}
    return changes, _text(data), {}


def _send_back(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    return {"result": None}, _text(data), {}


def _suspend(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    return {"suspended": True}, _text(data), {}


def _resume(state: MatterState, data: Payload) -> tuple[_Changes, str, dict[str, str]]:
    return {"suspended": False}, _text(data), {}


_CHANGES: dict[MatterAction, _ChangeFn] = {
    A.ASSESS: _assess,
    A.DISPATCH: _dispatch,
    A.REDISPATCH: _dispatch,
    A.REPORT_PROGRESS: _report_changes,
    A.REPORT_RESULT: _report_changes,
    A.SEND_BACK: _send_back,
    A.CLOSE: _close,
    A.REVISIT: _revisit,
    A.REOPEN: _reopen,
    A.SUSPEND: _suspend,
    A.RESUME: _resume,
}


def _admission_details(dates: SourceDates) -> dict[str, str]:
    """What the system's 受理 row says of the source's acceptance (the record as evidence):
    the source's own date only when it gave one (else the row's instant is the sync's)."""
    details: dict[str, str] = {}
    if dates.accepted_at is not None:
        details["source_accepted"] = to_local(dates.accepted_at).date().isoformat()
    if "accepted" in dates.ignored:
        details["source_date_ignored"] = "accepted"
    if dates.record_id is not None:
        details["evidence_record_id"] = str(dates.record_id)
    if dates.deadline is not None:
        details["source_deadline"] = dates.deadline.isoformat()
    return details


def may_extend(rule: DeadlineRule, kind: ActorKind, granted: int) -> bool:
    """Whether an actor of ``kind`` may ask to extend a running clock of ``rule`` that has had
    ``granted`` already (可延期): the rule allows an extension, some of it is left, and a
    partner extends only its own limits. Whether the limit still runs is the clock's to say."""
    limit = rule.extension_limit
    if limit == 0 or (limit is not None and granted >= limit):
        return False
    return kind is not ActorKind.PARTNER or _partner_may_extend(rule)


def _partner_may_extend(rule: DeadlineRule) -> bool:
    """A partner extends its own limits (e.g. 信访 §34 by its head, mediation by the parties'
    consent), never the centre's nor one the centre's leader must approve."""
    return rule.duty is Duty.ASSIGNEE and rule.extension_approver is not (
        ExtensionApprover.CENTRE_LEADER
    )


def _details(changes: _Changes) -> dict[str, str]:
    return {k: str(getattr(v, "value", v)) for k, v in changes.items() if v is not None}


def _authorise(spec: TransitionSpec, action: A, actor: Actor, state: MatterState) -> None:
    if actor.kind not in spec.actors:
        raise Forbidden(f"{_who(actor)} may not {action.value}")
    if actor.kind is ActorKind.CENTRE_STAFF and not actor.covers(state.region_code):
        raise Forbidden("the matter lies outside the actor's jurisdiction")
    if actor.kind is ActorKind.PARTNER and not actor.belongs_to(state.assigned_org):
        raise Forbidden("the matter is not dispatched to the actor's organisation")


def _check_step(spec: TransitionSpec, action: A, state: MatterState) -> None:
    if state.step not in spec.sources:
        raise IllegalTransition(f"{action.value} is not allowed at step {state.step.value}")
    if state.suspended and not spec.while_suspended:
        raise IllegalTransition(f"{action.value} waits until the matter is resumed (恢复)")
    if spec.only_while_suspended and not state.suspended:
        raise IllegalTransition(f"{action.value} needs a suspended matter")


def _who(actor: Actor) -> str:
    if actor.role is not None:
        return actor.role.value
    return actor.kind.value if actor.kind is not None else "nobody"


def _text(data: Payload) -> str:
    for name in ("reason", "note"):
        value = getattr(data, name, None)
        if isinstance(value, str):
            return value
    return ""


def _event(
    action: A,
    actor: Actor,
    at: datetime,
    from_step: MatterStep | None,
    to_step: MatterStep,
    note: str,
    details: Mapping[str, str],
) -> TimelineEvent:
    if actor.kind is None:  # pragma: no cover - refused by _authorise before
        raise Forbidden("nobody may act")
    return TimelineEvent(
        action=action,
        at=at,
        actor_kind=actor.kind,
        actor_sub=actor.sub,
        actor_role=actor.role,
        actor_org=actor.org,
        from_step=from_step,
        to_step=to_step,
        note=note,
        details=frozen_map(details),
    )
