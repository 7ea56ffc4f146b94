"""The matter state machine: every step × action, who may act, guards, versions, clocks.

The matrices below are written out by hand from the loop as the centre runs it; they are not
read from ``domain.workflow.transitions``, so a change to the table must change them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.deadlines import ClockOpKind, load_rules
from domain.enums import CaseStatus, DisputeCategory, RiskLevel
from domain.roles import Principal, Role
from domain.workflow.actors import ACTOR_KIND_OF_ROLE, Actor
from domain.workflow.errors import WorkflowError, WorkflowErrorCode
from domain.workflow.machine import MatterMachine
from domain.workflow.payloads import NotePayload, ReasonPayload
from domain.workflow.state import MatterState, Transition, frozen_map
from domain.workflow.vocabulary import (
    ActorKind,
    ComplexityTier,
    DispatchTrack,
    MatterAction,
    MatterOrigin,
    MatterStep,
    Satisfaction,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 3, 10, tzinfo=SH)
MACHINE = MatterMachine(load_rules())
A, S = MatterAction, MatterStep
ILLEGAL = WorkflowErrorCode.ILLEGAL_TRANSITION
FORBIDDEN = WorkflowErrorCode.FORBIDDEN
BAD_INPUT = WorkflowErrorCode.BAD_USER_INPUT

REGION = "411202001"  # a township of 湖滨区, 三门峡市
ORG = "org:tjw-huibin-001"

STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre-411202", regions=("411202",)))
STAFF_ELSEWHERE = Actor.of(Principal("staff-2", Role.CENTER_STAFF, regions=("510104",)))
PARTNER = Actor.of(Principal("mediator-1", Role.MEDIATOR, org=ORG))
OTHER_PARTNER = Actor.of(Principal("court-1", Role.PARTNER_COURT, org="org:court"))
SYSTEM = Actor.system("sync:MEDIATION")
VIEWER = Actor.of(Principal("screen-1", Role.DASHBOARD_VIEWER, regions=("411202",)))
AUDITOR = Actor.of(Principal("audit-1", Role.AUDITOR, regions=("411202",)))

PAYLOADS: dict[MatterAction, Mapping[str, Any]] = {
    A.ADMIT: {"note": "来访登记受理"},
    A.ASSESS: {"category": "NEIGHBOUR", "risk": "YELLOW", "tier": "ORDINARY", "lead_org": "司法所"},
    A.DISPATCH: {"org": ORG, "track": "PEOPLES_MEDIATION"},
    A.REDISPATCH: {"org": ORG, "track": "PEOPLES_MEDIATION", "reason": "改派"},
    A.ACCEPT: {},
    A.OBJECT: {"reason": "不属本单位职责"},
    A.REPORT_PROGRESS: {"note": "已组织双方调解一次"},
    A.REPORT_RESULT: {"result": "RESOLVED", "note": "达成协议"},
    A.VERIFY: {},
    A.SEND_BACK: {"reason": "协议未履行"},
    A.CLOSE: {"outcome": "RESOLVED"},
    A.REVISIT: {"satisfaction": "SATISFIED"},
    A.REOPEN: {"reason": "回访不满意"},
    A.SUSPEND: {"reason": "伤情鉴定"},
    A.RESUME: {},
    A.EXTEND: {"rule_id": "mediation.people", "amount": 15, "approval": "双方当事人同意",
               "reason": "双方同意继续调解"},
    A.RECORD_FACT: {"fact": "PARTY_NOTIFIED"},
    A.WITHDRAW: {"reason": "当事人撤回"},
}

TIER_EXTENSION = {"rule_id": "matter.tier.ordinary", "amount": 3, "approval": "中心主任批准",
                  "reason": "情况复杂"}

ALL_STEPS = list(MatterStep)
ACTIONS = [a for a in MatterAction if a is not A.OPEN]
HANDLING = {S.ACCEPTED, S.ASSESSED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS}

# action → (steps it is legal from, step it leads to; None = unchanged), not suspended
LEGAL: dict[MatterAction, tuple[set[MatterStep], MatterStep | None]] = {
    A.ADMIT: ({S.REGISTERED}, S.ACCEPTED),
    A.ASSESS: ({S.ACCEPTED, S.ASSESSED, S.RETURNED}, S.ASSESSED),
    A.DISPATCH: ({S.ASSESSED, S.RETURNED}, S.DISPATCHED),
    A.REDISPATCH: ({S.DISPATCHED, S.IN_PROGRESS, S.FED_BACK}, S.DISPATCHED),
    A.ACCEPT: ({S.DISPATCHED}, S.IN_PROGRESS),
    A.OBJECT: ({S.DISPATCHED}, S.RETURNED),
    A.REPORT_PROGRESS: ({S.DISPATCHED, S.IN_PROGRESS}, S.IN_PROGRESS),
    A.REPORT_RESULT: ({S.DISPATCHED, S.IN_PROGRESS}, S.FED_BACK),
    A.VERIFY: ({S.FED_BACK}, S.VERIFIED),
    A.SEND_BACK: ({S.FED_BACK}, S.IN_PROGRESS),
    A.CLOSE: ({S.VERIFIED}, S.CLOSED),
    A.REVISIT: ({S.CLOSED}, S.REVISITED),
    A.REOPEN: ({S.REVISITED}, S.ACCEPTED),
    A.SUSPEND: (HANDLING, None),
    A.RESUME: (set(), None),
    A.EXTEND: (set(MatterStep) - {S.REVISITED, S.WITHDRAWN}, None),
    A.RECORD_FACT: (set(MatterStep) - {S.WITHDRAWN}, None),
    A.WITHDRAW: (set(MatterStep) - {S.CLOSED, S.REVISITED, S.WITHDRAWN}, S.WITHDRAWN),
}
# while suspended (挂起), only these move, from any step a matter can be suspended in
LEGAL_WHILE_SUSPENDED = {A.RESUME, A.EXTEND, A.RECORD_FACT, A.WITHDRAW}

# who may take each action (a partner only on a matter dispatched to its organisation)
ACTORS: dict[MatterAction, set[ActorKind]] = {
    A.ADMIT: {ActorKind.CENTRE_STAFF},
    A.ASSESS: {ActorKind.CENTRE_STAFF},
    A.DISPATCH: {ActorKind.CENTRE_STAFF},
    A.REDISPATCH: {ActorKind.CENTRE_STAFF},
    A.ACCEPT: {ActorKind.PARTNER},
    A.OBJECT: {ActorKind.PARTNER},
    A.REPORT_PROGRESS: {ActorKind.PARTNER, ActorKind.SYSTEM},
    A.REPORT_RESULT: {ActorKind.PARTNER, ActorKind.SYSTEM},
    A.VERIFY: {ActorKind.CENTRE_STAFF},
    A.SEND_BACK: {ActorKind.CENTRE_STAFF},
    A.CLOSE: {ActorKind.CENTRE_STAFF},
    A.REVISIT: {ActorKind.CENTRE_STAFF},
    A.REOPEN: {ActorKind.CENTRE_STAFF},
    A.SUSPEND: {ActorKind.CENTRE_STAFF},
    A.RESUME: {ActorKind.CENTRE_STAFF},
    A.EXTEND: {ActorKind.CENTRE_STAFF, ActorKind.PARTNER},
    A.RECORD_FACT: {ActorKind.CENTRE_STAFF, ActorKind.PARTNER, ActorKind.SYSTEM},
    A.WITHDRAW: {ActorKind.CENTRE_STAFF, ActorKind.SYSTEM},
}


def matter(step: MatterStep, *, suspended: bool = False, **changes: Any) -> MatterState:
    """A matter at ``step`` with everything any action there needs: dispatched to ORG, an
    unsatisfied revisit (so REOPEN may apply) and running extendable clocks."""
    state = MatterState(
        step=step,
        origin=MatterOrigin.GRID_EVENT,
        region_code=REGION,
        version=7,
        category=DisputeCategory.NEIGHBOUR,
        risk=RiskLevel.YELLOW,
        tier=ComplexityTier.ORDINARY,
        assigned_org=ORG,
        track=DispatchTrack.PEOPLES_MEDIATION,
        satisfaction=Satisfaction.DISSATISFIED,
        suspended=suspended,
        clocks=frozen_map({"matter.tier.ordinary": 0, "mediation.people": 0}),
    )
    return replace(state, **changes)


def actor_for(action: MatterAction) -> Actor:
    kinds = ACTORS[action]
    if ActorKind.CENTRE_STAFF in kinds:
        return STAFF
    return PARTNER


def apply(
    state: MatterState, action: MatterAction, actor: Actor | None = None,
    payload: Mapping[str, Any] | None = None, **kwargs: Any,
) -> Transition:
    return MACHINE.apply(
        state, action, actor or actor_for(action),
        PAYLOADS[action] if payload is None else payload, NOW, **kwargs,
    )


def code_of(state: MatterState, action: MatterAction, actor: Actor | None = None,
            payload: Mapping[str, Any] | None = None, **kwargs: Any) -> WorkflowErrorCode:
    with pytest.raises(WorkflowError) as caught:
        apply(state, action, actor, payload, **kwargs)
    return caught.value.code


# -- the step × action matrix ------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("step", ALL_STEPS, ids=str)
def test_step_action_matrix(step: MatterStep, action: MatterAction) -> None:
    sources, target = LEGAL[action]
    state = matter(step)
    if step in sources:
        transition = apply(state, action)
        assert transition.state.step is (target or step)
        assert transition.state.version == state.version + 1
        assert transition.events[-1].action is action
        assert transition.events[-1].to_step is transition.state.step
    else:
        assert code_of(state, action) is ILLEGAL


@pytest.mark.parametrize("action", ACTIONS, ids=str)
@pytest.mark.parametrize("step", sorted(HANDLING), ids=str)
def test_suspended_matrix(step: MatterStep, action: MatterAction) -> None:
    state = matter(step, suspended=True)
    if action in LEGAL_WHILE_SUSPENDED:
        transition = apply(state, action)
        assert transition.state.suspended is (action is not A.RESUME)
    else:
        assert code_of(state, action) is ILLEGAL


def test_the_matrix_covers_every_action() -> None:
    assert set(LEGAL) == set(ACTIONS) == set(ACTORS) == set(PAYLOADS)


# -- who may act --------------------------------------------------------------------------------

ACTOR_CASES = {
    "staff": (STAFF, ActorKind.CENTRE_STAFF),
    "staff of another jurisdiction": (STAFF_ELSEWHERE, None),
    "assigned partner": (PARTNER, ActorKind.PARTNER),
    "partner it is not dispatched to": (OTHER_PARTNER, None),
    "system": (SYSTEM, ActorKind.SYSTEM),
    "dashboard viewer": (VIEWER, None),
    "auditor": (AUDITOR, None),
}


def _a_legal_step(action: MatterAction) -> tuple[MatterStep, bool]:
    if action is A.RESUME:
        return S.IN_PROGRESS, True
    return sorted(LEGAL[action][0])[0], False


@pytest.mark.parametrize("who", list(ACTOR_CASES))
@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_who_may_act(action: MatterAction, who: str) -> None:
    actor, kind = ACTOR_CASES[who]
    step, suspended = _a_legal_step(action)
    state = matter(step, suspended=suspended)
    if kind is not None and kind in ACTORS[action]:
        assert apply(state, action, actor).events[-1].actor_kind is kind
    else:
        assert code_of(state, action, actor) is FORBIDDEN


def test_forbidden_comes_before_illegal_and_conflict() -> None:
    closed = matter(S.CLOSED)
    assert code_of(closed, A.ACCEPT, VIEWER) is FORBIDDEN
    assert code_of(closed, A.ACCEPT, OTHER_PARTNER, expected_version=1) is FORBIDDEN
    assert code_of(closed, A.ACCEPT, PARTNER, expected_version=1) is WorkflowErrorCode.CONFLICT
    assert code_of(closed, A.ACCEPT, PARTNER, expected_version=closed.version) is ILLEGAL


def test_a_stale_version_conflicts() -> None:
    state = matter(S.FED_BACK)
    assert apply(state, A.VERIFY, expected_version=7).state.version == 8
    assert code_of(state, A.VERIFY, expected_version=6) is WorkflowErrorCode.CONFLICT


def test_every_role_is_mapped_to_an_actor_kind() -> None:
    assert set(ACTOR_KIND_OF_ROLE) == set(Role)
    assert ACTOR_KIND_OF_ROLE[Role.DASHBOARD_VIEWER] is None


def test_a_matter_without_region_is_only_for_admin_and_the_system() -> None:
    unplaced = matter(S.REGISTERED, region_code=None)
    admin = Actor.of(Principal("admin", Role.ADMIN))
    assert code_of(unplaced, A.ADMIT, STAFF) is FORBIDDEN
    assert apply(unplaced, A.ADMIT, admin).state.step is S.ACCEPTED
    assert apply(unplaced, A.WITHDRAW, SYSTEM).state.step is S.WITHDRAWN


# -- input and guards ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "action", "payload", "message"),
    [
        (S.DISPATCHED, A.OBJECT, {}, "reason"),
        (S.DISPATCHED, A.OBJECT, {"reason": "   "}, "reason"),
        (S.IN_PROGRESS, A.REPORT_RESULT, {"result": "CLOSED"}, "RESOLVED or FAILED"),
        (S.IN_PROGRESS, A.REPORT_PROGRESS, {}, "note"),
        (S.ACCEPTED, A.ASSESS, {**PAYLOADS[A.ASSESS], "tier": "EPIC"}, "tier"),
        (S.ACCEPTED, A.ASSESS, {**PAYLOADS[A.ASSESS], "colour": "RED"}, "colour"),
        (S.ASSESSED, A.DISPATCH, {"org": ORG, "track": "SPACE"}, "track"),
        (S.VERIFIED, A.CLOSE, {"outcome": "MAYBE"}, "outcome"),
        (S.CLOSED, A.REVISIT, {}, "satisfaction"),
        (S.IN_PROGRESS, A.EXTEND, {**PAYLOADS[A.EXTEND], "amount": 0}, "amount"),
        (S.IN_PROGRESS, A.EXTEND, {**TIER_EXTENSION, "amount": 8}, "7 in all"),
        (S.IN_PROGRESS, A.EXTEND, {**PAYLOADS[A.EXTEND], "approval": ""}, "approval"),
        (
            S.IN_PROGRESS, A.RECORD_FACT,
            {"fact": "AGREEMENT_EFFECTIVE", "at": "2025-03-04T00:00:00+08:00"}, "future",
        ),
        (S.IN_PROGRESS, A.RECORD_FACT, {"fact": "AGREEMENT_EFFECTIVE", "at": "2025-03-01"},
         "time zone"),
    ],
)
def test_bad_input_names_the_field(
    step: MatterStep, action: MatterAction, payload: Mapping[str, Any], message: str
) -> None:
    with pytest.raises(WorkflowError) as caught:
        apply(matter(step), action, payload=payload)
    assert caught.value.code is BAD_INPUT
    assert message in caught.value.message


def test_a_payload_of_another_action_is_bad_input() -> None:
    with pytest.raises(WorkflowError) as caught:
        MACHINE.apply(matter(S.DISPATCHED), A.OBJECT, PARTNER, NotePayload(note="x"), NOW)
    assert caught.value.code is BAD_INPUT
    typed = MACHINE.apply(matter(S.DISPATCHED), A.OBJECT, PARTNER, ReasonPayload(reason="x"), NOW)
    assert typed.state.step is S.RETURNED


def test_only_an_unsatisfied_revisit_reopens() -> None:
    satisfied = matter(S.REVISITED, satisfaction=Satisfaction.BASICALLY_SATISFIED)
    assert code_of(satisfied, A.REOPEN) is ILLEGAL
    reopened = apply(matter(S.REVISITED), A.REOPEN).state
    assert (reopened.step, reopened.assigned_org, reopened.satisfaction) == (
        S.ACCEPTED, None, None,
    )


def test_extending_needs_a_running_extendable_clock() -> None:
    not_running = {**PAYLOADS[A.EXTEND], "rule_id": "petition.handle"}
    assert code_of(matter(S.IN_PROGRESS), A.EXTEND, payload=not_running) is ILLEGAL
    fixed = matter(S.IN_PROGRESS, clocks=frozen_map({"dispatch.accept": 0}))
    assert code_of(fixed, A.EXTEND, payload={
        **PAYLOADS[A.EXTEND], "rule_id": "dispatch.accept"
    }) is ILLEGAL
    retired = matter(S.IN_PROGRESS, clocks=frozen_map({"retired.rule": 0}))
    assert code_of(retired, A.EXTEND, payload={
        **PAYLOADS[A.EXTEND], "rule_id": "retired.rule"
    }) is BAD_INPUT


def test_extensions_add_up_to_the_rule_bound() -> None:
    once = apply(matter(S.IN_PROGRESS), A.EXTEND, payload=TIER_EXTENSION).state
    assert once.clocks["matter.tier.ordinary"] == 3
    twice = apply(once, A.EXTEND, payload={**TIER_EXTENSION, "amount": 4}).state
    assert twice.clocks["matter.tier.ordinary"] == 7
    assert code_of(twice, A.EXTEND, payload={**TIER_EXTENSION, "amount": 1}) is BAD_INPUT


def test_a_partner_extends_its_own_limits_only() -> None:
    state = matter(S.IN_PROGRESS)
    assert apply(state, A.EXTEND, PARTNER).state.clocks["mediation.people"] == 15
    assert code_of(state, A.EXTEND, PARTNER, payload=TIER_EXTENSION) is FORBIDDEN
    assert apply(state, A.EXTEND, STAFF, payload=TIER_EXTENSION).state.version == 8


# -- opening ------------------------------------------------------------------------------------

OPEN = {
    "origin": "PETITION", "region_code": REGION, "title": "邻里漏水纠纷", "category": "NEIGHBOUR",
}


def test_open_starts_at_version_one_with_the_clocks_its_origin_needs() -> None:
    opened = MACHINE.open(STAFF, OPEN, NOW)
    assert (opened.state.step, opened.state.version, opened.state.status) == (
        S.REGISTERED, 1, CaseStatus.REPORTED,
    )
    assert [(o.kind, o.rule_id) for o in opened.clock_ops] == [
        (ClockOpKind.START, "petition.register")
    ]
    grid = MACHINE.open(SYSTEM, {**OPEN, "origin": "GRID_EVENT"}, NOW)
    assert grid.clock_ops == ()


@pytest.mark.parametrize(
    ("actor", "payload", "code"),
    [
        (PARTNER, OPEN, FORBIDDEN),
        (VIEWER, OPEN, FORBIDDEN),
        (STAFF_ELSEWHERE, OPEN, FORBIDDEN),
        (STAFF, {**OPEN, "region_code": None}, FORBIDDEN),
        (STAFF, {**OPEN, "region_code": "991202"}, BAD_INPUT),
        (STAFF, {**OPEN, "title": ""}, BAD_INPUT),
        (STAFF, {**OPEN, "origin": "EMAIL"}, BAD_INPUT),
    ],
)
def test_who_may_open_and_with_what(
    actor: Actor, payload: Mapping[str, Any], code: WorkflowErrorCode
) -> None:
    with pytest.raises(WorkflowError) as caught:
        MACHINE.open(actor, payload, NOW)
    assert caught.value.code is code


def test_the_system_may_open_an_unplaced_matter_and_apply_refuses_open() -> None:
    opened = MACHINE.open(SYSTEM, {**OPEN, "region_code": None}, NOW)
    assert opened.state.region_code is None
    assert code_of(opened.state, A.OPEN, SYSTEM, payload=OPEN) is ILLEGAL
