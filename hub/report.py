"""The monthly review's figures (月研判报表) as sheets: the same figures as ``recordStats`` and
``recordKpis`` (``db.figures``), written as XLSX (openpyxl) or one CSV per sheet.

Sheets: 指标 (the record and matter KPIs of the region and period, and the handling duration
P50/P90; each matter KPI counts a matter on its own date, see ``domain.matter_stats``),
按区划 (counts and KPIs per region at a level, numerators and denominators beside each
value), 按类别, 按类型, 风险等级, 趋势 (days of a month, months of a quarter or year, empty
ones as zero) and 指标口径 (every definition).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.figures import figures
from db.matter_queries import MatterCriteria
from db.matter_stats import MatterGroup, MatterKey, MatterStatQuery, matter_kpis
from db.queries import RecordCriteria, region_prefix
from db.stats import Group, StatQuery
from domain.calendar import SHANGHAI
from domain.enums import LABELS, RegionLevel, RiskLevel
from domain.kinds import KIND_SPECS
from domain.matter_stats import HANDLING_DURATION
from domain.scope import EVERYTHING
from domain.stats import (
    KPI_DEFINITIONS,
    MATTER_KPIS,
    RECORD_KPIS,
    KpiId,
    StatDimension,
    TimeBucket,
    bucket_label,
    next_bucket,
)
from domain.workflow.visibility import ALL_MATTERS

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Period:
    """A Beijing calendar period named ``2026``, ``2026-Q1`` or ``2026-03`` (报告期)."""

    start: date
    bucket: TimeBucket

    @classmethod
    def parse(cls, text: str) -> Period:
        if re.fullmatch(r"\d{4}", text):
            return cls(date(int(text), 1, 1), TimeBucket.YEAR)
        if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            return cls(date(int(match[1]), 3 * int(match[2]) - 2, 1), TimeBucket.QUARTER)
        if match := re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text):
            return cls(date(int(match[1]), int(match[2]), 1), TimeBucket.MONTH)
        raise ValueError(f"not a period (YYYY, YYYY-Qn or YYYY-MM): {text!r}")

    @property
    def end(self) -> date:
        return next_bucket(self.start, self.bucket)

    @property
    def label(self) -> str:
        return bucket_label(self.start, self.bucket)

    @property
    def trend_bucket(self) -> TimeBucket:
        """Days for a month, months for a quarter or a year."""
        return TimeBucket.DAY if self.bucket is TimeBucket.MONTH else TimeBucket.MONTH


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


async def _matter_figures(engine: AsyncEngine, region: str, period: Period) -> MatterGroup:
    """The matter KPIs and handling duration of ``region`` over ``period``, each KPI counting a
    matter on its own date; "now" (what is overdue) is the report's own time."""
    query = MatterStatQuery(
        criteria=MatterCriteria(region_prefix=region_prefix(region)),
        now=datetime.now(UTC),
        since=_midnight(period.start),
        until=_midnight(period.end),
        kpis=MATTER_KPIS,
        durations=True,
    )
    async with engine.connect() as connection:
        groups = await matter_kpis(connection, query, ALL_MATTERS)
    return groups[0] if groups else MatterGroup(MatterKey())


def _kpi_cells(group: Group | MatterGroup, kpis: Sequence[KpiId]) -> list[Cell]:
    cells: list[Cell] = []
    for kpi in kpis:
        numerator, denominator = group.kpis.get(kpi, (0, 0))
        scale = KPI_DEFINITIONS[kpi].scale
        value = round(numerator / denominator * scale, 4) if denominator else None
        cells += [numerator, denominator, value]
    return cells


def _kpi_header(kpis: Sequence[KpiId]) -> tuple[str, ...]:
    return tuple(
        f"{KPI_DEFINITIONS[kpi].name}{part}" for kpi in kpis for part in ("分子", "分母", "")
    )


def _label(value: Any) -> str:
    if value is None:
        return "区划不明"
    return KIND_SPECS[value].label if value in KIND_SPECS else LABELS.get(str(value), str(value))


