"""The open risk list a screen shows (风险清单): what, where, when — no one's name or words."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry
from sqlalchemy import RowMapping

from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel
from schema.context import Info
from schema.fastpath.marks import rereadable
from schema.records import shown_title
from schema.regions import Region, region_of


@strawberry.type(
    description=(
        "A record on the open risk list (风险清单条目): its kind, category, status, place and "
        "time, without parties or free text."
    )
)
class RiskItem:
    kind: RecordKind = strawberry.field(description="Record kind (记录类型).")
    category: DisputeCategory = strawberry.field(description="Category (纠纷类别).")
    status: CaseStatus = strawberry.field(description="Status (案件状态).")
    risk_level: RiskLevel = strawberry.field(description="Risk level (风险等级).")
    region_code: str | None = strawberry.field(description="Region code (区划代码).")
    source_title: strawberry.Private[str]
    occurred_at: datetime = strawberry.field(description="When it happened (发生时间).")

    @strawberry.field(
        description=(
            "Title (标题): as on the record, the source's own only for roles reading parties "
            "and free text, category and region for the others (邻里纠纷 · 湖滨区)."
        ),
        graphql_type=str,
    )
    @rereadable
    def title(self, info: Info) -> str | Awaitable[str]:
        # A source's title names the parties or, for a 110 alert, the address: a dashboard
        # listing risks must not read there what the record itself would not show it.
        return shown_title(info, self.source_title, self.category, self.region_code)

    @strawberry.field(description="The region (区划); null when unplaced or not in the tree.")
    async def region(self, info: Info) -> Region | None:
        return await region_of(info, self.region_code)

    @classmethod
    def from_row(cls, row: RowMapping) -> RiskItem:
        return cls(
            kind=row["kind"],
            category=row["category"],
            status=row["status"],
            risk_level=row["risk_level"],
            region_code=row["region_code"],
            source_title=row["title"],
            occurred_at=row["occurred_at"],
        )
