"""Filter inputs (筛选条件)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem


@strawberry.input(
    description=(
        "Which records to list (记录筛选). Conditions combine with AND; a list matches any of "
        "its values. Withdrawn (deleted) records are left out unless `includeDeleted`."
    )
)
class RecordFilter:
    kind: list[RecordKind] | None = strawberry.field(
        default=None,
        description=(
            "Record kinds (记录类型). Naming a kind the role may not read is FORBIDDEN, as its "
            "own list is; without this filter, records of the kinds the role reads are listed."
        ),
    )
    source: list[SourceSystem] | None = strawberry.field(
        default=None, description="Source systems (来源系统)."
    )
    category: list[DisputeCategory] | None = strawberry.field(
        default=None, description="Unified categories (纠纷类别)."
    )
    status: list[CaseStatus] | None = strawberry.field(
        default=None, description="Unified statuses (案件状态)."
    )
    risk_level: list[RiskLevel] | None = strawberry.field(
        default=None, description="Risk levels (风险等级)."
    )
    region: str | None = strawberry.field(
        default=None,
        description=(
            "A region code (区划代码); matches the region and everything beneath it, so a city "
            "code such as 411200 matches all its counties, townships and grids."
        ),
    )
    occurred_from: datetime | None = strawberry.field(
        default=None,
        description=(
            "Occurred at or after (发生时间起): a time with its offset, or a plain date "
            "`2026-08-17` for the start of that Beijing day (00:00+08:00)."
        ),
    )
    occurred_to: datetime | None = strawberry.field(
        default=None,
        description=(
            "Occurred before (发生时间止, exclusive): a time with its offset, or a plain date "
            "for the start of that Beijing day; one day's records are `occurredFrom: "
            '"2026-08-17", occurredTo: "2026-08-18"`.'
        ),
    )
    search: str | None = strawberry.field(
        default=None,
        description="Text in the title, summary or address, case-insensitive (关键词).",
    )
    party_name: str | None = strawberry.field(
        default=None, description="A party's name starts with this (当事人姓名)."
    )
    include_deleted: bool = strawberry.field(
        default=False, description="Also list records the source withdrew (含已删除)."
    )
