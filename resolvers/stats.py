"""Resolvers of the dashboard figures (统计解析): ``recordStats``, ``recordKpis``,
``kpiDefinitions``.

Thin: the filter is a record list's (``resolvers.filters``), the counting one GROUP BY within
the principal's scope (``db.stats``), the suppression rule and definitions the domain's
(``domain.stats``). The operation is audited like every other by the audit trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from db.queries import RecordCriteria
from db.stats import (
    Group,
    StatQuery,
    grouped_counts,
    region_population,
    with_empty_buckets,
)
from domain.enums import RegionLevel
from domain.stats import KPI_DEFINITIONS, KpiId, StatDimension, TimeBucket, beijing_date
from resolvers.filters import record_criteria
from resolvers.queries import FilterArg
from resolvers.rows import connect
from schema.context import Info
from schema.errors import BadUserInput
from schema.filters import RecordFilter
from schema.stats import KpiDefinitionType, KpiFigure, KpiRow, StatKey, StatRow

MAX_GROUPS = 5_000
"""Groups one request may return (a daily trend of three years by county stays well within)."""

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


def _min_cell(info: Info) -> int:
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


def _last_day(moment: datetime) -> datetime:
    return moment - timedelta(microseconds=1)


async def _groups(info: Info, query: StatQuery, top: int | None) -> list[Group]:
    if top is not None and not 1 <= top <= 100:
        raise BadUserInput("top must be between 1 and 100.")
    async with connect(info.context.sessions) as connection:
        groups = await grouped_counts(connection, query, info.context.security.scope)
    if top is not None:
        groups.sort(key=lambda group: (-group.count, _order(group)))
        return groups[:top]
    if query.bucket is not None:
        criteria = query.criteria
        first = beijing_date(criteria.occurred_from) if criteria.occurred_from else None
        last = beijing_date(_last_day(criteria.occurred_to)) if criteria.occurred_to else None
        groups = with_empty_buckets(groups, query.bucket, first, last)
    if len(groups) > MAX_GROUPS:
        raise BadUserInput(
            f"These figures have {len(groups)} groups, more than {MAX_GROUPS}: group by less, "
            "use a coarser bucket or a shorter period."
        )
    return sorted(groups, key=_order)


def _order(group: Group) -> tuple[str, ...]:
    key = group.key
    return (
        key.period.isoformat() if key.period else "",
        key.region_code or "",
        *(str(value or "") for value in (key.kind, key.source, key.category, key.status)),
        str(key.risk_level or ""),
    )


async def resolve_record_stats(
    info: Info,
    filter: FilterArg = None,
    group_by: GroupByArg = None,
    region_level: LevelArg = RegionLevel.COUNTY,
    bucket: BucketArg = None,
    top: TopArg = None,
) -> list[StatRow]:
    query = _query(filter, group_by, region_level, bucket)
    min_cell = _min_cell(info)
    return [StatRow.of(group, bucket, min_cell) for group in await _groups(info, query, top)]


def _population_codes(criteria: RecordCriteria, info: Info) -> list[str] | None:
    """The regions whose population is the denominator when figures are not by region."""
    if criteria.region_code is not None:
        return [criteria.region_code]
    prefixes = info.context.security.scope.region_prefixes
    if not prefixes or "" in prefixes:
        return None  # no one region: group by REGION or filter by one
    return [prefix.ljust(6, "0") if len(prefix) < 6 else prefix for prefix in prefixes]


async def _populations(info: Info, query: StatQuery, groups: list[Group]) -> list[int | None]:
    """Each group's population (万人起诉率's denominator): its region's when grouped by
    region, else the filter's region or the jurisdiction's; ``None`` where unknown."""
    if KpiId.LITIGATION_PER_10K not in query.kpis:
        return [None] * len(groups)
    by_region = StatDimension.REGION in query.dimensions
    codes = (
        [group.key.region_code for group in groups if group.key.region_code]
        if by_region
        else _population_codes(query.criteria, info) or []
    )
    async with connect(info.context.sessions) as connection:
        known = await region_population(connection, codes)
    if by_region:
        return [known.get(group.key.region_code or "") for group in groups]
    counted = [known.get(code) for code in codes]
    whole = sum(n or 0 for n in counted) if counted and None not in counted else None
    return [whole] * len(groups)


async def resolve_record_kpis(
    info: Info,
    kpis: Annotated[
        list[KpiId] | None,
        strawberry.argument(description="Which KPIs (指标); all of them when omitted."),
    ] = None,
    filter: FilterArg = None,
    group_by: GroupByArg = None,
    region_level: LevelArg = RegionLevel.COUNTY,
    bucket: BucketArg = None,
) -> list[KpiRow]:
    chosen = tuple(dict.fromkeys(kpis or KPI_DEFINITIONS))
    query = _query(filter, group_by, region_level, bucket, chosen)
    groups = await _groups(info, query, None)
    populations = await _populations(info, query, groups)
    min_cell = _min_cell(info)
    rows: list[KpiRow] = []
    for group, population in zip(groups, populations, strict=True):
        figures = []
        for kpi in chosen:
            numerator, denominator = group.kpis.get(kpi, (0, 0))
            if kpi is KpiId.LITIGATION_PER_10K:
                figures.append(KpiFigure.of(kpi, numerator, population, min_cell))
            else:
                figures.append(KpiFigure.of(kpi, numerator, denominator, min_cell))
        rows.append(KpiRow(key=StatKey.of(group.key, bucket), figures=figures))
    return rows


def resolve_kpi_definitions() -> list[KpiDefinitionType]:
    return [KpiDefinitionType.of(definition) for definition in KPI_DEFINITIONS.values()]
