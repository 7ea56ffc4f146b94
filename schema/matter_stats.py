"""Dashboard figures over matters (事项统计图表): grouped counts, KPIs and durations with typed
keys, and the overdue list a 督办 screen shows — figures and case codes, never a party, a
title or a matter object.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry
from sqlalchemy import RowMapping

from db.matter_stats import Durations, MatterGroup, MatterKey
from domain.enums import CaseStatus, DisputeCategory, RiskLevel
from domain.matter_stats import HANDLING_DURATION, MatterDateBasis, MatterDimension
from domain.stats import KpiId, TimeBucket, suppressed
from domain.workflow.vocabulary import DispatchTrack, MatterOrigin, MatterStep
from schema.context import Info
from schema.regions import Region, region_of
from schema.stats import KpiFigure, StatPeriod

strawberry.enum(
    MatterDimension,
    description=(
        "What matter figures are grouped by (事项分组维度): STEP 环节, STATUS 案件状态, CATEGORY "
        "纠纷类别, RISK_LEVEL 风险等级, ORIGIN 来源, TRACK 处置途径 (承办单位类型), REGION 区划 "
        "(at `regionLevel`)."
    ),
)
strawberry.enum(
    MatterDateBasis,
    description=(
        "Which instant of a matter counts are bucketed and bounded by (统计时间口径): OPENED "
        "登记时间, CLOSED 结案时间 (matters not closed left out)."
    ),
)


@strawberry.type(
    description=(
        "A group of matters (事项分组键); null for what the figures are not grouped by. Each "
        "value is typed: an enum member, a region, a period."
    )
)
class MatterStatKey:
    step: MatterStep | None = strawberry.field(description="Step (环节).")
    status: CaseStatus | None = strawberry.field(description="Status (案件状态).")
    category: DisputeCategory | None = strawberry.field(description="Category (纠纷类别).")
    risk_level: RiskLevel | None = strawberry.field(description="Risk level (风险等级).")
    origin: MatterOrigin | None = strawberry.field(description="Origin (来源).")
    track: DispatchTrack | None = strawberry.field(
        description="Track, i.e. the kind of organisation handling it (处置途径/承办单位类型); "
        "null in a track group: not dispatched."
    )
    region_code: str | None = strawberry.field(
        description="The region's code at the requested level (区划代码); null: unplaced."
    )
    period: StatPeriod | None = strawberry.field(description="The time bucket (统计周期).")

    @strawberry.field(description="The region (区划); null when unplaced or not in the tree.")
    async def region(self, info: Info) -> Region | None:
        return await region_of(info, self.region_code)

    @classmethod
    def of(cls, key: MatterKey, bucket: TimeBucket | None) -> MatterStatKey:
        return cls(
            step=key.step,
            status=key.status,
            category=key.category,
            risk_level=key.risk,
            origin=key.origin,
            track=key.track,
            region_code=key.region_code,
            period=StatPeriod.of(key.period, bucket) if key.period and bucket else None,
        )


@strawberry.type(description="One group's matter count (事项分组计数).")
class MatterStatRow:
    key: MatterStatKey = strawberry.field(description="The group (分组).")
    count: int | None = strawberry.field(
        description="Matters in the group (事项数); null when suppressed."
    )
    suppressed: bool = strawberry.field(
        description="Below the minimum cell size and hidden from this role (小数抑制)."
    )

    @classmethod
    def of(cls, group: MatterGroup, bucket: TimeBucket | None, min_cell: int) -> MatterStatRow:
        hidden = suppressed(group.count, min_cell)
        return cls(
            key=MatterStatKey.of(group.key, bucket),
            count=None if hidden else group.count,
            suppressed=hidden,
        )


def _hours(seconds: float | None, hidden: bool) -> float | None:
    return None if seconds is None or hidden else float(seconds) / 3600


@strawberry.type(
    description=(
        "Handling duration of a group's matters closed in the period (办理时长): 结案时间 − "
        "登记时间, in hours (登记时间 of a matter taken from a source is the source's receipt, "
        "so a loaded backlog's durations include its time at the source); percentiles by "
        "linear interpolation."
    )
)
class DurationFigure:
    count: int | None = strawberry.field(
        description="Closed matters measured (结案事项数); null when suppressed."
    )
    p50_hours: float | None = strawberry.field(description="Median, hours (P50 小时).")
    p90_hours: float | None = strawberry.field(description="90th percentile, hours (P90 小时).")
    suppressed: bool = strawberry.field(description="Hidden as a small cell (小数抑制).")
    definition: str = strawberry.field(description="How it is measured (口径说明).")
    version: str = strawberry.field(description="Definition version (口径版本).")

    @classmethod
    def of(cls, durations: Durations, min_cell: int) -> DurationFigure:
        hidden = suppressed(durations.count, min_cell)
        return cls(
            count=None if hidden else durations.count,
            p50_hours=_hours(durations.p50, hidden),
            p90_hours=_hours(durations.p90, hidden),
            suppressed=hidden,
            definition=HANDLING_DURATION.text,
            version=HANDLING_DURATION.version,
        )


@strawberry.type(description="The matter KPIs of one group (事项分组指标).")
class MatterKpiRow:
    key: MatterStatKey = strawberry.field(description="The group (分组).")
    figures: list[KpiFigure] = strawberry.field(description="One per KPI asked for (指标值).")
    duration: DurationFigure = strawberry.field(description="Handling duration (办理时长).")

    @classmethod
    def of(
        cls,
        group: MatterGroup,
        kpis: Sequence[KpiId],
        bucket: TimeBucket | None,
        min_cell: int,
    ) -> MatterKpiRow:
        figures = []
        for kpi in kpis:
            numerator, denominator = group.kpis.get(kpi, (0, 0))
            figures.append(KpiFigure.from_counts(kpi, numerator, denominator, min_cell))
        return cls(
            key=MatterStatKey.of(group.key, bucket),
            figures=figures,
            duration=DurationFigure.of(group.durations, min_cell),
        )


@strawberry.type(
    description=(
        "An open matter past a deadline (逾期事项): its case code, category, step, place, "
        "organisations and since when it is overdue — no title, no party."
    )
)
class OverdueMatterItem:
    number: str = strawberry.field(description="Case code (一案一码).")
    category: DisputeCategory = strawberry.field(description="Category (纠纷类别).")
    step: MatterStep = strawberry.field(description="Step (环节).")
    status: CaseStatus = strawberry.field(description="Status (案件状态).")
    risk_level: RiskLevel = strawberry.field(description="Risk level (风险等级).")
    track: DispatchTrack | None = strawberry.field(description="Track (处置途径).")
    lead_org: str | None = strawberry.field(description="Lead department (牵头单位).")
    assigned_org: str | None = strawberry.field(description="Handling organisation (承办单位).")
    region_code: str | None = strawberry.field(description="Region code (区划代码).")
    opened_at: datetime = strawberry.field(description="Registered (登记时间).")
    overdue_since: datetime = strawberry.field(
        description="Due instant of its first overdue running clock (逾期起算)."
    )

    @strawberry.field(description="The region (区划); null when unplaced or not in the tree.")
    async def region(self, info: Info) -> Region | None:
        return await region_of(info, self.region_code)

    @classmethod
    def from_row(cls, row: RowMapping) -> OverdueMatterItem:
        return cls(
            number=row["number"],
            category=row["category"],
            step=row["step"],
            status=row["status"],
            risk_level=row["risk"],
            track=row["track"],
            lead_org=row["lead_org"],
            assigned_org=row["assigned_org"],
            region_code=row["region_code"],
            opened_at=row["opened_at"],
            overdue_since=row["overdue_since"],
        )
