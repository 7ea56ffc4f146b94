"""A record change as a subscriber receives it (记录变更)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.enums import RecordChangeKind, RecordKind, SourceSystem


@strawberry.type(
    description=(
        "A record a sync created, updated or withdrew (记录变更): ids and codes only, no "
        "personal data; read the record itself with `node(id)`."
    )
)
class RecordChange:
    record_id: strawberry.ID = strawberry.field(
        description="The record's global id (全局 ID), as `node(id)` takes it."
    )
    kind: RecordKind = strawberry.field(description="Record kind (记录类型).")
    source: SourceSystem = strawberry.field(description="Source system (来源系统).")
    region_code: str | None = strawberry.field(description="Region code (区划代码).")
    change: RecordChangeKind = strawberry.field(description="What happened (变更类型).")
    committed_at: datetime = strawberry.field(
        description="When govhub committed the change (变更时间)."
    )
