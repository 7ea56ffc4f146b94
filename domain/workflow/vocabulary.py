"""The words of the closed loop (事项闭环词汇): steps, actions, facts, tracks, outcomes.

A matter's coarse status stays in the shared :class:`~domain.enums.CaseStatus` vocabulary
(dashboards count by it); :class:`MatterStep` is the finer position in the loop that the state
machine needs, and :func:`status_of` derives the one from the other.

Deadline rules (:mod:`domain.deadlines`) name their start and stop events with these words, so
this module imports nothing but the shared enums.
"""

from __future__ import annotations

from enum import StrEnum

from domain.enums import CaseStatus, RecordKind


class MatterStep(StrEnum):
    """Where a matter stands in the loop (事项环节)."""

    REGISTERED = "REGISTERED"  # 已登记, awaiting 受理
    ACCEPTED = "ACCEPTED"  # 已受理, awaiting 研判
    ASSESSED = "ASSESSED"  # 已研判, awaiting 分流
    DISPATCHED = "DISPATCHED"  # 已分流, awaiting the department's 签收
    RETURNED = "RETURNED"  # 已退回 by the department (异议), awaiting re-dispatch
    IN_PROGRESS = "IN_PROGRESS"  # 处置中
    FED_BACK = "FED_BACK"  # 已反馈, awaiting 核查
    VERIFIED = "VERIFIED"  # 已核查, awaiting 结案
    CLOSED = "CLOSED"  # 已结案, awaiting 回访
    REVISITED = "REVISITED"  # 已回访
    WITHDRAWN = "WITHDRAWN"  # 已撤回 / 不予受理


TERMINAL_STEPS = frozenset({MatterStep.REVISITED, MatterStep.WITHDRAWN})
"""Steps nothing leads out of but :attr:`MatterAction.REOPEN` (after an unsatisfied 回访)."""

OPEN_STEPS = frozenset(MatterStep) - {
    MatterStep.CLOSED,
    MatterStep.REVISITED,
    MatterStep.WITHDRAWN,
}
"""Steps of a matter still being worked on (未结)."""


class MatterAction(StrEnum):
    """What an actor does to a matter (操作); each is one transition of the machine."""

    OPEN = "OPEN"  # 登记 (来访/来电登记, or opened by a synced record)
    ADMIT = "ADMIT"  # 受理
    ASSESS = "ASSESS"  # 研判
    DISPATCH = "DISPATCH"  # 分流
    REDISPATCH = "REDISPATCH"  # 重新分流 (改派)
    ACCEPT = "ACCEPT"  # 签收
    OBJECT = "OBJECT"  # 退回 (提出异议)
    REPORT_PROGRESS = "REPORT_PROGRESS"  # 进展反馈
    REPORT_RESULT = "REPORT_RESULT"  # 结果反馈
    VERIFY = "VERIFY"  # 核查通过
    SEND_BACK = "SEND_BACK"  # 核查退回 (重办)
    CLOSE = "CLOSE"  # 结案
    REVISIT = "REVISIT"  # 回访
    REOPEN = "REOPEN"  # 重新办理 (回访不满意)
    SUSPEND = "SUSPEND"  # 挂起 (e.g. 鉴定, time not counted)
    RESUME = "RESUME"  # 恢复
    EXTEND = "EXTEND"  # 延期 (经批准)
    RECORD_FACT = "RECORD_FACT"  # 登记节点事实 (协议生效、申请复查…)
    WITHDRAW = "WITHDRAW"  # 撤回 / 不予受理


class MatterFact(StrEnum):
    """Facts that start or stop a clock without moving the matter (节点事实)."""

    PARTY_NOTIFIED = "PARTY_NOTIFIED"  # 已书面告知当事人/信访人
    AGREEMENT_EFFECTIVE = "AGREEMENT_EFFECTIVE"  # 调解协议生效
    CONFIRMATION_APPLIED = "CONFIRMATION_APPLIED"  # 已申请司法确认
    REVIEW_REQUESTED = "REVIEW_REQUESTED"  # 申请复查
    REVIEW_ANSWERED = "REVIEW_ANSWERED"  # 复查意见已出具
    RECHECK_REQUESTED = "RECHECK_REQUESTED"  # 申请复核
    RECHECK_ANSWERED = "RECHECK_ANSWERED"  # 复核意见已出具


class SourceFact(StrEnum):
    """What a synced record's own system says happened, on its own date (来源系统事实): taken
    over when intake opens a matter from the record, or when the record of a matter not yet
    dispatched concludes, so clocks run from and stop at the source's dates."""

    SOURCE_ACCEPTED = "SOURCE_ACCEPTED"  # 来源系统已受理 (e.g. 信访件已受理, 调委会已受理)
    SOURCE_CONCLUDED = "SOURCE_CONCLUDED"  # 来源系统已办结 (e.g. 信访件已答复/已办结, 调解成功)


