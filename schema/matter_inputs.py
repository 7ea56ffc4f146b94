"""Inputs and answers of the closed loop's operations (事项办理输入与结果).

Each mutation answers a union of its payload and :class:`MatterError`, whose ``code`` is the
domain's (``domain.workflow.errors``) one to one: ILLEGAL_TRANSITION, FORBIDDEN,
BAD_USER_INPUT, CONFLICT, NOT_FOUND. A role that may not call a mutation at all is refused
before anything runs (``FORBIDDEN`` as a GraphQL error, like every field rule).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.enums import CaseStatus, DisputeCategory, PartyRole, RiskLevel
from domain.workflow.errors import WorkflowError, WorkflowErrorCode
from domain.workflow.vocabulary import (
    ComplexityTier,
    DispatchTrack,
    MatterFact,
    MatterOrigin,
    MatterOutcome,
    MatterStep,
    Satisfaction,
    SupervisionLevel,
)
from schema.matters import MatterNode, SupervisionOrder
from schema.sensitivity import MATTERS


@strawberry.input(
    description=(
        "Which matters to list (事项筛选); conditions combine with AND, a list matches any of "
        "its values."
    )
)
class MatterFilter:
    status: list[CaseStatus] | None = strawberry.field(default=None, description="状态 (status).")
    step: list[MatterStep] | None = strawberry.field(default=None, description="环节 (step).")
    risk: list[RiskLevel] | None = strawberry.field(default=None, description="风险等级 (risk).")
    lead_org: str | None = strawberry.field(default=None, description="牵头单位 (lead org).")
    assigned_org: str | None = strawberry.field(default=None, description="承办单位 (assignee).")
    mine: bool | None = strawberry.field(
        default=None, description="Those I registered or acted on (我办理的)."
    )
    my_org: bool | None = strawberry.field(
        default=None, description="Those dispatched to or led by my organisation (本单位的)."
    )
    region: str | None = strawberry.field(
        default=None, description="A region and everything beneath it (区划代码)."
    )
    overdue: bool | None = strawberry.field(
        default=None,
        description=(
            "With a running clock past due now (已逾期); false: with none past due (未逾期)."
        ),
    )
    due_before: datetime | None = strawberry.field(
        default=None, description="With a running clock due before this instant (临期)."
    )
    opened_after: datetime | None = strawberry.field(
        default=None, description="Registered at or after (登记时间起)."
    )
    opened_before: datetime | None = strawberry.field(
        default=None, description="Registered before (登记时间止)."
    )
    text: str | None = strawberry.field(
        default=None,
        description=(
            "Text in the title or number (关键词). A role shown no matter's own title "
            "(category and region instead) searches the number only, as its titles would "
            "name the parties; a role that reads no matters is refused (FORBIDDEN)."
        ),
    )
    supervised: bool | None = strawberry.field(
        default=None,
        description=(
            "With a 督办 order open or replied, not yet closed (督办中); an escalated order "
            "counts through its successor."
        ),
    )


@strawberry.input(description="A party at intake (登记当事人); ID numbers and phones validated.")
class IntakePartyInput:
    role: PartyRole = strawberry.field(description="Role (当事人角色).")
    name: str = strawberry.field(description="Name (姓名).")
    id_number: str | None = strawberry.field(
        default=None, description="Resident ID number, checked (身份证号)."
    )
    phone: str | None = strawberry.field(default=None, description="Phone, checked (联系电话).")


@strawberry.input(description="A walk-in or phone intake (来访/来电登记).")
class OpenMatterInput:
    origin: MatterOrigin = strawberry.field(description="WALK_IN or PHONE (来源).")
    title: str = strawberry.field(description="Title (事项标题).")
    region_code: str = strawberry.field(description="Division code (区划代码).")
    category: DisputeCategory = strawberry.field(
        default=DisputeCategory.OTHER, description="Category (类别)."
    )
    risk: RiskLevel = strawberry.field(default=RiskLevel.NONE, description="Risk (风险等级).")
    summary: str | None = strawberry.field(default=None, description="Summary (简要情况).")
    parties: list[IntakePartyInput] = strawberry.field(
        default_factory=list, description="Parties (当事人)."
    )


@strawberry.input(description="研判: category, risk, complexity and lead department (研判).")
class AssessMatterInput:
    category: DisputeCategory = strawberry.field(description="Category (类别).")
    risk: RiskLevel = strawberry.field(description="Risk (风险等级).")
    tier: ComplexityTier = strawberry.field(description="Complexity (复杂程度).")
    lead_org: str = strawberry.field(description="Lead department (牵头单位).")
    note: str = strawberry.field(default="", description="Note (备注).")


@strawberry.input(description="分流 to an organisation on a track (分流).")
class DispatchMatterInput:
    org: str = strawberry.field(description="The receiving organisation's id (承办单位).")
    track: DispatchTrack = strawberry.field(description="Procedure (处置途径).")
    note: str = strawberry.field(default="", description="Note (备注).")


@strawberry.input(description="重新分流: another organisation or track, with the reason (改派).")
class RedispatchMatterInput:
    org: str = strawberry.field(description="The receiving organisation's id (承办单位).")
    track: DispatchTrack = strawberry.field(description="Procedure (处置途径).")
    reason: str = strawberry.field(description="Why (改派理由).")


@strawberry.input(description="结果反馈 from the department (结果反馈).")
class ReportResultInput:
    result: CaseStatus = strawberry.field(description="RESOLVED or FAILED (处置结果).")
    note: str = strawberry.field(default="", description="Note (说明).")


@strawberry.input(description="结案 with an outcome (结案).")
class CloseMatterInput:
    outcome: MatterOutcome = strawberry.field(description="Outcome (结案方式).")
    note: str = strawberry.field(default="", description="Note (备注).")


@strawberry.input(description="回访 with the party's verdict (回访).")
class RevisitMatterInput:
    satisfaction: Satisfaction = strawberry.field(description="Verdict (满意度).")
    note: str = strawberry.field(default="", description="Note (回访记录).")


@strawberry.input(description="延期 of one running clock, with its approval (延期).")
class ExtendClockInput:
    rule_id: str = strawberry.field(description="The clock's rule id (时限规则编号).")
    amount: int = strawberry.field(description="How much, in the clock's unit (延长量).")
    reason: str = strawberry.field(description="Why (延期理由).")
    approval: str = strawberry.field(default="", description="Who approved, how (审批).")


@strawberry.input(description="A fact that starts or stops a clock (登记节点事实).")
class RecordFactInput:
    fact: MatterFact = strawberry.field(description="The fact (节点事实).")
    at: datetime | None = strawberry.field(
        default=None, description="When it happened; default now (发生时间)."
    )
    note: str = strawberry.field(default="", description="Note (备注).")


@strawberry.input(description="督办 by staff (下发督办单).")
class SuperviseMatterInput:
    level: SupervisionLevel = strawberry.field(description="Level (督办等级).")
    target_org: str = strawberry.field(description="The organisation pressed (被督办单位).")
    reason: str = strawberry.field(description="Why (督办事由).")
    issuing_region: str | None = strawberry.field(
        default=None, description=(
            "Issuing centre's region (督办主体): the matter's own (the default) or one above "
            "it, within the caller's jurisdiction."
        ),
    )


@strawberry.type(description="The matter after the action (办理成功).")
class MatterChanged:
    matter: MatterNode = strawberry.field(metadata=MATTERS, description="The matter (事项).")


@strawberry.type(description="A supervision order after the action (督办办理成功).")
class SupervisionChanged:
    order: SupervisionOrder = strawberry.field(metadata=MATTERS, description="The order (督办单).")
    matter: MatterNode = strawberry.field(metadata=MATTERS, description="Its matter (事项).")


@strawberry.type(description="An action that was not applied, and why (办理失败).")
class MatterError:
    code: WorkflowErrorCode = strawberry.field(description="What went wrong (错误码).")
    message: str = strawberry.field(description="For people; ids and steps only (错误说明).")

    @classmethod
    def of(cls, error: WorkflowError) -> MatterError:
        return cls(code=error.code, message=error.message)


MatterResult = Annotated[
    MatterChanged | MatterError,
    strawberry.union("MatterResult", description="The matter, or why not (事项办理结果)."),
]
SupervisionResult = Annotated[
    SupervisionChanged | MatterError,
    strawberry.union("SupervisionResult", description="The order, or why not (督办办理结果)."),
]
