"""Resolvers of the matter figures (事项统计解析): ``matterStats``, ``matterKpis`` and the
overdue list ``overdueMatters``.

Thin: the filter is a matter list's (``resolvers.matters.matter_criteria``), the scope the
figure scope (``MatterScope.for_figures``: jurisdiction, or a partner's own organisation —
applied before anything is counted), the counting ``db.matter_stats``, the suppression rule
the record figures' own. Audited like every operation by the audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import strawberry

from db.figures import MAX_GROUPS
from db.matter_stats import (
    MatterGroup,
    MatterStatQuery,
    first_overdue_select,
    key_order,
    matter_counts,
    matter_kpis,
    ranked,
    with_empty_periods,
)
from domain.enums import RegionLevel
from domain.matter_stats import MatterDateBasis, MatterDimension
from domain.stats import MATTER_KPIS, KpiId, TimeBucket, beijing_date
from domain.workflow.visibility import MatterScope
from resolvers.filters import timezone_aware
from resolvers.matters import matter_criteria
from resolvers.rows import connect, fetch_all
from resolvers.stats import (
    KpiTopArg,
    LevelArg,
    TopArg,
    checked_first,
    checked_top,
    min_cell_of,
    rank_by_first_kpi,
)
from schema.context import Info
from schema.errors import BadUserInput
from schema.matter_inputs import MatterFilter
from schema.matter_stats import MatterKpiRow, MatterStatRow, OverdueMatterItem

FilterArg = Annotated[
    MatterFilter | None,
    strawberry.argument(description="Which matters, as for `matters` (事项筛选)."),
]
GroupByArg = Annotated[
    list[MatterDimension] | None,
    strawberry.argument(description="Dimensions to group by (分组维度); none: one total."),
]
SinceArg = Annotated[
    datetime | None,
    strawberry.argument(
        description=(
            "Period start, inclusive (统计期起): a time with its offset or a plain date (a "
            "Beijing day). Bounds the date the figures count a matter on."
        )
    ),
]
UntilArg = Annotated[
    datetime | None,
    strawberry.argument(description="Period end, exclusive (统计期止)."),
]
MatterBucketArg = Annotated[
    TimeBucket | None,
    strawberry.argument(
        description=(
            "Group by this Beijing calendar period too (时间粒度), of the date a matter is "
            "counted on (`dateBy`; for a KPI, its own date). Every period from `since` to "
            "`until` (else the first to the last counted) is returned, empty ones as zero."
        )
    ),
]


def _now(info: Info) -> datetime:
    workflow = info.context.workflow
    return workflow.now() if workflow else datetime.now(UTC)


def _query(
    info: Info,
    matter_filter: MatterFilter | None,
    group_by: list[MatterDimension] | None,
    region_level: RegionLevel,
    bucket: TimeBucket | None,
    since: datetime | None,
    until: datetime | None,
    *,
    basis: MatterDateBasis = MatterDateBasis.OPENED,
    kpis: tuple[KpiId, ...] = (),
) -> MatterStatQuery:
    since = timezone_aware(since, "since")
    until = timezone_aware(until, "until")
    if since and until and since > until:
        raise BadUserInput("since is after until.")
    return MatterStatQuery(
        criteria=matter_criteria(matter_filter, info),
        now=_now(info),
        dimensions=tuple(dict.fromkeys(group_by or ())),
        region_level=region_level,
        bucket=bucket,
        since=since,
        until=until,
        basis=basis,
        kpis=kpis,
        durations=bool(kpis),
    )


def _settled(groups: list[MatterGroup], query: MatterStatQuery) -> list[MatterGroup]:
    """In key order; with a bucket, every period from ``since`` to ``until`` (else the first
    to the last counted), empty ones as zero. BAD_USER_INPUT past :data:`MAX_GROUPS`."""
    if query.bucket is not None:
        first = beijing_date(query.since) if query.since else None
        last = beijing_date(query.until - timedelta(microseconds=1)) if query.until else None
        groups = with_empty_periods(groups, query.bucket, first, last)
    if len(groups) > MAX_GROUPS:
        raise BadUserInput(
            f"These figures have {len(groups)} groups, more than {MAX_GROUPS}: group by less, "
            "use a coarser bucket or a shorter period."
        )
    return sorted(groups, key=key_order)


async def resolve_matter_stats(
    info: Info,
    filter: FilterArg = None,
    group_by: GroupByArg = None,
    region_level: LevelArg = RegionLevel.COUNTY,
    bucket: MatterBucketArg = None,
    since: SinceArg = None,
    until: UntilArg = None,
    date_by: Annotated[
        MatterDateBasis,
        strawberry.argument(description="Which date counts and buckets go by (统计时间口径)."),
    ] = MatterDateBasis.OPENED,
    top: TopArg = None,
) -> list[MatterStatRow]:
    query = _query(info, filter, group_by, region_level, bucket, since, until, basis=date_by)
    top = checked_top(top)
    scope = MatterScope.for_figures(info.context.security.principal)
    async with connect(info.context.sessions) as connection:
        groups = await matter_counts(connection, query, scope)
    settled = ranked(groups, top) if top is not None else _settled(groups, query)
    min_cell = min_cell_of(info)
    return [MatterStatRow.of(group, bucket, min_cell) for group in settled]


async def resolve_matter_kpis(
    info: Info,
    kpis: Annotated[
        list[KpiId] | None,
        strawberry.argument(description="Which KPIs over matters (指标); all when omitted."),
    ] = None,
    filter: FilterArg = None,
    group_by: GroupByArg = None,
    region_level: LevelArg = RegionLevel.COUNTY,
    bucket: MatterBucketArg = None,
    since: SinceArg = None,
    until: UntilArg = None,
    top: KpiTopArg = None,
) -> list[MatterKpiRow]:
    chosen = tuple(dict.fromkeys(kpis or MATTER_KPIS))
    if not_matters := [kpi.value for kpi in chosen if kpi not in MATTER_KPIS]:
        raise BadUserInput(f"{', '.join(not_matters)}: KPIs over records, ask recordKpis.")
    query = _query(info, filter, group_by, region_level, bucket, since, until, kpis=chosen)
    checked_top(top)
    scope = MatterScope.for_figures(info.context.security.principal)
    async with connect(info.context.sessions) as connection:
        groups = _settled(await matter_kpis(connection, query, scope), query)
    min_cell = min_cell_of(info)
    rows = [MatterKpiRow.of(group, chosen, bucket, min_cell) for group in groups]
    return rank_by_first_kpi(rows, top) if top is not None else rows


async def resolve_overdue_matters(
    info: Info,
    filter: FilterArg = None,
    first: Annotated[
        int | None, strawberry.argument(description="How many, longest overdue first (条数).")
    ] = None,
) -> list[OverdueMatterItem]:
    limit = checked_first(info, first)
    scope = MatterScope.for_figures(info.context.security.principal)
    statement = first_overdue_select(matter_criteria(filter, info), scope, _now(info), limit)
    rows = await fetch_all(info.context.sessions, statement)
    return [OverdueMatterItem.from_row(row) for row in rows]