class SupervisionAction(StrEnum):
    """What is done to a supervision order (督办单操作)."""

    ISSUE_SUPERVISION = "ISSUE_SUPERVISION"  # 下发督办
    REPLY_SUPERVISION = "REPLY_SUPERVISION"  # 督办回复
    CLOSE_SUPERVISION = "CLOSE_SUPERVISION"  # 督办办结
    ESCALATE_SUPERVISION = "ESCALATE_SUPERVISION"  # 督办升级 (报上一级)


class SupervisionLevel(StrEnum):
    """How hard a supervision order presses (督办等级), mildest first."""

    REMINDER = "REMINDER"  # 提醒
    SUPERVISE = "SUPERVISE"  # 督办
    LISTED = "LISTED"  # 挂牌督办


class DispatchTrack(StrEnum):
    """The procedure a matter is dispatched into (处置途径); deadline rules key on it."""

    PEOPLES_MEDIATION = "PEOPLES_MEDIATION"  # 人民调解 (调委会)
    PRE_FILING_MEDIATION = "PRE_FILING_MEDIATION"  # 诉前调解 (法院委派调解)
    COURT_FILING = "COURT_FILING"  # 诉讼立案
    PETITION = "PETITION"  # 信访事项办理 (有权处理机关)
    POLICE = "POLICE"  # 公安处置 (派出所, 治安调解)
    JUDICIAL_OFFICE = "JUDICIAL_OFFICE"  # 司法所处置
    GRID = "GRID"  # 属地网格处置 (乡镇街道/村社区)
    DEPARTMENT = "DEPARTMENT"  # 职能部门处理


class ComplexityTier(StrEnum):
    """How hard a matter is, set at 研判 (复杂程度); local practice ties time limits to it."""

    SIMPLE = "SIMPLE"  # 简单
    ORDINARY = "ORDINARY"  # 一般
    COMPLEX = "COMPLEX"  # 复杂


class MatterOrigin(StrEnum):
    """How a matter came in (来源): a synced record of a kind, or intake at the centre."""

    DISPUTE = RecordKind.DISPUTE.value  # 人民调解案件
    GRID_EVENT = RecordKind.GRID_EVENT.value  # 网格事件
    POLICE_ALERT = RecordKind.POLICE_ALERT.value  # 110 警情
    PETITION = RecordKind.PETITION.value  # 信访件
    COURT_FILING = RecordKind.COURT_FILING.value  # 诉讼/诉前调解案件
    WALK_IN = "WALK_IN"  # 来访登记
    PHONE = "PHONE"  # 来电登记


FEEDBACK_RESULTS = frozenset({CaseStatus.RESOLVED, CaseStatus.FAILED})
"""The results a department reports (反馈结果): 化解成功 or 化解不成功."""


class MatterOutcome(StrEnum):
    """How a matter was closed (结案方式)."""

    RESOLVED = "RESOLVED"  # 化解成功
    UNRESOLVED = "UNRESOLVED"  # 未化解
    TO_LITIGATION = "TO_LITIGATION"  # 转诉讼
    TO_ARBITRATION = "TO_ARBITRATION"  # 转仲裁
    TO_ADMINISTRATIVE = "TO_ADMINISTRATIVE"  # 转行政处理
    TO_PETITION = "TO_PETITION"  # 转信访程序


class Satisfaction(StrEnum):
    """A party's verdict at 回访 (满意度)."""

    SATISFIED = "SATISFIED"  # 满意
    BASICALLY_SATISFIED = "BASICALLY_SATISFIED"  # 基本满意
    DISSATISFIED = "DISSATISFIED"  # 不满意


class ActorKind(StrEnum):
    """Who acts on a matter (操作主体)."""

    CENTRE_STAFF = "CENTRE_STAFF"  # 综治中心工作人员, within their jurisdiction
    PARTNER = "PARTNER"  # 承办单位: the organisation the matter is dispatched to
    SYSTEM = "SYSTEM"  # 系统: progress taken from synced source records, the deadline scanner


def status_of(step: MatterStep, result: CaseStatus | None) -> CaseStatus:
    """The shared status (案件状态) of a matter at ``step`` with feedback ``result``."""
    if step in (MatterStep.FED_BACK, MatterStep.VERIFIED):
        if result is not None and result in FEEDBACK_RESULTS:
            return result
        return CaseStatus.IN_PROGRESS
    return _STEP_STATUS[step]


