"""Which write-backs a step of a matter causes, and what each carries (事项回写).

A dispatch (分流 / 改派) into a track whose department works in its own system asks for a
write there (:data:`~domain.writeback.DISPATCH_OPERATIONS`). A result on a matter that came
from a grid event, a 110 alert or a petition is written back to that system
(:data:`~domain.writeback.RESULT_OPERATIONS`) once the centre has accepted it — at 核查
(VERIFY), not at 结果反馈 (REPORT_RESULT): a result sent back (退回) and reported again would
otherwise reach the department's system twice, the rejected one first, and none of those
systems can take a result back. The write carries the result 核查 accepted (the last one
reported), and is skipped when that result was itself taken from that system's record (it
knows already). The result's dates (FKSJ, 办结日期) are those of its report, and its note
is the timeline's, where what a person typed is stored masked (ID numbers, phones): the
department receives it masked, deliberately. Each write's reference is
:func:`~domain.writeback.writeback_reference` of the matter's number and its new version: one
per (matter, step), so the same step can never ask twice.

Payloads are built from the matter's own fields in each target's words. Parties go only to the
targets that take them (court, mediation), identifiers included: the outbox seals the payload,
and nothing here logs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.calendar import to_local
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem
from domain.workflow.state import Transition
from domain.workflow.vocabulary import DispatchTrack, MatterAction
from domain.writeback import (
    RESULT_OPERATIONS,
    WriteOperation,
    dispatch_operation,
    writeback_reference,
)

RESULT_TEXT = {CaseStatus.RESOLVED: "化解成功", CaseStatus.FAILED: "化解不成功"}
CENTRE = "综治中心"

DISPUTE_TYPE_CODES: dict[DisputeCategory, str] = {
    DisputeCategory.MARRIAGE_FAMILY: "01", DisputeCategory.NEIGHBOUR: "02",
    DisputeCategory.HOUSING_HOMESTEAD: "03", DisputeCategory.CONTRACT: "04",
    DisputeCategory.BUSINESS: "05", DisputeCategory.DAMAGES: "06",
    DisputeCategory.LAND_FOREST: "07", DisputeCategory.LAND_ACQUISITION: "08",
    DisputeCategory.ENVIRONMENT: "09", DisputeCategory.LABOUR: "10",
    DisputeCategory.CONSUMER: "11", DisputeCategory.MEDICAL: "12",
    DisputeCategory.TRAFFIC: "13", DisputeCategory.PROPERTY_MGMT: "14",
    DisputeCategory.OTHER: "99",
}
"""The mediation platform's 纠纷类型 code of each category (the inverse of its reading map)."""


@dataclass(frozen=True, slots=True)
class WriteParty:
    """A party of the matter, identifiers opened (only to build a payload)."""

    role: PartyRole
    name: str
    id_number: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class MatterFacts:
    """What a matter's write-backs are built from."""

    number: str
    title: str
    summary: str | None
    region_code: str | None
    parties: tuple[WriteParty, ...] = ()
    origin: SourceSystem | None = None
    """The system of the record that opened the matter, if one did."""
    origin_key: str | None = None
    """That record's key in its system (警情编号, 信访件编号, 事件编号)."""


@dataclass(frozen=True, slots=True)
class AcceptedResult:
    """The result 核查 accepts: the last one reported (结果反馈) since the matter was
    dispatched or sent back."""

    note: str = ""
    """What the department reported with it."""
    source: SourceSystem | None = None
    """The system of the record it was taken from, if a sync took it from one."""
    reported_at: datetime | None = None
    """When it was reported (its 结果反馈 on the timeline): the 110 system's 反馈时间 (FKSJ)
    and the petition's 办结日期; none known, the verification's time."""


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    operation: WriteOperation
    payload: dict[str, Any]
    reference: str


