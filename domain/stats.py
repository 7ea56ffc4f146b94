"""Grouped figures for dashboards (统计口径): dimensions, Beijing time buckets, region roll-up,
KPI definitions and small-cell suppression — rules with no SQL and no GraphQL.

- A time bucket is a Beijing calendar period (a day starts at 00:00 Asia/Shanghai, not 08:00);
  a bucket is named by its first day. Weeks start on Monday (ISO), quarters in Jan/Apr/Jul/Oct.
- A region key rolls a record's code up to a level by its prefix: county 6 digits, township 9,
  village 12, grid 15; a city keeps 4 digits and a province 2, padded with zeros (GB/T 2260).
  A record placed only coarser than the level keeps its own (coarser) code.
- Every KPI is a numerator and a denominator with a versioned definition; regions and periods
  add up as sum of numerators over sum of denominators, never as an average of ratios.
- A count from 1 to ``min_cell - 1`` is suppressed for a role that may not read parties, so a
  small village's figure cannot point at a person; zero identifies nobody and is shown.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from domain.calendar import SHANGHAI
from domain.enums import RecordKind, RegionLevel

DEFAULT_MIN_CELL = 5


def beijing_date(moment: datetime) -> date:
    """The Beijing calendar day an instant falls on (北京时间日期)."""
    return moment.astimezone(SHANGHAI).date()


class TimeBucket(StrEnum):
    """A calendar period in Beijing time (时间粒度)."""

    DAY = "DAY"  # 日
    WEEK = "WEEK"  # 周 (Monday first)
    MONTH = "MONTH"  # 月
    QUARTER = "QUARTER"  # 季度
    YEAR = "YEAR"  # 年


class StatDimension(StrEnum):
    """What figures can be grouped by (分组维度); time buckets and region levels aside."""

    KIND = "KIND"  # 记录类型
    SOURCE = "SOURCE"  # 来源系统
    CATEGORY = "CATEGORY"  # 纠纷类别
    STATUS = "STATUS"  # 案件状态
    RISK_LEVEL = "RISK_LEVEL"  # 风险等级
    REGION = "REGION"  # 区划 (at the requested level)


def bucket_start(day: date, bucket: TimeBucket) -> date:
    """The first day of the bucket holding ``day`` (a Beijing calendar date)."""
    match bucket:
        case TimeBucket.DAY:
            return day
        case TimeBucket.WEEK:
            return day - timedelta(days=day.weekday())
        case TimeBucket.MONTH:
            return day.replace(day=1)
        case TimeBucket.QUARTER:
            return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        case TimeBucket.YEAR:
            return date(day.year, 1, 1)


def next_bucket(start: date, bucket: TimeBucket) -> date:
    """The first day of the bucket after the one starting on ``start``."""
    match bucket:
        case TimeBucket.DAY:
            return start + timedelta(days=1)
        case TimeBucket.WEEK:
            return start + timedelta(days=7)
        case TimeBucket.YEAR:
            return date(start.year + 1, 1, 1)
    months = 1 if bucket is TimeBucket.MONTH else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def buckets_between(first: date, last: date, bucket: TimeBucket) -> Iterator[date]:
    """Every bucket start from the bucket of ``first`` to that of ``last``, both included."""
    start, end = bucket_start(first, bucket), bucket_start(last, bucket)
    while start <= end:
        yield start
        start = next_bucket(start, bucket)


class PeriodKey(Protocol):
    """A group key with a ``period`` (a bucket's first day, or ``None``): a frozen dataclass."""

    @property
    def period(self) -> date | None: ...


K = TypeVar("K", bound=PeriodKey)


def missing_periods(
    keys: Collection[K], bucket: TimeBucket, first: date | None, last: date | None, empty: K
) -> list[K]:
    """The keys a chart lacks to have no holes: for every bucket from ``first`` to ``last``
    (defaults: the first and last present), each series (the keys sharing all but the period)
    that has no key in it; with no key at all, the series of ``empty`` (no other value)."""
    periods = [key.period for key in keys if key.period is not None]
    low = first or (min(periods) if periods else None)
    high = last or (max(periods) if periods else None)
    if low is None or high is None:
        return []
    series = {replace(key, period=None) for key in keys} or {empty}  # type: ignore[type-var]
    missing = []
    for start in buckets_between(low, high, bucket):
        for base in series:
            key = replace(base, period=start)  # type: ignore[type-var]
            if key not in keys:
                missing.append(key)
    return missing


def bucket_label(start: date, bucket: TimeBucket) -> str:
    """How a screen names a bucket: ``2026-03-15``, ``2026-W11``, ``2026-03``, ``2026-Q1``."""
    match bucket:
        case TimeBucket.DAY:
            return start.isoformat()
        case TimeBucket.WEEK:
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        case TimeBucket.MONTH:
            return f"{start:%Y-%m}"
        case TimeBucket.QUARTER:
            return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        case TimeBucket.YEAR:
            return str(start.year)


REGION_PREFIX_LENGTH: dict[RegionLevel, int] = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
    RegionLevel.GRID: 15,
}
"""How many leading characters of a code name its region at each level."""


