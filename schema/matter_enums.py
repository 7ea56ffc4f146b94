"""GraphQL enums of the closed loop (事项闭环枚举), registered from the domain's vocabulary with
the Chinese term of every value in the description."""

from __future__ import annotations

from enum import Enum, StrEnum

import strawberry

from domain.deadlines import ClockState
from domain.events import MatterEventKind
from domain.supervision import SupervisionStatus
from domain.workflow.errors import WorkflowErrorCode
from domain.workflow.vocabulary import (
    LABELS,
    ActorKind,
    ComplexityTier,
    DispatchTrack,
    MatterFact,
    MatterOrigin,
    MatterOutcome,
    MatterStep,
    Satisfaction,
    SupervisionLevel,
)


def _described(title: str, enum: type[StrEnum], labels: dict[str, str]) -> str:
    return title + ": " + ", ".join(f"{m.value} {labels[m.value]}" for m in enum) + "."


for _enum, _title in (
    (MatterStep, "Where a matter stands in the loop (事项环节)"),
    (MatterOrigin, "How a matter came in (事项来源)"),
    (ComplexityTier, "How hard a matter is (复杂程度)"),
    (DispatchTrack, "The procedure a matter is dispatched into (处置途径)"),
    (MatterOutcome, "How a matter was closed (结案方式)"),
    (Satisfaction, "A party's verdict at the revisit (满意度)"),
    (SupervisionLevel, "How hard a supervision order presses (督办等级)"),
    (ActorKind, "Who acted (操作主体)"),
    (MatterFact, "A fact that starts or stops a clock (节点事实)"),
):
    strawberry.enum(_enum, description=_described(_title, _enum, LABELS[_enum]))

strawberry.enum(
    ClockState,
    description=_described("Where a clock stands (计时状态)", ClockState, {
        "RUNNING": "计时中", "WARNED": "已预警", "OVERDUE": "已逾期", "SUSPENDED": "已挂起",
        "STOPPED": "已停止",
    }),
)  # fmt: skip
strawberry.enum(
    SupervisionStatus,
    description=_described("Where a supervision order stands (督办状态)", SupervisionStatus, {
        "OPEN": "待回复", "REPLIED": "已回复", "CLOSED": "已办结", "ESCALATED": "已升级",
    }),
)  # fmt: skip
strawberry.enum(
    MatterEventKind,
    description=_described("What happened to a matter (事项事件类型)", MatterEventKind, {
        "OPENED": "登记", "STEP_CHANGED": "环节变化", "RECORD_JOINED": "关联记录并入",
        "WARNING": "预警", "OVERDUE": "逾期", "SUPERVISED": "督办",
    }),
)  # fmt: skip
strawberry.enum(
    WorkflowErrorCode,
    name="MatterErrorCode",
    description=(
        "Why an action on a matter was not applied (事项办理错误码): ILLEGAL_TRANSITION 当前环节"
        "不允许, FORBIDDEN 无权操作, BAD_USER_INPUT 参数有误, CONFLICT 版本已变 (他人已操作), "
        "NOT_FOUND 不存在或不在可见范围."
    ),
)


@strawberry.enum(description="Sort order of matters; ties break on id (事项排序).")
class MatterOrder(Enum):
    OPENED_AT_DESC = strawberry.enum_value(
        "OPENED_AT_DESC", description="Newest first by registration (登记时间倒序)."
    )
    OPENED_AT_ASC = strawberry.enum_value(
        "OPENED_AT_ASC", description="Oldest first by registration (登记时间正序)."
    )
    UPDATED_AT_DESC = strawberry.enum_value(
        "UPDATED_AT_DESC", description="Most recently acted on first (最近办理在前)."
    )
    UPDATED_AT_ASC = strawberry.enum_value(
        "UPDATED_AT_ASC", description="Least recently acted on first (最久未办理在前)."
    )