_STEP_STATUS: dict[MatterStep, CaseStatus] = {
    MatterStep.REGISTERED: CaseStatus.REPORTED,
    MatterStep.ACCEPTED: CaseStatus.ACCEPTED,
    MatterStep.ASSESSED: CaseStatus.ASSESSED,
    MatterStep.DISPATCHED: CaseStatus.DISPATCHED,
    MatterStep.RETURNED: CaseStatus.ASSESSED,
    MatterStep.IN_PROGRESS: CaseStatus.IN_PROGRESS,
    MatterStep.CLOSED: CaseStatus.CLOSED,
    MatterStep.REVISITED: CaseStatus.REVISITED,
    MatterStep.WITHDRAWN: CaseStatus.WITHDRAWN,
}

LABELS: dict[type[StrEnum], dict[str, str]] = {
    MatterStep: {
        "REGISTERED": "已登记", "ACCEPTED": "已受理", "ASSESSED": "已研判", "DISPATCHED": "已分流",
        "RETURNED": "已退回", "IN_PROGRESS": "处置中", "FED_BACK": "已反馈", "VERIFIED": "已核查",
        "CLOSED": "已结案", "REVISITED": "已回访", "WITHDRAWN": "已撤回",
    },
    MatterAction: {
        "OPEN": "登记", "ADMIT": "受理", "ASSESS": "研判", "DISPATCH": "分流",
        "REDISPATCH": "重新分流", "ACCEPT": "签收", "OBJECT": "退回", "REPORT_PROGRESS": "进展反馈",
        "REPORT_RESULT": "结果反馈", "VERIFY": "核查通过", "SEND_BACK": "核查退回",
        "CLOSE": "结案", "REVISIT": "回访", "REOPEN": "重新办理", "SUSPEND": "挂起",
        "RESUME": "恢复", "EXTEND": "延期", "RECORD_FACT": "登记节点", "WITHDRAW": "撤回",
    },
    MatterFact: {
        "PARTY_NOTIFIED": "已书面告知", "AGREEMENT_EFFECTIVE": "调解协议生效",
        "CONFIRMATION_APPLIED": "已申请司法确认", "REVIEW_REQUESTED": "申请复查",
        "REVIEW_ANSWERED": "复查意见已出具", "RECHECK_REQUESTED": "申请复核",
        "RECHECK_ANSWERED": "复核意见已出具",
    },
    SourceFact: {"SOURCE_ACCEPTED": "来源系统已受理", "SOURCE_CONCLUDED": "来源系统已办结"},
    SupervisionAction: {
        "ISSUE_SUPERVISION": "下发督办", "REPLY_SUPERVISION": "督办回复",
        "CLOSE_SUPERVISION": "督办办结", "ESCALATE_SUPERVISION": "督办升级",
    },
    SupervisionLevel: {"REMINDER": "提醒", "SUPERVISE": "督办", "LISTED": "挂牌督办"},
    DispatchTrack: {
        "PEOPLES_MEDIATION": "人民调解", "PRE_FILING_MEDIATION": "诉前调解",
        "COURT_FILING": "诉讼立案", "PETITION": "信访事项办理", "POLICE": "公安处置",
        "JUDICIAL_OFFICE": "司法所处置", "GRID": "属地网格处置", "DEPARTMENT": "职能部门处理",
    },
    ComplexityTier: {"SIMPLE": "简单", "ORDINARY": "一般", "COMPLEX": "复杂"},
    MatterOrigin: {
        "DISPUTE": "人民调解案件", "GRID_EVENT": "网格事件", "POLICE_ALERT": "110警情",
        "PETITION": "信访件", "COURT_FILING": "诉讼/诉前调解案件", "WALK_IN": "来访登记",
        "PHONE": "来电登记",
    },
    MatterOutcome: {
        "RESOLVED": "化解成功", "UNRESOLVED": "未化解", "TO_LITIGATION": "转诉讼",
        "TO_ARBITRATION": "转仲裁", "TO_ADMINISTRATIVE": "转行政处理", "TO_PETITION": "转信访程序",
    },
    Satisfaction: {
        "SATISFIED": "满意", "BASICALLY_SATISFIED": "基本满意", "DISSATISFIED": "不满意",
    },
    ActorKind: {"CENTRE_STAFF": "综治中心工作人员", "PARTNER": "承办单位", "SYSTEM": "系统"},
}
"""The Chinese term of every member, per enum (values repeat across enums, e.g. RESOLVED)."""


def label(member: StrEnum) -> str:
    """The Chinese term of a vocabulary member: ``label(MatterStep.CLOSED) == "已结案"``."""
    return LABELS[type(member)][member.value]
