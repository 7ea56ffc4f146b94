"""Which clocks each transition starts, stops, suspends and extends — and a whole storyline,
with its clocks applied, as the storage layer will apply them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import Clock, ClockOpKind, ClockState, load_rules
from domain.enums import CaseStatus
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.machine import MatterMachine
from domain.workflow.state import Transition
from domain.workflow.vocabulary import ActorKind, MatterAction, MatterStep

SH = ZoneInfo("Asia/Shanghai")
RULES = load_rules()
MACHINE = MatterMachine(RULES)
CALENDAR = ChineseWorkingCalendar()
A, S = MatterAction, MatterStep
START, STOP, SUSPEND, RESUME, EXTEND = (
    ClockOpKind.START, ClockOpKind.STOP, ClockOpKind.SUSPEND, ClockOpKind.RESUME,
    ClockOpKind.EXTEND,
)

REGION = "411202001"
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("411202",)))
MEDIATION = Actor.of(Principal("m-1", Role.MEDIATOR, org="org:tjw"))
COURT = Actor.of(Principal("c-1", Role.PARTNER_COURT, org="org:court"))
PETITION_BODY = Actor.of(Principal("p-1", Role.PARTNER_PETITION, org="org:bureau"))
SYNC = Actor.system("sync")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


class Ledger:
    """Drives the machine and applies its clock operations, as storage will."""

    def __init__(self, transition: Transition) -> None:
        self.state = transition.state
        self.clocks: dict[str, Clock] = {}
        self.events = list(transition.events)
        self.ops = [(op.kind, op.rule_id) for op in transition.clock_ops]
        self._apply(transition)

    def do(
        self, action: MatterAction, actor: Actor, payload: Mapping[str, Any] | None, now: datetime
    ) -> list[tuple[ClockOpKind, str]]:
        transition = MACHINE.apply(self.state, action, actor, payload, now,
                                   expected_version=self.state.version)
        self.state = transition.state
        self.events += transition.events
        self._apply(transition)
        self.ops = [(op.kind, op.rule_id) for op in transition.clock_ops]
        return self.ops

    def _apply(self, transition: Transition) -> None:
        for op in transition.clock_ops:
            if op.kind is START:
                self.clocks[op.rule_id] = Clock.start(RULES[op.rule_id], op.at)
            else:
                self.clocks[op.rule_id] = self.clocks[op.rule_id].apply(op)
        running = {k for k, c in self.clocks.items() if not c.stopped}
        assert running == set(self.state.clocks)


def opened(origin: str, when: datetime) -> Ledger:
    payload = {"origin": origin, "region_code": REGION, "title": "纠纷"}
    return Ledger(MACHINE.open(SYNC, payload, when))


def assessed(origin: str, tier: str, when: datetime) -> Ledger:
    ledger = opened(origin, when)
    ledger.do(A.ADMIT, STAFF, None, when)
    assess = {"category": "NEIGHBOUR", "risk": "BLUE", "tier": tier, "lead_org": "司法所"}
    ledger.do(A.ASSESS, STAFF, assess, when)
    return ledger


def test_petition_clocks_follow_the_regulation() -> None:
    ledger = assessed("PETITION", "COMPLEX", at(2025, 3, 3, 9))
    assert set(ledger.clocks) == {"petition.register", "matter.tier.complex"}

    ops = ledger.do(A.DISPATCH, STAFF, {"org": "org:bureau", "track": "PETITION"},
                    at(2025, 3, 4, 9))
    assert ops == [(STOP, "petition.register"), (START, "petition.notify"),
                   (START, "petition.object")]
    ops = ledger.do(A.ACCEPT, PETITION_BODY, None, at(2025, 3, 5, 9))
    assert ops == [(STOP, "petition.object"), (START, "petition.handle")]
    ops = ledger.do(A.RECORD_FACT, PETITION_BODY, {"fact": "PARTY_NOTIFIED"}, at(2025, 3, 6, 9))
    assert ops == [(STOP, "petition.notify")]
    ops = ledger.do(A.REPORT_RESULT, PETITION_BODY, {"result": "FAILED"}, at(2025, 4, 1, 9))
    assert ops == [(STOP, "petition.handle"), (START, "petition.review_request")]
    ops = ledger.do(A.RECORD_FACT, STAFF, {"fact": "REVIEW_REQUESTED"}, at(2025, 4, 10, 9))
    assert ops == [(STOP, "petition.review_request"), (START, "petition.review")]
    # 60 days from 3/5: 3/6..5/4 — 5/4/2025 is a Sunday in 劳动节 (5/1–5/5): rolls to Tue 5/6
    handle = ledger.clocks["petition.handle"]
    assert handle.schedule(CALENDAR).last_day == datetime(2025, 5, 6).date()
    assert handle.read(CALENDAR, at(2025, 4, 2)).met is True


def test_redispatch_restarts_the_acceptance_clock_and_a_new_track_changes_it() -> None:
    ledger = assessed("GRID_EVENT", "ORDINARY", at(2025, 3, 3, 9))
    ledger.do(A.DISPATCH, STAFF, {"org": "org:tjw", "track": "PEOPLES_MEDIATION"},
              at(2025, 3, 3, 10))
    same_track = {"org": "org:tjw-2", "track": "PEOPLES_MEDIATION", "reason": "改派"}
    assert ledger.do(A.REDISPATCH, STAFF, same_track, at(2025, 3, 4, 10)) == [
        (STOP, "dispatch.accept"), (START, "dispatch.accept"),
    ]
    to_court = {"org": "org:court", "track": "PRE_FILING_MEDIATION", "reason": "转诉前调解"}
    assert ledger.do(A.REDISPATCH, STAFF, to_court, at(2025, 3, 5, 10)) == [
        (STOP, "dispatch.accept"), (START, "mediation.court_accept"),
    ]


def test_a_new_tier_stops_the_old_tier_clock() -> None:
    ledger = assessed("GRID_EVENT", "SIMPLE", at(2025, 3, 3, 9))
    reassess = {"category": "NEIGHBOUR", "risk": "RED", "tier": "COMPLEX", "lead_org": "司法所"}
    assert ledger.do(A.ASSESS, STAFF, reassess, at(2025, 3, 3, 15)) == [
        (START, "matter.tier.complex"), (STOP, "matter.tier.simple"),
    ]
    same = {**reassess, "risk": "YELLOW"}
    assert ledger.do(A.ASSESS, STAFF, same, at(2025, 3, 3, 16)) == []


def test_suspension_pauses_only_suspendable_clocks() -> None:
    ledger = assessed("PETITION", "COMPLEX", at(2025, 3, 3, 9))
    ledger.do(A.DISPATCH, STAFF, {"org": "org:bureau", "track": "PETITION"}, at(2025, 3, 4, 9))
    ledger.do(A.ACCEPT, PETITION_BODY, None, at(2025, 3, 5, 9))
    # petition.handle and petition.notify are not suspendable; the tier clock is
    assert ledger.do(A.SUSPEND, STAFF, {"reason": "听证"}, at(2025, 3, 6, 9)) == [
        (SUSPEND, "matter.tier.complex"),
    ]
    # a clock that starts while the matter is suspended starts suspended if it can be
    ops = ledger.do(A.RECORD_FACT, STAFF, {"fact": "RECHECK_REQUESTED"}, at(2025, 3, 7, 9))
    assert ops == [(START, "petition.recheck"), (SUSPEND, "petition.recheck")]
    assert ledger.do(A.RESUME, STAFF, None, at(2025, 3, 10, 9)) == [
        (RESUME, "matter.tier.complex"), (RESUME, "petition.recheck"),
    ]
    assert ledger.clocks["petition.recheck"].read(CALENDAR, at(2025, 3, 11)).state is (
        ClockState.RUNNING
    )


def test_a_fact_starts_its_clock_when_it_happened() -> None:
    ledger = assessed("DISPUTE", "ORDINARY", at(2025, 3, 3, 9))
    ledger.do(A.DISPATCH, STAFF, {"org": "org:tjw", "track": "PEOPLES_MEDIATION"},
              at(2025, 3, 3, 10))
    agreement = {"fact": "AGREEMENT_EFFECTIVE", "at": "2025-03-05T16:00:00+08:00"}
    assert ledger.do(A.RECORD_FACT, SYNC, agreement, at(2025, 3, 7, 9)) == [
        (START, "judicial_confirmation.apply"),
    ]
    # 30 days from 3/5: 3/6..4/4 — 4/4/2025 is 清明 (4/4–4/6): rolls to Mon 4/7
    apply_window = ledger.clocks["judicial_confirmation.apply"]
    assert apply_window.started_at == at(2025, 3, 5, 16)
    assert apply_window.schedule(CALENDAR).last_day == datetime(2025, 4, 7).date()


def test_an_extension_is_a_clock_operation_with_its_approval() -> None:
    ledger = assessed("GRID_EVENT", "ORDINARY", at(2025, 3, 3, 9))
    extend = {"rule_id": "matter.tier.ordinary", "amount": 7, "approval": "中心主任批准",
              "reason": "需现场勘验"}
    assert ledger.do(A.EXTEND, STAFF, extend, at(2025, 3, 5, 9)) == [
        (EXTEND, "matter.tier.ordinary"),
    ]
    # 7 + 7 days from 3/3: 3/4..3/17, due 3/18 00:00
    assert ledger.clocks["matter.tier.ordinary"].schedule(CALENDAR).due_at == at(2025, 3, 18)


def test_withdrawing_stops_every_running_clock() -> None:
    ledger = assessed("PETITION", "COMPLEX", at(2025, 3, 3, 9))
    ledger.do(A.DISPATCH, STAFF, {"org": "org:bureau", "track": "PETITION"}, at(2025, 3, 4, 9))
    ledger.do(A.WITHDRAW, SYNC, {"reason": "来源撤销"}, at(2025, 3, 5, 9))
    assert ledger.state.clocks == {}
    assert all(clock.stopped for clock in ledger.clocks.values())


def test_the_storyline_grid_event_to_revisit() -> None:
    """网格事件 → 研判 → 分流 to the township 调委会 → mediation record syncs as failed →
    re-dispatched to the court for 诉前调解 → 鉴定 pause → court record syncs as resolved →
    核查, 结案, 回访."""
    ledger = opened("GRID_EVENT", at(2025, 9, 26, 9))
    ledger.do(A.ADMIT, STAFF, None, at(2025, 9, 26, 9, 30))
    assess = {"category": "NEIGHBOUR", "risk": "YELLOW", "tier": "ORDINARY", "lead_org": "司法所"}
    ledger.do(A.ASSESS, STAFF, assess, at(2025, 9, 26, 11))
    ledger.do(A.DISPATCH, STAFF, {"org": "org:tjw", "track": "PEOPLES_MEDIATION"},
              at(2025, 9, 26, 12))

    failed = {"result": "FAILED", "note": "调解不成", "evidence_record_id": 4711}
    ledger.do(A.REPORT_RESULT, SYNC, failed, at(2025, 9, 29, 9))
    assert [e.action for e in ledger.events[-2:]] == [A.ACCEPT, A.REPORT_RESULT]
    assert ledger.events[-2].details["implicit"] == "true"
    assert ledger.events[-1].actor_kind is ActorKind.SYSTEM
    assert ledger.state.status is CaseStatus.FAILED

    court = {"org": "org:court", "track": "PRE_FILING_MEDIATION", "reason": "转诉前调解"}
    ledger.do(A.REDISPATCH, STAFF, court, at(2025, 9, 29, 10))
    ledger.do(A.ACCEPT, COURT, None, at(2025, 9, 30, 10))
    ledger.do(A.SUSPEND, STAFF, {"reason": "伤情鉴定"}, at(2025, 10, 9, 10))
    ledger.do(A.RESUME, STAFF, None, at(2025, 10, 13, 10))
    ledger.do(A.REPORT_RESULT, SYNC, {"result": "RESOLVED", "evidence_record_id": 4712},
              at(2025, 10, 20, 9))
    ledger.do(A.VERIFY, STAFF, None, at(2025, 10, 21, 9))
    ledger.do(A.CLOSE, STAFF, {"outcome": "RESOLVED"}, at(2025, 10, 21, 10))
    ledger.do(A.REVISIT, STAFF, {"satisfaction": "SATISFIED"}, at(2025, 10, 22, 10))

    assert (ledger.state.step, ledger.state.status, ledger.state.version) == (
        S.REVISITED, CaseStatus.REVISITED, 13,
    )
    later = at(2025, 11, 30)
    met = {rule: clock.read(CALENDAR, later).met for rule, clock in ledger.clocks.items()}
    # 委派调解: accepted 9/30; 30 days counted from 10/1, 10/9–10/12 suspended (4 days) →
    # last day Mon 11/3. Accept: 3 wd from Mon 9/29 → 9/30, 10/9, 10/10 (met on 9/30).
    # 一般 tier: 7 days from 9/26 → 10/3, closed 10/21 — breached.
    assert met == {
        "matter.tier.ordinary": False,
        "dispatch.accept": True,
        "mediation.people": True,
        "mediation.court_accept": True,
        "mediation.court_delegated": True,
        "matter.revisit": True,
    }
    delegated = ledger.clocks["mediation.court_delegated"]
    assert delegated.schedule(CALENDAR).last_day == datetime(2025, 11, 3).date()
    assert delegated.read(CALENDAR, later).remaining == timedelta(days=14, hours=15)


def test_the_review_window_runs_from_the_answer_the_centre_accepted() -> None:
    """§35's 30 days (申请复查期限) run from the written answer: an answer sent back at 核查
    and given again later starts them afresh, not from the first one."""
    ledger = assessed("PETITION", "COMPLEX", at(2025, 3, 3, 9))
    ledger.do(A.DISPATCH, STAFF, {"org": "org:bureau", "track": "PETITION"}, at(2025, 3, 4, 9))
    ledger.do(A.ACCEPT, PETITION_BODY, None, at(2025, 3, 5, 9))
    ledger.do(A.REPORT_RESULT, PETITION_BODY, {"result": "RESOLVED"}, at(2025, 4, 1, 9))
    ledger.do(A.SEND_BACK, STAFF, {"reason": "答复未回应诉求"}, at(2025, 4, 2, 9))
    ops = ledger.do(A.REPORT_RESULT, PETITION_BODY, {"result": "RESOLVED"}, at(2025, 4, 21, 9))
    assert (START, "petition.review_request") in ops
    window = ledger.clocks["petition.review_request"]
    assert window.started_at == at(2025, 4, 21, 9)
    # 30 days from 4/21: 4/22 … 5/21
    assert window.schedule(CALENDAR).last_day == datetime(2025, 5, 21).date()