def planned_writes(
    matter: MatterFacts,
    transition: Transition,
    now: datetime,
    *,
    accepted: AcceptedResult | None = None,
) -> list[PlannedWrite]:
    """The writes ``transition`` asks for (none for most steps).

    ``accepted`` is the result a verification (核查) accepts; none given, one without a note.
    """
    planned: list[PlannedWrite] = []
    state = transition.state
    for event in transition.events:
        if event.action in (MatterAction.DISPATCH, MatterAction.REDISPATCH):
            operation = dispatch_operation(state.track.value) if state.track else None
            if operation is not None:
                payload = _dispatch_payload(operation, matter, transition)
                planned.append(PlannedWrite(operation, payload, writeback_reference(
                    matter.number, state.version, operation)))
        elif event.action is MatterAction.VERIFY and state.result is not None:
            if event.details.get("source_concluded") == "true":
                continue  # the ORIGIN record's own conclusion: its system wrote it
            origin = matter.origin
            if origin is None or not matter.origin_key or origin not in RESULT_OPERATIONS:
                continue
            result = accepted or AcceptedResult()
            if result.source is origin:  # the result came from that system's own record
                continue
            operation = RESULT_OPERATIONS[origin]
            payload = _result_payload(operation, matter, transition, result, now)
            planned.append(PlannedWrite(operation, payload, writeback_reference(
                matter.number, state.version, operation)))
    return planned


def _text(matter: MatterFacts) -> str:
    return matter.summary or matter.title


def _parties(matter: MatterFacts) -> list[dict[str, str]]:
    return [
        {k: v for k, v in (("role", p.role.value), ("name", p.name), ("idCard", p.id_number),
                           ("phone", p.phone)) if v}
        for p in matter.parties
    ]


def _dispatch_payload(
    operation: WriteOperation, matter: MatterFacts, transition: Transition
) -> dict[str, Any]:
    state = transition.state
    org = state.assigned_org or ""
    if operation is WriteOperation.COURT_FILING:
        pre_filing = state.track is DispatchTrack.PRE_FILING_MEDIATION
        return {
            "caseType": "诉前调解" if pre_filing else "民初", "title": matter.title,
            "category": state.category.value, "summary": _text(matter),
            "regionCode": matter.region_code, "externalCaseNo": matter.number,
            "parties": _parties(matter),
        }
    if operation is WriteOperation.MEDIATION_REFERRAL:
        return {
            "summary": _text(matter), "caseName": matter.title,
            "disputeType": DISPUTE_TYPE_CODES[state.category],
            "regionCode": matter.region_code, "orgCode": org, "matterNo": matter.number,
            "parties": _parties(matter),
        }
    payload: dict[str, Any] = {  # GRID_ASSIGN: no parties (the grid takes none)
        "title": matter.title, "content": _text(matter), "deptCode": org,
        "regionCode": matter.region_code, "matterNo": matter.number,
    }
    if matter.origin is SourceSystem.GRID and matter.origin_key:
        payload["eventNo"] = matter.origin_key
    return payload


def _result_payload(
    operation: WriteOperation, matter: MatterFacts, transition: Transition,
    result: AcceptedResult, now: datetime,
) -> dict[str, Any]:
    state = transition.state
    assert state.result is not None
    outcome = RESULT_TEXT.get(state.result, state.result.value)
    note = result.note
    told = f"{outcome}：{note}" if note else outcome
    org = state.assigned_org or CENTRE
    # 反馈时间 / 办结日期 say when the result was reported, not when the centre checked it
    local = to_local(result.reported_at or now)
    if operation is WriteOperation.POLICE_FEEDBACK:
        return {"JJDBH": matter.origin_key, "CLJG": told, "CLDW": org,
                "FKSJ": local.strftime("%Y-%m-%d %H:%M:%S")}
    if operation is WriteOperation.PETITION_RESULT:
        return {"信访件编号": matter.origin_key, "办理结果": outcome, "办理单位": org,
                "办结日期": local.strftime("%Y-%m-%d"), "答复意见": note or outcome}
    return {"eventNo": matter.origin_key, "content": told,  # GRID_FEEDBACK
            "status": "已办结" if state.result is CaseStatus.RESOLVED else "处置中"}