async def build_report(
    engine: AsyncEngine, region: str, period: Period, level: RegionLevel
) -> list[Sheet]:
    """Every sheet of the report for ``region`` (and everything beneath it) over ``period``."""
    criteria = RecordCriteria(
        region_code=region,
        occurred_from=_midnight(period.start),
        occurred_to=_midnight(period.end),
    )
    kpis = RECORD_KPIS

    async def grouped(
        *dimensions: StatDimension, bucket: TimeBucket | None = None, with_kpis: bool = False
    ) -> list[Group]:
        query = StatQuery(criteria, dimensions, level, bucket, kpis if with_kpis else ())
        async with engine.connect() as connection:
            return await figures(connection, query, EVERYTHING)

    (whole,) = await grouped(with_kpis=True)
    matters = await _matter_figures(engine, region, period)
    duration = matters.durations
    sheets = [
        Sheet(
            "指标",
            ("指标", "分子", "分母", "指标值", "口径版本"),
            [
                (KPI_DEFINITIONS[kpi].name, *_kpi_cells(group, [kpi]), KPI_DEFINITIONS[kpi].version)
                for group, chosen in ((whole, kpis), (matters, MATTER_KPIS))
                for kpi in chosen
            ]
            + [
                (
                    f"{HANDLING_DURATION.name} P{share} (小时)",
                    duration.count,
                    None,
                    round(value / 3600, 4) if value is not None else None,
                    HANDLING_DURATION.version,
                )
                for share, value in ((50, duration.p50), (90, duration.p90))
            ],
        ),
        Sheet(
            "按区划",
            ("区划代码", "记录数", *_kpi_header(kpis)),
            [
                (group.key.region_code, group.count, *_kpi_cells(group, kpis))
                for group in await grouped(StatDimension.REGION, with_kpis=True)
            ],
        ),
    ]
    for title, dimension, attribute in (
        ("按类别", StatDimension.CATEGORY, "category"),
        ("按类型", StatDimension.KIND, "kind"),
    ):
        sheets.append(
            Sheet(
                title,
                ("项目", "记录数"),
                [
                    (_label(getattr(group.key, attribute)), group.count)
                    for group in await grouped(dimension)
                ],
            )
        )
    # every level, the most severe first, a level without records as 0 (红色 0 is news too)
    by_level = {
        group.key.risk_level: group.count for group in await grouped(StatDimension.RISK_LEVEL)
    }
    sheets.append(
        Sheet(
            "风险等级",
            ("项目", "记录数"),
            [(_label(level), by_level.get(level, 0)) for level in RiskLevel],
        )
    )
    trend = period.trend_bucket
    sheets.append(
        Sheet(
            "趋势",
            ("周期", "记录数"),
            [
                (bucket_label(group.key.period, trend) if group.key.period else None, group.count)
                for group in await grouped(bucket=trend)
            ],
        )
    )
    sheets.append(
        Sheet(
            "指标口径",
            ("指标", "名称", "版本", "分子", "分母", "倍数", "口径说明"),
            [
                (d.kpi.value, d.name, d.version, d.numerator, d.denominator, d.scale, d.text)
                for d in KPI_DEFINITIONS.values()
            ]
            + [
                (
                    "HANDLING_DURATION",
                    HANDLING_DURATION.name,
                    HANDLING_DURATION.version,
                    "结案时间 − 登记时间",
                    None,
                    None,
                    HANDLING_DURATION.text,
                ),
            ],
        )
    )
    return sheets


def write_xlsx(sheets: Sequence[Sheet], path: Path) -> None:
    from openpyxl import Workbook  # imported here: only the report command needs it

    workbook = Workbook()
    workbook.remove(workbook.active)  # a new workbook comes with one empty sheet
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title)
        worksheet.append(list(sheet.header))
        for row in sheet.rows:
            worksheet.append(list(row))
    workbook.save(path)


def write_csv(sheets: Sequence[Sheet], directory: Path, stem: str) -> list[Path]:
    """One UTF-8 (with BOM, so spreadsheet programs read the Chinese) CSV per sheet."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in sheets:
        path = directory / f"{stem}-{sheet.title}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(sheet.header)
            writer.writerows(sheet.rows)
        written.append(path)
    return written
