"""Dashboard figures (统计图表): grouped counts and KPIs with typed keys.

Keys are typed (enums, a ``Region``, a Beijing calendar ``StatPeriod``), never strings; every
KPI carries its numerator and denominator beside the value and its definition. A count the
role may not see in full (small-cell suppression) is null with ``suppressed: true``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import strawberry

from db.stats import Group, GroupKey
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.stats import (
    KPI_DEFINITIONS,
    KpiDefinition,
    KpiId,
    KpiSubject,
    StatDimension,
    TimeBucket,
    bucket_label,
    kpi_suppressed,
    next_bucket,
    suppressed,
)
from schema.context import Info
from schema.regions import Region, region_of

strawberry.enum(
    TimeBucket,
    description=(
        "A Beijing calendar period (时间粒度, Asia/Shanghai: a day starts at 00:00 +08:00): "
        "DAY 日, WEEK 周 (Monday first), MONTH 月, QUARTER 季度, YEAR 年."
    ),
)
strawberry.enum(
    StatDimension,
    description=(
        "What figures are grouped by (分组维度): KIND 记录类型, SOURCE 来源系统, CATEGORY "
        "纠纷类别, STATUS 案件状态, RISK_LEVEL 风险等级, REGION 区划 (at `regionLevel`)."
    ),
)
strawberry.enum(
    KpiSubject,
    description=(
        "What a KPI counts (统计对象): RECORDS 记录 (recordKpis), MATTERS 事项 (matterKpis)."
    ),
)
strawberry.enum(
    KpiId,
    description="A KPI (考核指标): "
    + ", ".join(f"{d.kpi.value} {d.name}" for d in KPI_DEFINITIONS.values())
    + ".",
)


@strawberry.type(description="A time bucket in Beijing time (统计周期).")
class StatPeriod:
    bucket: TimeBucket = strawberry.field(description="Its granularity (粒度).")
    start: date = strawberry.field(description="Its first Beijing calendar day (起始日).")
    end: date = strawberry.field(description="The day after its last (截止日, exclusive).")
    label: str = strawberry.field(
        description="How a chart names it (标签): 2026-03-15, 2026-W11, 2026-03, 2026-Q1, 2026."
    )

    @classmethod
    def of(cls, start: date, bucket: TimeBucket) -> StatPeriod:
        return cls(
            bucket=bucket,
            start=start,
            end=next_bucket(start, bucket),
            label=bucket_label(start, bucket),
        )


@strawberry.type(
    description=(
        "A group's values (分组键); null for what the figures are not grouped by. Each value "
        "is typed: an enum member, a region, a period."
    )
)
class StatKey:
    kind: RecordKind | None = strawberry.field(description="Record kind (记录类型).")
    source: SourceSystem | None = strawberry.field(description="Source system (来源系统).")
    category: DisputeCategory | None = strawberry.field(description="Category (纠纷类别).")
    status: CaseStatus | None = strawberry.field(description="Status (案件状态).")
    risk_level: RiskLevel | None = strawberry.field(description="Risk level (风险等级).")
    region_code: str | None = strawberry.field(
        description=(
            "The region's code at the requested level (区划代码); a record placed only more "
            "coarsely keeps its own code; null for records without a region (区划不明)."
        )
    )
    period: StatPeriod | None = strawberry.field(description="The time bucket (统计周期).")

    @strawberry.field(description="The region (区划); null when unplaced or not in the tree.")
    async def region(self, info: Info) -> Region | None:
        return await region_of(info, self.region_code)

    @classmethod
    def of(cls, key: GroupKey, bucket: TimeBucket | None) -> StatKey:
        return cls(
            kind=key.kind,
            source=key.source,
            category=key.category,
            status=key.status,
            risk_level=key.risk_level,
            region_code=key.region_code,
            period=StatPeriod.of(key.period, bucket) if key.period and bucket else None,
        )


@strawberry.type(description="One group's record count (分组计数).")
class StatRow:
    key: StatKey = strawberry.field(description="The group (分组).")
    count: int | None = strawberry.field(
        description="Records in the group (记录数); null when suppressed."
    )
    suppressed: bool = strawberry.field(
        description=(
            "The count is below the minimum cell size and hidden from this role (小数抑制): "
            "roles that may not read parties see no count from 1 to minCell − 1."
        )
    )

    @classmethod
    def of(cls, group: Group, bucket: TimeBucket | None, min_cell: int) -> StatRow:
        hidden = suppressed(group.count, min_cell)
        return cls(
            key=StatKey.of(group.key, bucket),
            count=None if hidden else group.count,
            suppressed=hidden,
        )


@strawberry.type(name="KpiDefinition", description="How a KPI is counted (指标口径).")
class KpiDefinitionType:
    id: KpiId = strawberry.field(description="The KPI (指标).")
    name: str = strawberry.field(description="Its Chinese name (指标名称).")
    version: str = strawberry.field(description="Definition version (口径版本).")
    numerator: str = strawberry.field(description="What the numerator counts (分子).")
    denominator: str = strawberry.field(description="What the denominator counts (分母).")
    scale: int = strawberry.field(
        description="The ratio is multiplied by this (倍数): 10000 for 万人起诉率, else 1."
    )
    text: str = strawberry.field(description="The whole definition in one line (口径说明).")
    subject: KpiSubject = strawberry.field(
        description="What it counts (统计对象): records (recordKpis) or matters (matterKpis)."
    )

    @classmethod
    def of(cls, definition: KpiDefinition) -> KpiDefinitionType:
        return cls(
            id=definition.kpi,
            name=definition.name,
            version=definition.version,
            numerator=definition.numerator,
            denominator=definition.denominator,
            scale=definition.scale,
            text=definition.text,
            subject=definition.subject,
        )


@strawberry.type(
    description=(
        "A KPI's figure for one group (指标值): numerator and denominator, value = numerator ÷ "
        "denominator × scale. Summing groups: add numerators and denominators, then divide "
        "(万人起诉率: regions only; a population does not add up over periods)."
    )
)
class KpiFigure:
    kpi: KpiId = strawberry.field(description="The KPI (指标).")
    numerator: int | None = strawberry.field(description="Numerator (分子); null if suppressed.")
    denominator: int | None = strawberry.field(
        description="Denominator (分母); null if suppressed or unknown (no population)."
    )
    value: float | None = strawberry.field(
        description="numerator ÷ denominator × scale (指标值); null when either is unknown or 0."
    )
    suppressed: bool = strawberry.field(description="Hidden as a small cell (小数抑制).")

    @strawberry.field(description="Its definition (指标口径).")
    def definition(self) -> KpiDefinitionType:
        return KpiDefinitionType.of(KPI_DEFINITIONS[self.kpi])

    @classmethod
    def of(cls, kpi: KpiId, group: Group, min_cell: int) -> KpiFigure:
        numerator, denominator = group.kpis.get(kpi, (0, 0))
        return cls.from_counts(kpi, numerator, denominator, min_cell)

    @classmethod
    def from_counts(
        cls, kpi: KpiId, numerator: int, denominator: int | None, min_cell: int
    ) -> KpiFigure:
        if kpi_suppressed(kpi, numerator, denominator, min_cell):
            return cls(kpi=kpi, numerator=None, denominator=None, value=None, suppressed=True)
        scale = KPI_DEFINITIONS[kpi].scale
        value = numerator / denominator * scale if denominator else None
        return cls(
            kpi=kpi, numerator=numerator, denominator=denominator, value=value, suppressed=False
        )


@strawberry.type(description="The KPIs of one group (分组指标).")
class KpiRow:
    key: StatKey = strawberry.field(description="The group (分组).")
    figures: list[KpiFigure] = strawberry.field(description="One per KPI asked for (指标值).")

    @classmethod
    def of(
        cls, group: Group, kpis: Sequence[KpiId], bucket: TimeBucket | None, min_cell: int
    ) -> KpiRow:
        return cls(
            key=StatKey.of(group.key, bucket),
            figures=[KpiFigure.of(kpi, group, min_cell) for kpi in kpis],
        )