def region_padding(level: RegionLevel) -> str:
    """What pads a rolled-up prefix to a division code (``41`` → ``410000``)."""
    return "0" * max(0, 6 - REGION_PREFIX_LENGTH[level])


def region_key(code: str | None, level: RegionLevel) -> str | None:
    """The code of the region at ``level`` containing ``code`` (``None`` stays unplaced)."""
    if code is None:
        return None
    length = REGION_PREFIX_LENGTH[level]
    if len(code) <= length:
        return code
    return code[:length] + region_padding(level)


def suppressed(count: int, min_cell: int) -> bool:
    """Whether a count is too small to show (小数抑制): 1 to ``min_cell - 1``."""
    return 0 < count < min_cell


class KpiClass(StrEnum):
    """What a record counts as in a KPI beyond its kind, from its kind's own fields (指标类别);
    kept on the record so figures need not join the kind tables."""

    PRE_SUIT_MEDIATION = "PRE_SUIT_MEDIATION"  # 诉前调解案件
    FIRST_INSTANCE = "FIRST_INSTANCE"  # 一审民事、行政案件 (民初, 行初)
    NON_POLICE_ALERT = "NON_POLICE_ALERT"  # 非警务警情 (纠纷 03, 群众求助 04)


PRE_SUIT_CASE_TYPES = frozenset({"诉前调解"})
FIRST_INSTANCE_CASE_TYPES = frozenset({"民初", "行初"})
NON_POLICE_ALERT_PREFIXES = frozenset({"03", "04"})
"""警情类别 top-level codes of 非警务警情: 纠纷 (03) and 群众求助 (04)."""


def kpi_class(kind: RecordKind, fields: Mapping[str, Any]) -> KpiClass | None:
    """A record's KPI class from its kind's own fields (``None``: only its kind counts)."""
    if kind is RecordKind.COURT_FILING:
        case_type = fields.get("case_type")
        if case_type in PRE_SUIT_CASE_TYPES:
            return KpiClass.PRE_SUIT_MEDIATION
        if case_type in FIRST_INSTANCE_CASE_TYPES:
            return KpiClass.FIRST_INSTANCE
    if kind is RecordKind.POLICE_ALERT:
        codes = [fields.get(f"category_code_l{level}") for level in (1, 2, 3)]
        code = next((c for c in codes if c), None)
        if code is not None and code[:2] in NON_POLICE_ALERT_PREFIXES:
            return KpiClass.NON_POLICE_ALERT
    return None


