"""Which write-backs a matter's step asks for, their payloads and their stable references."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.mappings.mediation import CATEGORY_BY_DISPUTE_TYPE
from domain.deadlines import load_rules
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem
from domain.matter_writes import (
    DISPUTE_TYPE_CODES,
    AcceptedResult,
    MatterFacts,
    WriteParty,
    planned_writes,
)
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.intake import SourceConclusion
from domain.workflow.machine import MatterMachine
from domain.workflow.state import MatterState, Transition
from domain.workflow.vocabulary import DispatchTrack, MatterAction, MatterOrigin, MatterStep
from domain.writeback import WriteOperation

NOW = datetime(2026, 11, 30, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
MACHINE = MatterMachine(load_rules())
STAFF = Actor.of(Principal("staff-1", Role.CENTER_STAFF, org="centre", regions=("411202",)))
PARTNER = Actor.of(Principal("m-1", Role.MEDIATOR, org="org:m"))
ASSESSED = MatterState(step=MatterStep.ASSESSED, origin=MatterOrigin.POLICE_ALERT,
                       region_code="411202001", version=3, category=DisputeCategory.NEIGHBOUR)
FACTS = MatterFacts(
    number="411202-2026-000017", title="邻里噪音纠纷", summary=None, region_code="411202001",
    parties=(WriteParty(PartyRole.APPLICANT, "张伟", "11010519491231002X", "13800138000"),),
    origin=SourceSystem.POLICE_110, origin_key="J4112022026000001",
)


def dispatched(track: DispatchTrack) -> Transition:
    return MACHINE.apply(ASSESSED, MatterAction.DISPATCH, STAFF,
                         {"org": "org:m", "track": track.value}, NOW)


@pytest.mark.parametrize(("track", "operation"), [
    (DispatchTrack.PEOPLES_MEDIATION, WriteOperation.MEDIATION_REFERRAL),
    (DispatchTrack.PRE_FILING_MEDIATION, WriteOperation.COURT_FILING),
    (DispatchTrack.COURT_FILING, WriteOperation.COURT_FILING),
    (DispatchTrack.GRID, WriteOperation.GRID_ASSIGN),
    (DispatchTrack.POLICE, None),
    (DispatchTrack.DEPARTMENT, None),
])
def test_a_dispatch_writes_to_the_system_of_its_track(
    track: DispatchTrack, operation: WriteOperation | None
) -> None:
    writes = planned_writes(FACTS, dispatched(track), NOW)
    assert [w.operation for w in writes] == ([operation] if operation else [])
    for write in writes:  # one reference per (matter, step): the new version names the step
        assert write.reference.startswith("411202-2026-000017-4-")
        assert write.reference == planned_writes(FACTS, dispatched(track), NOW)[0].reference


def test_payloads_carry_what_each_target_requires() -> None:
    (court,) = planned_writes(FACTS, dispatched(DispatchTrack.PRE_FILING_MEDIATION), NOW)
    assert court.payload["caseType"] == "诉前调解"
    assert court.payload["externalCaseNo"] == FACTS.number
    assert court.payload["parties"] == [{"role": "APPLICANT", "name": "张伟",
                                         "idCard": "11010519491231002X", "phone": "13800138000"}]
    (referral,) = planned_writes(FACTS, dispatched(DispatchTrack.PEOPLES_MEDIATION), NOW)
    assert referral.payload["summary"] == "邻里噪音纠纷"  # the title when there is no summary
    assert referral.payload["disputeType"] == "02"
    (assign,) = planned_writes(FACTS, dispatched(DispatchTrack.GRID), NOW)
    assert assign.payload["content"] and "parties" not in assign.payload


def reported() -> Transition:
    return MACHINE.apply(dispatched(DispatchTrack.PEOPLES_MEDIATION).state,
                         MatterAction.REPORT_RESULT, PARTNER,
                         {"result": "RESOLVED", "note": "达成协议"}, NOW)


def verified() -> Transition:
    return MACHINE.apply(reported().state, MatterAction.VERIFY, STAFF, {}, NOW)


def test_a_reported_result_writes_nothing_until_it_is_verified() -> None:
    # a result may yet be sent back (退回): the department's system must not hear of it
    assert planned_writes(FACTS, reported(), NOW) == []
    sent_back = MACHINE.apply(reported().state, MatterAction.SEND_BACK, STAFF,
                              {"reason": "证据不足"}, NOW)
    assert planned_writes(FACTS, sent_back, NOW) == []


def test_a_verified_result_goes_back_to_the_system_the_matter_came_from() -> None:
    accepted = AcceptedResult(note="达成协议")
    (feedback,) = planned_writes(FACTS, verified(), NOW, accepted=accepted)
    assert feedback.operation is WriteOperation.POLICE_FEEDBACK
    assert feedback.payload["JJDBH"] == FACTS.origin_key
    assert feedback.payload["CLJG"] == "化解成功：达成协议"
    assert feedback.reference == f"{FACTS.number}-6-POLI"  # the verification's version
    walk_in = MatterFacts(number="N", title="t", summary=None, region_code=None)
    assert planned_writes(walk_in, verified(), NOW, accepted=accepted) == []
    petition = MatterFacts(number="N", title="t", summary=None, region_code=None,
                           origin=SourceSystem.PETITION, origin_key="XF1")
    (result,) = planned_writes(petition, verified(), NOW, accepted=accepted)
    assert result.payload["信访件编号"] == "XF1" and result.payload["办理结果"] == "化解成功"
    assert result.payload["答复意见"] == "达成协议"


def test_a_result_taken_from_the_origin_systems_own_record_is_not_written_back() -> None:
    from_there = AcceptedResult(note="已处置", source=SourceSystem.POLICE_110)
    assert planned_writes(FACTS, verified(), NOW, accepted=from_there) == []


def test_dispute_type_codes_are_the_inverse_of_the_mediation_reading_map() -> None:
    assert {code: category for category, code in DISPUTE_TYPE_CODES.items()} == (
        CATEGORY_BY_DISPUTE_TYPE)


def test_a_verified_result_carries_the_time_it_was_reported_not_the_verification() -> None:
    # given a result reported on 28 November, verified on 30 November at 10:00
    at_report = datetime(2026, 11, 28, 16, 45, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    accepted = AcceptedResult(note="达成协议", reported_at=at_report)
    # then the 110 system's 反馈时间 and the petition's 办结日期 are the report's
    (feedback,) = planned_writes(FACTS, verified(), NOW, accepted=accepted)
    assert feedback.payload["FKSJ"] == "2026-11-28 16:45:12"
    petition = MatterFacts(number="N", title="t", summary=None, region_code=None,
                           origin=SourceSystem.PETITION, origin_key="XF1")
    (result,) = planned_writes(petition, verified(), NOW, accepted=accepted)
    assert result.payload["办结日期"] == "2026-11-28"


def test_a_source_conclusion_verified_is_not_written_back_to_that_source() -> None:
    # given a matter from a 110 alert the 110 system concluded (来源系统已办结), never dispatched
    concluded = SourceConclusion(9, CaseStatus.RESOLVED, NOW, "POLICE_110 J1")
    verified = MACHINE.apply(ASSESSED, MatterAction.VERIFY, STAFF, {}, NOW,
                             source_concluded=concluded)
    # then 核查 takes its result and writes nothing: the 110 system gave it
    assert verified.state.result is CaseStatus.RESOLVED
    assert planned_writes(FACTS, verified, NOW) == []
