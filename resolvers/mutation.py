"""The ``Mutation`` root type: staff decisions on linking and risk grades (人工研判) and the
closed loop's steps (事项办理), for roles whose policy lists them; and ``devToken`` (开发令牌)
in dev only.

Every other role is refused with ``FORBIDDEN`` before anything executes (``schema.access``).
"""

from __future__ import annotations

import strawberry

from resolvers import decisions, operations, risk
from resolvers import matter_mutations as m
from resolvers.dev_token import resolve_dev_token
from schema.dev_token import DevToken
from schema.linking import LinkDecisionResult, MergePersonsResult, SplitPersonResult
from schema.matter_inputs import MatterResult, SupervisionResult
from schema.operations import DeadLetterReplay, WriteBackChange
from schema.risk import OverrideRiskResult


@strawberry.type(
    description=(
        "Staff decisions on linking and risk (人工研判) and the closed loop (事项办理): staff "
        "run the whole loop in their jurisdiction, partners act on matters dispatched to them; "
        "in dev also a demo token (开发令牌)."
    )
)
class Mutation:
    confirm_link: LinkDecisionResult = strawberry.field(
        resolver=decisions.resolve_confirm_link,
        description=(
            "Confirm a link (确认关联): no automatic run changes or removes it afterwards, and "
            "other undecided links between the two records go."
        ),
    )
    reject_link: LinkDecisionResult = strawberry.field(
        resolver=decisions.resolve_reject_link,
        description=(
            "Reject a link (驳回关联): it is kept as REJECTED, left out of linkedRecords, and "
            "the two records are never linked again."
        ),
    )
    merge_persons: MergePersonsResult = strawberry.field(
        resolver=decisions.resolve_merge_persons,
        description=(
            "Merge persons into the one kept (合并人员): their mentions are pinned to it and "
            "no automatic run separates them again."
        ),
    )
    split_person: SplitPersonResult = strawberry.field(
        resolver=decisions.resolve_split_person,
        description=(
            "Move mentions off a person to a new one (拆分人员): both sides are pinned and no "
            "automatic run joins them again."
        ),
    )
    dev_token: DevToken = strawberry.field(
        resolver=resolve_dev_token,
        description=(
            "Mint a bearer token for a demo role and jurisdiction (开发令牌): GOVHUB_ENV=dev "
            "only, callable without a token, audited; refused in prod."
        ),
    )
    override_risk_grade: OverrideRiskResult = strawberry.field(
        resolver=risk.resolve_override_risk_grade,
        description=(
            "Set a record's, person's or matter's risk grade by hand, with a reason "
            "(人工调整风险等级): it holds until the facts it was made on change, then the rules "
            "grade it again."
        ),
    )
    open_matter: MatterResult = strawberry.field(
        resolver=m.resolve_open_matter,
        description="A walk-in or phone matter (来访/来电登记), parties validated and sealed.",
    )
    admit_matter: MatterResult = strawberry.field(
        resolver=m.resolve_admit,
        description="受理 a registered matter (受理).",
    )
    assess_matter: MatterResult = strawberry.field(
        resolver=m.resolve_assess,
        description="研判: category, risk, complexity, lead department (研判).",
    )
    dispatch_matter: MatterResult = strawberry.field(
        resolver=m.resolve_dispatch,
        description="分流 to an organisation on a track; its handling clocks start (分流).",
    )
    redispatch_matter: MatterResult = strawberry.field(
        resolver=m.resolve_redispatch,
        description="Re-route a dispatched or returned matter (重新分流/改派).",
    )
    accept_matter: MatterResult = strawberry.field(
        resolver=m.resolve_accept,
        description="签收 by the department it is dispatched to (签收).",
    )
    object_matter: MatterResult = strawberry.field(
        resolver=m.resolve_object,
        description="退回 with a reason, by the department (退回/异议).",
    )
    report_matter_progress: MatterResult = strawberry.field(
        resolver=m.resolve_report_progress,
        description="Progress from the department (进展反馈).",
    )
    report_matter_result: MatterResult = strawberry.field(
        resolver=m.resolve_report_result,
        description="Result from the department: RESOLVED or FAILED (结果反馈).",
    )
    verify_matter: MatterResult = strawberry.field(
        resolver=m.resolve_verify,
        description=(
            "核查 the feedback (核查通过); on a matter not dispatched whose source concluded it "
            "(来源系统已办结), 核查来源办结结果: the source's result becomes the matter's."
        ),
    )
    send_back_matter: MatterResult = strawberry.field(
        resolver=m.resolve_send_back,
        description="Send the feedback back for rework (核查退回).",
    )
    close_matter: MatterResult = strawberry.field(
        resolver=m.resolve_close,
        description="结案 with an outcome (结案).",
    )
    revisit_matter: MatterResult = strawberry.field(
        resolver=m.resolve_revisit,
        description="回访 with the party's verdict (回访).",
    )
    reopen_matter: MatterResult = strawberry.field(
        resolver=m.resolve_reopen,
        description="Reopen after an unsatisfied revisit (重新办理).",
    )
    suspend_matter: MatterResult = strawberry.field(
        resolver=m.resolve_suspend,
        description="挂起: suspendable clocks stop counting (挂起).",
    )
    resume_matter: MatterResult = strawberry.field(
        resolver=m.resolve_resume,
        description="恢复 a suspended matter (恢复).",
    )
    withdraw_matter: MatterResult = strawberry.field(
        resolver=m.resolve_withdraw,
        description="撤回 / 不予受理 (撤回).",
    )
    extend_matter_clock: MatterResult = strawberry.field(
        resolver=m.resolve_extend,
        description="延期 a running clock within its rule, with approval (延期).",
    )
    record_matter_fact: MatterResult = strawberry.field(
        resolver=m.resolve_record_fact,
        description="A fact that starts or stops a clock (登记节点事实).",
    )
    supervise_matter: SupervisionResult = strawberry.field(
        resolver=m.resolve_supervise,
        description=(
            "督办 by staff: a supervision order (下发督办); it moves the matter's version, so a "
            "督办 and a step taken at once (结案, 撤回…) cannot both succeed: one is CONFLICT."
        ),
    )
    reply_supervision: SupervisionResult = strawberry.field(
        resolver=m.resolve_reply_supervision,
        description="Reply by the organisation pressed (督办回复).",
    )
    close_supervision: SupervisionResult = strawberry.field(
        resolver=m.resolve_close_supervision,
        description="Close a supervision order (督办办结).",
    )
    escalate_supervision: SupervisionResult = strawberry.field(
        resolver=m.resolve_escalate_supervision,
        description="Escalate to the level above (督办升级).",
    )
    attach_matter_records: MatterResult = strawberry.field(
        resolver=m.resolve_attach_records,
        description="Attach records to a matter by hand (人工关联记录).",
    )
    detach_matter_records: MatterResult = strawberry.field(
        resolver=m.resolve_detach_records,
        description="Detach records from a matter, with a reason (取消关联).",
    )
    merge_matters: MatterResult = strawberry.field(
        resolver=m.resolve_merge_matters,
        description="Merge matters into one; the others are withdrawn (并案).",
    )
    split_matter: MatterResult = strawberry.field(
        resolver=m.resolve_split_matter,
        description="Split records off into a new matter; answers the new one (拆案).",
    )
    replay_dead_letter: DeadLetterReplay = strawberry.field(
        resolver=operations.resolve_replay_dead_letter,
        description=(
            "Re-parse a dead letter with its source's current mapping and ingest it if it now "
            "passes; admin only (重放死信)."
        ),
    )
    retry_write_back: WriteBackChange = strawberry.field(
        resolver=operations.resolve_retry_write_back,
        description=(
            "Give a DEAD, FAILED or CANCELLED write-back a fresh start; it is read back before "
            "it is sent again; admin only (重试回写)."
        ),
    )
    cancel_write_back: WriteBackChange = strawberry.field(
        resolver=operations.resolve_cancel_write_back,
        description="Stop a write-back not yet delivered; admin only (撤销回写).",
    )