class KpiId(StrEnum):
    """The KPIs (考核指标): the first five over records, the rest over matters (the closed
    loop, ``domain.matter_stats``); one registry, :data:`KPI_DEFINITIONS`."""

    MEDIATION_SUCCESS_RATE = "MEDIATION_SUCCESS_RATE"  # 调解成功率
    PRE_SUIT_MEDIATION_SUCCESS_RATE = "PRE_SUIT_MEDIATION_SUCCESS_RATE"  # 诉前调解成功率
    LITIGATION_PER_10K = "LITIGATION_PER_10K"  # 万人起诉率
    REPEAT_PETITION_RATE = "REPEAT_PETITION_RATE"  # 重复信访率
    POLICE_DIVERSION_RATE = "POLICE_DIVERSION_RATE"  # 非警务警情分流率
    ON_TIME_CLOSURE_RATE = "ON_TIME_CLOSURE_RATE"  # 按期办结率
    TIMELY_ACCEPTANCE_RATE = "TIMELY_ACCEPTANCE_RATE"  # 及时受理率
    REVISIT_RATE = "REVISIT_RATE"  # 回访率
    REVISIT_SATISFACTION_RATE = "REVISIT_SATISFACTION_RATE"  # 回访满意率
    RESOLVED_IN_VILLAGE_SHARE = "RESOLVED_IN_VILLAGE_SHARE"  # 化解在村占比 (小事不出村)
    RESOLVED_IN_TOWNSHIP_SHARE = "RESOLVED_IN_TOWNSHIP_SHARE"  # 化解在镇占比
    RESOLVED_IN_COUNTY_SHARE = "RESOLVED_IN_COUNTY_SHARE"  # 化解在县占比


class KpiSubject(StrEnum):
    """What a KPI counts (统计对象): source records or the centre's matters."""

    RECORDS = "RECORDS"  # 记录
    MATTERS = "MATTERS"  # 事项


@dataclass(frozen=True, slots=True)
class KpiDefinition:
    """One KPI's published definition (指标口径); ``scale`` multiplies the ratio (10,000 for
    a per-10,000 figure)."""

    kpi: KpiId
    name: str
    version: str
    numerator: str
    denominator: str
    scale: int = 1
    subject: KpiSubject = KpiSubject.RECORDS

    @property
    def text(self) -> str:
        per = f" × {self.scale:,}" if self.scale != 1 else ""
        return f"{self.name} = {self.numerator} ÷ {self.denominator}{per}"


