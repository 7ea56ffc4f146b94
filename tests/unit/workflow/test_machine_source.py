"""A source's conclusion of a matter no department works on (来源系统已办结): a fact by the
system, on the source's date, that stops the source's clocks and leaves the step alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.deadlines import ClockOpKind, load_rules
from domain.enums import CaseStatus, DisputeCategory, RiskLevel
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.errors import Forbidden, IllegalTransition
from domain.workflow.intake import SourceConclusion, SourceDates, source_conclusion_of
from domain.workflow.machine import MatterMachine
from domain.workflow.state import MatterState
from domain.workflow.vocabulary import MatterAction, MatterOrigin, MatterStep

SH = ZoneInfo("Asia/Shanghai")
MACHINE = MatterMachine(load_rules())
SYNC = Actor.system("sync:PETITION")
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("510183",)))
NOW = datetime(2026, 12, 3, 10, tzinfo=SH)
PAYLOAD = {"origin": MatterOrigin.PETITION, "region_code": "510183001",
           "category": DisputeCategory.LABOUR, "risk": RiskLevel.NONE, "title": "讨薪"}


def _at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), SH)


def _accepted(on: date) -> MatterState:
    dates = SourceDates(received_at=_at(on), accepted=True, accepted_at=_at(on))
    return MACHINE.take_over(SYNC, PAYLOAD, dates, NOW).state


def _conclusion(at: datetime, status: CaseStatus = CaseStatus.RESOLVED) -> SourceConclusion:
    return SourceConclusion(7, status, at, "PETITION XF1（已答复）")


def test_the_conclusion_stops_the_source_clock_on_its_date_and_keeps_the_step() -> None:
    state = _accepted(date(2026, 10, 1))
    assert "petition.source_handle" in state.clocks
    concluded = _at(date(2026, 11, 20))
    transition = MACHINE.conclude_at_source(state, SYNC, _conclusion(concluded), NOW)
    assert transition.state.step is MatterStep.ACCEPTED  # the centre still closes it
    assert "petition.source_handle" not in transition.state.clocks
    assert [(op.kind, op.rule_id, op.at, op.reason) for op in transition.clock_ops] == [
        (ClockOpKind.STOP, "petition.source_handle", concluded, "SOURCE_CONCLUDED"),
    ]
    (event,) = transition.events
    assert (event.action, event.at, event.actor_sub) == (MatterAction.RECORD_FACT, NOW, SYNC.sub)
    assert event.note == "来源系统已办结：PETITION XF1（已答复）"
    assert dict(event.details) == {
        "fact": "SOURCE_CONCLUDED", "at": "2026-11-20T00:00:00+08:00",
        "record_status": "RESOLVED", "evidence_record_id": "7",
    }


def test_a_registered_petition_concluded_by_its_source_meets_its_registration_limit() -> None:
    state = MACHINE.take_over(SYNC, PAYLOAD, SourceDates(received_at=_at(date(2026, 12, 1))),
                              NOW).state  # fmt: skip
    assert state.step is MatterStep.REGISTERED and "petition.register" in state.clocks
    transition = MACHINE.conclude_at_source(state, SYNC, _conclusion(_at(date(2026, 12, 2))), NOW)
    assert [op.rule_id for op in transition.clock_ops] == ["petition.register"]


def test_the_fact_is_never_after_now_nor_before_the_clock_it_stops() -> None:
    state = _accepted(date(2026, 10, 1))
    late = MACHINE.conclude_at_source(state, SYNC, _conclusion(_at(date(2027, 1, 1))), NOW)
    assert late.clock_ops[0].at == NOW
    floor = _at(date(2026, 10, 5))
    early = MACHINE.conclude_at_source(
        state, SYNC, _conclusion(_at(date(2026, 9, 1))), NOW, not_before=floor
    )
    assert early.clock_ops[0].at == floor


def test_only_the_system_records_it_and_only_before_a_dispatch() -> None:
    state = _accepted(date(2026, 10, 1))
    with pytest.raises(Forbidden):
        MACHINE.conclude_at_source(state, STAFF, _conclusion(NOW), NOW)
    with pytest.raises(IllegalTransition):  # a dispatched matter takes it as feedback
        MACHINE.conclude_at_source(
            MatterState(step=MatterStep.DISPATCHED, origin=MatterOrigin.PETITION,
                        region_code="510183001", version=3),
            SYNC, _conclusion(NOW), NOW,
        )  # fmt: skip


def test_a_conclusion_is_dated_by_the_kind_s_own_field_for_its_status_else_the_update() -> None:
    updated = datetime(2026, 11, 21, 9, tzinfo=SH)
    signed = source_conclusion_of(1, CaseStatus.RESOLVED, updated, date(2026, 11, 18),
                                  dated_status=CaseStatus.RESOLVED)  # fmt: skip
    assert signed.concluded_at == _at(date(2026, 11, 18))  # 调解协议签订 = 调结
    failed = source_conclusion_of(1, CaseStatus.FAILED, updated, date(2026, 11, 18),
                                  dated_status=CaseStatus.RESOLVED)  # fmt: skip
    assert failed.concluded_at == updated
    assert source_conclusion_of(1, CaseStatus.CLOSED, updated, None).concluded_at == updated


def test_a_source_acceptance_after_intake_admits_on_its_date_and_starts_its_clock() -> None:
    state = MACHINE.take_over(SYNC, PAYLOAD, SourceDates(received_at=_at(date(2026, 11, 20))),
                              NOW).state  # fmt: skip
    accepted = _at(date(2026, 11, 25))
    dates = SourceDates(received_at=_at(date(2026, 11, 20)), accepted=True, accepted_at=accepted,
                        source="PETITION XF1", record_id=7)  # fmt: skip
    transition = MACHINE.accept_at_source(state, SYNC, dates, NOW)
    assert transition.state.step is MatterStep.ACCEPTED
    assert [(op.kind, op.rule_id, op.at) for op in transition.clock_ops] == [
        (ClockOpKind.STOP, "petition.register", accepted),
        (ClockOpKind.START, "petition.source_handle", accepted),
    ]
    (event,) = transition.events
    assert (event.action, event.at, event.from_step) == (
        MatterAction.ADMIT, accepted, MatterStep.REGISTERED,
    )
    assert dict(event.details) == {"source_accepted": "2026-11-25", "evidence_record_id": "7"}
    # never before the clock it stops, never after now; staff and other steps are refused
    early = MACHINE.accept_at_source(state, SYNC, dates, NOW, not_before=_at(date(2026, 11, 28)))
    assert early.events[0].at == _at(date(2026, 11, 28))
    with pytest.raises(Forbidden):
        MACHINE.accept_at_source(state, STAFF, dates, NOW)
    with pytest.raises(IllegalTransition):
        MACHINE.accept_at_source(transition.state, SYNC, dates, NOW)


def test_staff_verify_a_concluded_undispatched_matter_by_the_source_result() -> None:
    state = _accepted(date(2026, 10, 1))
    # without a conclusion held, 核查 waits for a department's feedback
    with pytest.raises(IllegalTransition):
        MACHINE.apply(state, MatterAction.VERIFY, STAFF, {}, NOW)
    concluded = _conclusion(_at(date(2026, 11, 20)), CaseStatus.FAILED)
    # the system may not verify, and a suspended matter waits
    with pytest.raises(Forbidden):
        MACHINE.apply(state, MatterAction.VERIFY, SYNC, {}, NOW, source_concluded=concluded)
    suspended = replace(state, suspended=True)
    with pytest.raises(IllegalTransition):
        MACHINE.apply(suspended, MatterAction.VERIFY, STAFF, {}, NOW, source_concluded=concluded)
    transition = MACHINE.apply(state, MatterAction.VERIFY, STAFF, {"note": "已核查"}, NOW,
                               source_concluded=concluded)
    assert (transition.state.step, transition.state.result) == (
        MatterStep.VERIFIED, CaseStatus.FAILED,
    )
    (event,) = transition.events
    assert (event.action, event.from_step, event.note) == (
        MatterAction.VERIFY, MatterStep.ACCEPTED, "已核查",
    )
    assert dict(event.details) == {"source_concluded": "true", "record_status": "FAILED",
                                   "evidence_record_id": "7", "result": "FAILED"}
    closed = MACHINE.apply(transition.state, MatterAction.CLOSE, STAFF,
                           {"outcome": "UNRESOLVED"}, NOW)
    assert closed.state.step is MatterStep.CLOSED
