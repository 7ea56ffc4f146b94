"""Figures over matters (事项统计口径): dimensions, the date each KPI counts a matter on, the
clocks behind 按期办结 and 及时受理, the level a matter was resolved at, and percentiles —
rules with no SQL and no GraphQL. Definitions live with the record KPIs in one registry
(:data:`domain.stats.KPI_DEFINITIONS`, subject ``MATTERS``).

- **按期办结率** counts a matter once: on the day it was closed (结案), or — while it is still
  open with a handling clock (办理时限) that ran out, still running or stopped late (a result
  reported after the limit, not yet verified and closed) — on the day that clock fell due. A matter
  closed with every handling clock met is on time; an open overdue one counts against the
  rate (wave2-domain §3: "items still open and overdue count as failures").
- **及时受理率** counts a matter on the day it was registered (登记), once one of its acceptance
  clocks (受理时限) has stopped or run out: on time when none ran past its due instant.
- **回访率**, **回访满意率**, the **resolution-level shares** and the **handling duration** count
  a matter on the day it was closed; one reopened after an unsatisfied 回访 counts again only
  when closed again (its closure is cleared by 重新办理).
- A stopped clock was late when it stopped after its due instant; a running one is overdue
  when its due instant has come (the ``overdue`` matter filter's rule). Withdrawn matters
  (撤回/不予受理) count in no KPI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.enums import RegionLevel
from domain.stats import KpiId
from domain.workflow.vocabulary import DispatchTrack, MatterOrigin


class MatterDimension(StrEnum):
    """What matter figures can be grouped by (事项分组维度)."""

    STEP = "STEP"  # 环节
    STATUS = "STATUS"  # 案件状态
    CATEGORY = "CATEGORY"  # 纠纷类别
    RISK_LEVEL = "RISK_LEVEL"  # 风险等级
    ORIGIN = "ORIGIN"  # 来源
    TRACK = "TRACK"  # 处置途径 (承办单位类型)
    REGION = "REGION"  # 区划 (at the requested level)


class MatterDateBasis(StrEnum):
    """Which instant of a matter ``matterStats`` buckets and bounds by (统计时间口径)."""

    OPENED = "OPENED"  # 登记时间
    CLOSED = "CLOSED"  # 结案时间 (matters not closed are left out)


class KpiAnchor(StrEnum):
    """The instant a matter KPI counts a matter on (指标计入时间)."""

    OPENED = "OPENED"  # 登记时间: for a matter taken from a source, the source's receipt
    CLOSED = "CLOSED"  # 结案时间
    CLOSED_OR_DUE = "CLOSED_OR_DUE"  # 结案时间, else the due of the first late handling clock


KPI_ANCHOR: dict[KpiId, KpiAnchor] = {
    KpiId.ON_TIME_CLOSURE_RATE: KpiAnchor.CLOSED_OR_DUE,
    KpiId.TIMELY_ACCEPTANCE_RATE: KpiAnchor.OPENED,
    KpiId.REVISIT_RATE: KpiAnchor.CLOSED,
    KpiId.REVISIT_SATISFACTION_RATE: KpiAnchor.CLOSED,
    KpiId.RESOLVED_IN_VILLAGE_SHARE: KpiAnchor.CLOSED,
    KpiId.RESOLVED_IN_TOWNSHIP_SHARE: KpiAnchor.CLOSED,
    KpiId.RESOLVED_IN_COUNTY_SHARE: KpiAnchor.CLOSED,
}
"""Every matter KPI's date (``tests/unit/test_matter_stats.py`` checks none is missing)."""

HANDLING_RULES: frozenset[str] = frozenset({
    "petition.handle", "mediation.people", "mediation.court_delegated", "court.filing",
    "matter.tier.simple", "matter.tier.ordinary", "matter.tier.complex", "matter.rework",
    "petition.source_handle", "mediation.source_people",
})  # fmt: skip
"""Deadline rules (``domain/deadlines/default_rules.toml``) that time the handling (办理时限):
按期办结率 looks at these clocks. A centre adding its own handling rule adds its id here and
bumps the definition's version."""

