"""Write-backs to the departments' own systems, as operators see them (回写状态)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db.models import OutboxMessage
from domain.enums import SourceSystem
from domain.writeback import WriteState
from schema.sensitivity import MATTERS, guarded_type

strawberry.enum(
    WriteState,
    name="WriteBackState",
    description=(
        "Where a write-back stands (回写状态): PENDING 待发送, SENDING 发送中, "
        "UNKNOWN 结果未知(核对中), SENT 已送达, CONFIRMED 已确认(对方编号已记录), "
        "FAILED 对方拒收, DEAD 重试用尽(待人工), CANCELLED 已取消."
    ),
)


@strawberry.type(description="One write-back to a department's system (回写记录).")
class WriteBack:
    id: int = strawberry.field(description="Outbox row id (发件箱编号).")
    target: SourceSystem = strawberry.field(description="Target system (目标系统).")
    operation: str = strawberry.field(
        description="What is written, e.g. court.filing, mediation.referral (回写操作)."
    )
    reference: str = strawberry.field(
        description="The write's stable reference: idempotency key or external number (外部编号)."
    )
    matter: str | None = strawberry.field(description="The matter it belongs to (所属事项).")
    state: WriteState = strawberry.field(description="Delivery state (回写状态).")
    attempts: int = strawberry.field(description="Sends tried so far (尝试次数).")
    target_ref: str | None = strawberry.field(
        description="The target's own id for the write, once confirmed (对方编号)."
    )
    last_error_code: str | None = strawberry.field(description="Last error code (最近错误码).")
    last_error: str | None = strawberry.field(description="Last error, masked (最近错误).")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is next tried (下次尝试时间)."
    )
    created_at: datetime = strawberry.field(description="Enqueued at (入队时间).")
    confirmed_at: datetime | None = strawberry.field(description="Confirmed at (确认时间).")

    @classmethod
    def from_row(cls, row: OutboxMessage) -> WriteBack:
        return cls(
            id=row.id, target=row.target, operation=row.operation,
            reference=row.idempotency_key, matter=row.aggregate_id,
            state=WriteState(row.status), attempts=row.attempts, target_ref=row.target_ref,
            last_error_code=row.last_error_code, last_error=row.last_error,
            next_attempt_at=row.next_attempt_at, created_at=row.created_at,
            confirmed_at=row.confirmed_at,
        )  # fmt: skip


@guarded_type
@strawberry.type(
    description=(
        "A matter's write-back to a department's system, as those who read the matter see it "
        "(事项回写状态): no payload, no error text."
    )
)
class MatterWriteBack:
    system: SourceSystem = strawberry.field(metadata=MATTERS, description="Target (目标系统).")
    operation: str = strawberry.field(
        metadata=MATTERS, description="court.filing, mediation.referral, grid.assign… (回写操作)."
    )
    reference: str = strawberry.field(
        metadata=MATTERS, description="Stable reference, per matter step (外部编号)."
    )
    state: WriteState = strawberry.field(metadata=MATTERS, description="State (回写状态).")
    attempts: int = strawberry.field(metadata=MATTERS, description="Sends tried (尝试次数).")
    target_ref: str | None = strawberry.field(
        metadata=MATTERS, description="The target's own id, once confirmed (对方编号)."
    )
    last_error_code: str | None = strawberry.field(
        metadata=MATTERS, description="Last error code (最近错误码)."
    )
    created_at: datetime = strawberry.field(metadata=MATTERS, description="Enqueued (入队时间).")
    updated_at: datetime | None = strawberry.field(
        metadata=MATTERS, description="Last changed (更新时间)."
    )

    @classmethod
    def from_row(cls, row: OutboxMessage) -> MatterWriteBack:
        return cls(
            system=row.target, operation=row.operation, reference=row.idempotency_key,
            state=WriteState(row.status), attempts=row.attempts, target_ref=row.target_ref,
            last_error_code=row.last_error_code, created_at=row.created_at,
            updated_at=row.updated_at,
        )  # fmt: skip
