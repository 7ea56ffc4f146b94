"""Resolvers of the dashboard figures (统计解析): ``recordStats``, ``recordKpis``,
``kpiDefinitions`` and the open risk list ``openRisks``.

Thin: the filter is a record list's (``resolvers.filters``), the counting one GROUP BY within
the principal's scope (``db.stats``), the suppression rule and definitions the domain's
(``domain.stats``). The operation is audited like every other by the audit trail.
"""

from __future__ import annotations

from typing import Annotated, Protocol, TypeVar, cast

import strawberry

from db.figures import TooManyGroups
from db.risk_queries import open_risks
from db.stats import Group, StatQuery
from domain.enums import RegionLevel, RiskLevel
from domain.stats import KPI_DEFINITIONS, RECORD_KPIS, KpiId, StatDimension, TimeBucket
from resolvers.dataloaders import Loaders
from resolvers.filters import record_criteria
from resolvers.queries import FilterArg
from resolvers.rows import fetch_all
from schema.context import Info
from schema.errors import BadUserInput
from schema.filters import RecordFilter
from schema.risks import RiskItem
from schema.stats import KpiDefinitionType, KpiFigure, KpiRow, StatRow

MAX_TOP = 100

GroupByArg = Annotated[
    list[StatDimension] | None,
    strawberry.argument(description="Dimensions to group by (分组维度); none: one total."),
]
LevelArg = Annotated[
    RegionLevel,
    strawberry.argument(
        description="Level regions are rolled up to when grouping by REGION (区划层级)."
    ),
]
BucketArg = Annotated[
    TimeBucket | None,
    strawberry.argument(
        description=(
            "Group by this Beijing calendar period of occurredAt too (时间粒度). Every period "
            "from filter.occurredFrom to filter.occurredTo (else the first to the last counted) "
            "is returned, empty ones as zero."
        )
    ),
]
TopArg = Annotated[
    int | None,
    strawberry.argument(
        description="Only the first `top` groups, largest first (排名前 N); empty ones left out."
    ),
]

KpiTopArg = Annotated[
    int | None,
    strawberry.argument(
        description=(
            "Only the `top` groups by the first KPI's value, highest first (排名); groups "
            "without a value (suppressed, or 0 ÷ 0) left out."
        )
    ),
]


def checked_first(info: Info, first: int | None) -> int:
    """How many items a list answers: ``first``, else a whole page; within the page limit."""
    most = info.context.security.limits.max_page_size
    limit = first if first is not None else most
    if not 1 <= limit <= most:
        raise BadUserInput(f"first must be between 1 and {most}.")
    return limit


def min_cell_of(info: Info) -> int:
    """The smallest count shown to this role: any, for a role that reads parties."""
    security = info.context.security
    principal = security.principal
    return 0 if principal is not None and principal.policy.parties else security.stats_min_cell


def _query(
    record_filter: RecordFilter | None,
    group_by: list[StatDimension] | None,
    region_level: RegionLevel,
    bucket: TimeBucket | None,
    kpis: tuple[KpiId, ...] = (),
) -> StatQuery:
    return StatQuery(
        criteria=record_criteria(record_filter),
        dimensions=tuple(dict.fromkeys(group_by or ())),
        region_level=region_level,
        bucket=bucket,
        kpis=kpis,
    )


def checked_top(top: int | None) -> int | None:
    if top is not None and not 1 <= top <= MAX_TOP:
        raise BadUserInput(f"top must be between 1 and {MAX_TOP}.")
    return top


async def _figures(info: Info, query: StatQuery, top: int | None = None) -> list[Group]:
    """Through the request's figures loader: an operation's figures are counted together."""
    loaders = cast("Loaders", info.context.loaders)  # this layer's loaders (see queries.py)
    try:
        return await loaders.figures.load((query, top))
    except TooManyGroups as exc:
        raise BadUserInput(str(exc)) from exc


async def resolve_record_stats(
    info: Info,
    filter: FilterArg = None,
    group_by: GroupByArg = None,
    region_level: LevelArg = RegionLevel.COUNTY,
    bucket: BucketArg = None,
    top: TopArg = None,
) -> list[StatRow]:
    query = _query(filter, group_by, region_level, bucket)
    groups = await _figures(info, query, checked_top(top))
    min_cell = min_cell_of(info)
    return [StatRow.of(group, bucket, min_cell) for group in groups]


class _HasFigures(Protocol):
    @property
    def figures(self) -> list[KpiFigure]: ...


Ranked = TypeVar("Ranked", bound=_HasFigures)


def rank_by_first_kpi(rows: list[Ranked], top: int) -> list[Ranked]:
    """The ``top`` rows by the first KPI's value, highest first; rows without one left out."""
    valued = [(row.figures[0].value, row) for row in rows]
    ranked = sorted(
        ((value, row) for value, row in valued if value is not None), key=lambda vr: -vr[0]
    )
    return [row for _, row in ranked[:top]]


async def resolve_record_kpis(
    info: Info,
    kpis: Annotated[
        list[KpiId] | None,
        strawberry.argument(
            description="Which KPIs over records (指标); all of them when omitted."
        ),
    ] = None,
    filter: FilterArg = None,
    group_by: GroupByArg = None,
    region_level: LevelArg = RegionLevel.COUNTY,
    bucket: BucketArg = None,
    top: KpiTopArg = None,
) -> list[KpiRow]:
    chosen = tuple(dict.fromkeys(kpis or RECORD_KPIS))
    if not_records := [kpi.value for kpi in chosen if kpi not in RECORD_KPIS]:
        raise BadUserInput(f"{', '.join(not_records)}: KPIs over matters, ask matterKpis.")
    query = _query(filter, group_by, region_level, bucket, chosen)
    checked_top(top)
    groups = await _figures(info, query)
    min_cell = min_cell_of(info)
    rows = [KpiRow.of(group, chosen, bucket, min_cell) for group in groups]
    return rank_by_first_kpi(rows, top) if top is not None else rows


def resolve_kpi_definitions() -> list[KpiDefinitionType]:
    return [KpiDefinitionType.of(definition) for definition in KPI_DEFINITIONS.values()]


async def resolve_open_risks(
    info: Info,
    level: Annotated[
        RiskLevel, strawberry.argument(description="Risk level listed (风险等级).")
    ] = RiskLevel.RED,
    filter: FilterArg = None,
    first: Annotated[
        int | None, strawberry.argument(description="How many, newest first (条数).")
    ] = None,
) -> list[RiskItem]:
    limit = checked_first(info, first)
    statement = open_risks(record_criteria(filter), info.context.security.scope, level, limit)
    rows = await fetch_all(info.context.sessions, statement)
    return [RiskItem.from_row(row) for row in rows]