ACCEPTANCE_RULES: frozenset[str] = frozenset({
    "petition.register", "petition.notify", "dispatch.accept", "mediation.court_accept",
})  # fmt: skip
"""Deadline rules that time the acceptance (受理时限: 登记转送、书面告知、签收、接受委派):
及时受理率 looks at these clocks."""

RESOLUTION_SHARE: dict[KpiId, RegionLevel] = {
    KpiId.RESOLVED_IN_VILLAGE_SHARE: RegionLevel.VILLAGE,
    KpiId.RESOLVED_IN_TOWNSHIP_SHARE: RegionLevel.TOWNSHIP,
    KpiId.RESOLVED_IN_COUNTY_SHARE: RegionLevel.COUNTY,
}
"""The level each resolution-share KPI counts (化解层级)."""

RESOLUTION_LEVEL_OF_TRACK: dict[DispatchTrack, RegionLevel | None] = {
    DispatchTrack.GRID: RegionLevel.VILLAGE,  # 村 (社区) 网格
    DispatchTrack.JUDICIAL_OFFICE: RegionLevel.TOWNSHIP,  # 司法所
    DispatchTrack.POLICE: RegionLevel.TOWNSHIP,  # 派出所
    DispatchTrack.PEOPLES_MEDIATION: None,  # 调委会: where the matter lies (村调委会, 乡镇调委会)
    DispatchTrack.PETITION: RegionLevel.COUNTY,  # 有权处理机关
    DispatchTrack.PRE_FILING_MEDIATION: RegionLevel.COUNTY,  # 基层法院委派
    DispatchTrack.COURT_FILING: RegionLevel.COUNTY,  # 基层法院
    DispatchTrack.DEPARTMENT: RegionLevel.COUNTY,  # 县级职能部门
}
"""The level of the organisation a track resolves a matter at (化解层级); ``None``: the level
of the matter's own region, no finer than a village and no coarser than a county."""

SOURCE_TRACK: dict[MatterOrigin, DispatchTrack] = {
    MatterOrigin.DISPUTE: DispatchTrack.PEOPLES_MEDIATION,  # 调委会
    MatterOrigin.GRID_EVENT: DispatchTrack.GRID,  # 网格
    MatterOrigin.POLICE_ALERT: DispatchTrack.POLICE,  # 派出所
    MatterOrigin.PETITION: DispatchTrack.PETITION,  # 信访部门
    MatterOrigin.COURT_FILING: DispatchTrack.COURT_FILING,  # 法院
}
"""Whose work a matter closed without dispatch is: the centre verifies and closes such a
matter only on its ORIGIN record's conclusion in that record's own system (来源系统已办结,
核查来源办结结果), so it was resolved where that system resolves — a village 调委会's
mediation in the village, not at the county. A walk-in or phone matter has no such system."""

_LEVEL_BY_CODE_LENGTH = ((12, RegionLevel.VILLAGE), (9, RegionLevel.TOWNSHIP))


def region_level_of(code: str | None) -> RegionLevel:
    """The level a code names, for resolution: village, township, else county."""
    for length, level in _LEVEL_BY_CODE_LENGTH:
        if code is not None and len(code) >= length:
            return level
    return RegionLevel.COUNTY


def resolution_level(
    track: DispatchTrack | None, region_code: str | None, origin: MatterOrigin | None = None
) -> RegionLevel:
    """The level a resolved matter was resolved at (化解层级); an undispatched one at that of
    the system its origin record was concluded in (:data:`SOURCE_TRACK`), else (settled at the
    centre) at the county."""
    if track is None and origin is not None:
        track = SOURCE_TRACK.get(origin)
    if track is None:
        return RegionLevel.COUNTY
    level = RESOLUTION_LEVEL_OF_TRACK[track]
    return level if level is not None else region_level_of(region_code)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` percentile by linear interpolation between the closest ranks (as
    PostgreSQL's ``percentile_cont``); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class DurationDefinition:
    """How the handling duration is measured (办理时长口径)."""

    name: str = "办理时长"
    version: str = "2026.2"
    text: str = (
        "办理时长 = 结案时间 − 登记时间 (小时, 含挂起与节假日); 登记时间为来源系统收件之日"
        " (积案存量的办理时长含其在来源系统的全部时间); 按结案时间计入期间; "
        "P50/P90 为线性插值分位数"
    )


HANDLING_DURATION = DurationDefinition()