KPI_DEFINITIONS: dict[KpiId, KpiDefinition] = {
    definition.kpi: definition
    for definition in (
        KpiDefinition(
            KpiId.MEDIATION_SUCCESS_RATE,
            "调解成功率",
            "2026.1",
            "调解成功的人民调解案件 (状态 RESOLVED)",
            "调处终结的人民调解案件 (RESOLVED, FAILED, CLOSED 终止调解)",
        ),
        KpiDefinition(
            KpiId.PRE_SUIT_MEDIATION_SUCCESS_RATE,
            "诉前调解成功率",
            "2026.1",
            "诉前调解成功件数 (案件类型 诉前调解, 状态 RESOLVED)",
            "诉前调解终结件数 (RESOLVED, FAILED, CLOSED; 撤回申请不计)",
        ),
        KpiDefinition(
            KpiId.LITIGATION_PER_10K,
            "万人起诉率",
            "2026.1",
            "受理的一审民事、行政案件数 (案件类型 民初, 行初; 按立案时间)",
            "区划人口 (常住人口, 区划表)",
            scale=10_000,
        ),
        KpiDefinition(
            KpiId.REPEAT_PETITION_RATE,
            "重复信访率",
            "2026.2",
            "重复信访件 (信访系统登记的重复信访次数 ≥ 1, 或与此前未撤销的信访件关联为"
            "同一事项或同一当事人且未被驳回)",
            "信访件总数",
        ),
        KpiDefinition(
            KpiId.POLICE_DIVERSION_RATE,
            "非警务警情分流率",
            "2026.1",
            "转人民调解的非警务警情 (有调解案件以此警情为来源)",
            "非警务警情 (纠纷类 03、群众求助类 04)",
        ),
        KpiDefinition(
            KpiId.ON_TIME_CLOSURE_RATE,
            "按期办结率",
            "2026.4",
            "期内结案且办理时限均未超期的事项 (办理时限: 信访事项办理、人民调解、委派调解、"
            "法院立案审查、分级闭环、核查退回重办, 及来源系统已受理的信访事项办理、人民调解"
            " (自来源系统受理之日起算, 来源系统办结之日停止); 以结案时间计)",
            "期内结案的事项 + 未结且办理时限已逾期或已超期完成的事项 (以最早逾期时限的到期时间计; "
            "计为未按期)",
            subject=KpiSubject.MATTERS,
        ),
        KpiDefinition(
            KpiId.TIMELY_ACCEPTANCE_RATE,
            "及时受理率",
            "2026.2",
            "受理时限均未超期的事项 (受理时限: 信访事项登记转送 (自来源系统收件之日起算, "
            "来源系统受理或办结之日停止)、书面告知、承办单位签收、调解员接受委派; "
            "以登记时间计, 即来源系统收件之日)",
            "受理时限已届满或已停止的事项 (已签收/已告知, 或已逾期未受理)",
            subject=KpiSubject.MATTERS,
        ),
        KpiDefinition(
            KpiId.REVISIT_RATE,
            "回访率",
            "2026.1",
            "回访成功 (已回访并评价) 的事项",
            "期内结案的事项 (以结案时间计; 重新办理的事项以再次结案计)",
            subject=KpiSubject.MATTERS,
        ),
        KpiDefinition(
            KpiId.REVISIT_SATISFACTION_RATE,
            "回访满意率",
            "2026.1",
            "回访评价为满意或基本满意的事项",
            "回访成功 (已回访并评价) 的期内结案事项",
            subject=KpiSubject.MATTERS,
        ),
        KpiDefinition(
            KpiId.RESOLVED_IN_VILLAGE_SHARE,
            "化解在村占比",
            "2026.2",
            "在村 (社区) 一级化解的事项 (属地网格处置; 人民调解且事项区划到村; 未分流、"
            "由来源系统办结的按来源系统: 网格事件, 人民调解案件且事项区划到村)",
            "期内结案且化解成功的事项",
            subject=KpiSubject.MATTERS,
        ),
        KpiDefinition(
            KpiId.RESOLVED_IN_TOWNSHIP_SHARE,
            "化解在镇占比",
            "2026.2",
            "在乡镇 (街道) 一级化解的事项 (司法所、派出所处置; 人民调解且事项区划到乡镇; "
            "未分流、由来源系统办结的按来源系统: 110 警情, 人民调解案件且事项区划到乡镇)",
            "期内结案且化解成功的事项",
            subject=KpiSubject.MATTERS,
        ),
        KpiDefinition(
            KpiId.RESOLVED_IN_COUNTY_SHARE,
            "化解在县占比",
            "2026.2",
            "在县 (区) 一级化解的事项 (信访事项办理、诉讼与诉前调解、职能部门; 人民调解且"
            "事项区划在县或以上; 未分流、由来源系统办结的按来源系统: 信访件、法院案件, 人民调解"
            "案件且事项区划在县或以上)",
            "期内结案且化解成功的事项",
            subject=KpiSubject.MATTERS,
        ),
    )
}

RECORD_KPIS: tuple[KpiId, ...] = tuple(
    kpi for kpi, d in KPI_DEFINITIONS.items() if d.subject is KpiSubject.RECORDS
)
"""KPIs over records (``recordKpis``)."""
MATTER_KPIS: tuple[KpiId, ...] = tuple(
    kpi for kpi, d in KPI_DEFINITIONS.items() if d.subject is KpiSubject.MATTERS
)
"""KPIs over matters (``matterKpis``)."""


def kpi_suppressed(kpi: KpiId, numerator: int, denominator: int | None, min_cell: int) -> bool:
    """Whether a KPI's figure is hidden whole from a role (小数抑制): a side that counts records
    or matters from 1 to ``min_cell - 1`` (万人起诉率's denominator is a population, not
    counted people, and hides nothing)."""
    counted = [numerator] if kpi is KpiId.LITIGATION_PER_10K else [numerator, denominator]
    return any(n is not None and suppressed(n, min_cell) for n in counted)
