"""The monthly review's figures (月研判报表) as sheets: the same figures as ``recordStats`` and
``recordKpis`` (``db.figures``), written as XLSX (openpyxl) or one CSV per sheet.

Sheets: 指标 (the record and matter KPIs of the region and period, and the handling duration
P50/P90; each matter KPI counts a matter on its own date, see ``domain.matter_stats``),
按区划 (counts and KPIs per region at a level, numerators and denominators beside each
value), 按类别, 按类型, 风险等级, 趋势 (days of a month, months of a quarter or year, empty
ones as zero) and 指标口径 (every definition).

Whose figures: the caller says — the records of a scope, the matters of a matter scope, and
the smallest count shown (``govhub report`` passes everything and 0; ``monthlyReport`` the
caller's own, as the dashboard's queries count them). A count, numerator or denominator the
role may not see (小数抑制, ``domain.stats.suppressed``) is an empty cell, and its row says
小数抑制 in a 备注 column that only a sheet with such a row has.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db.figures import figures
from db.matter_queries import MatterCriteria
from db.matter_stats import MatterGroup, MatterKey, MatterStatQuery, matter_kpis
from db.queries import RecordCriteria, region_prefix
from db.stats import Group, StatQuery
from domain.calendar import SHANGHAI
from domain.enums import LABELS, RegionLevel, RiskLevel
from domain.kinds import KIND_SPECS
from domain.matter_stats import HANDLING_DURATION
from domain.scope import RecordScope
from domain.stats import (
    KPI_DEFINITIONS,
    MATTER_KPIS,
    RECORD_KPIS,
    KpiId,
    StatDimension,
    TimeBucket,
    bucket_label,
    kpi_suppressed,
    next_bucket,
    suppressed,
)
from domain.workflow.visibility import MatterScope

if TYPE_CHECKING:
    from openpyxl import Workbook

Cell = str | int | float | None
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUPPRESSED = "小数抑制"
NOTE = "备注"


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
    def instants(self) -> tuple[datetime, datetime]:
        """Its first instant and the first after it (Beijing midnights); ``OverflowError``
        for a period past what a date holds."""
        return _midnight(self.start), _midnight(self.end)

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


@dataclass(frozen=True, slots=True)
class _Row:
    """A row's cells, and whether one of them is left empty as a small cell."""

    cells: tuple[Cell, ...]
    hidden: bool = False


def _sheet(title: str, header: tuple[str, ...], rows: Iterable[_Row]) -> Sheet:
    """A sheet of ``rows``; with a 备注 column saying 小数抑制 on each row with a hidden
    cell when there is one (a sheet without leaves its columns as they were)."""
    listed = list(rows)
    if not any(row.hidden for row in listed):
        return Sheet(title, header, [row.cells for row in listed])
    return Sheet(
        title,
        (*header, NOTE),
        [(*row.cells, SUPPRESSED if row.hidden else None) for row in listed],
    )


def _count_row(name: Cell, count: int, min_cell: int) -> _Row:
    hidden = suppressed(count, min_cell)
    return _Row((name, None if hidden else count), hidden)


async def _matter_figures(
    connection: AsyncConnection, region: str, period: Period, matters: MatterScope
) -> MatterGroup:
    """The matter KPIs and handling duration of ``region`` over ``period`` within ``matters``,
    each KPI counting a matter on its own date; "now" (what is overdue) is the report's own
    time."""
    since, until = period.instants
    query = MatterStatQuery(
        criteria=MatterCriteria(region_prefix=region_prefix(region)),
        now=datetime.now(UTC),
        since=since,
        until=until,
        kpis=MATTER_KPIS,
        durations=True,
    )
    groups = await matter_kpis(connection, query, matters)
    return groups[0] if groups else MatterGroup(MatterKey())


def _kpi_cells(
    group: Group | MatterGroup, kpis: Sequence[KpiId], min_cell: int
) -> tuple[list[Cell], bool]:
    """Numerator, denominator and value of each KPI; all three empty for a KPI hidden as a
    small cell, as ``recordKpis`` hides it (and whether one was)."""
    cells: list[Cell] = []
    hidden = False
    for kpi in kpis:
        numerator, denominator = group.kpis.get(kpi, (0, 0))
        if kpi_suppressed(kpi, numerator, denominator, min_cell):
            cells += [None, None, None]
            hidden = True
            continue
        scale = KPI_DEFINITIONS[kpi].scale
        value = round(numerator / denominator * scale, 4) if denominator else None
        cells += [numerator, denominator, value]
    return cells, hidden


def _kpi_header(kpis: Sequence[KpiId]) -> tuple[str, ...]:
    return tuple(
        f"{KPI_DEFINITIONS[kpi].name}{part}" for kpi in kpis for part in ("分子", "分母", "")
    )


def _label(value: Any) -> str:
    if value is None:
        return "区划不明"
    return KIND_SPECS[value].label if value in KIND_SPECS else LABELS.get(str(value), str(value))


def _kpi_rows(whole: Group, matters: MatterGroup, min_cell: int) -> list[_Row]:
    """The 指标 sheet: each record and matter KPI, then the handling duration's P50 and P90
    (hidden with the count of closed matters they are taken over)."""
    rows: list[_Row] = []
    for group, chosen in ((whole, RECORD_KPIS), (matters, MATTER_KPIS)):
        for kpi in chosen:
            cells, hidden = _kpi_cells(group, [kpi], min_cell)
            definition = KPI_DEFINITIONS[kpi]
            rows.append(_Row((definition.name, *cells, definition.version), hidden))
    duration = matters.durations
    hidden = suppressed(duration.count, min_cell)
    for share, value in ((50, duration.p50), (90, duration.p90)):
        hours = round(value / 3600, 4) if value is not None and not hidden else None
        rows.append(
            _Row(
                (
                    f"{HANDLING_DURATION.name} P{share} (小时)",
                    None if hidden else duration.count,
                    None,
                    hours,
                    HANDLING_DURATION.version,
                ),
                hidden,
            )
        )
    return rows


def _definition_rows(min_cell: int) -> list[tuple[Cell, ...]]:
    rows: list[tuple[Cell, ...]] = [
        (d.kpi.value, d.name, d.version, d.numerator, d.denominator, d.scale, d.text)
        for d in KPI_DEFINITIONS.values()
    ]
    rows.append(
        (
            "HANDLING_DURATION",
            HANDLING_DURATION.name,
            HANDLING_DURATION.version,
            "结案时间 − 登记时间",
            None,
            None,
            HANDLING_DURATION.text,
        )
    )
    if min_cell > 1:  # a role whose small cells are hidden reads how
        rows.append(
            (
                "SMALL_CELL",
                SUPPRESSED,
                None,
                None,
                None,
                None,
                f"计数、分子或分母为 1 至 {min_cell - 1} 时不向本角色显示：单元格留空，"
                f"该行备注为{SUPPRESSED}；指标的分子或分母被抑制时，该指标三格均留空",
            )
        )
    return rows


async def build_report(
    connection: AsyncConnection,
    region: str,
    period: Period,
    level: RegionLevel,
    *,
    scope: RecordScope,
    matters: MatterScope,
    min_cell: int,
) -> list[Sheet]:
    """Every sheet of the report for ``region`` (and everything beneath it) over ``period``:
    the records within ``scope``, the matters within ``matters``, counts from 1 to
    ``min_cell - 1`` left empty."""
    occurred_from, occurred_to = period.instants
    criteria = RecordCriteria(
        region_code=region, occurred_from=occurred_from, occurred_to=occurred_to
    )
    kpis = RECORD_KPIS

    async def grouped(
        *dimensions: StatDimension, bucket: TimeBucket | None = None, with_kpis: bool = False
    ) -> list[Group]:
        query = StatQuery(criteria, dimensions, level, bucket, kpis if with_kpis else ())
        return await figures(connection, query, scope)

    def region_row(group: Group) -> _Row:
        count = _count_row(group.key.region_code, group.count, min_cell)
        cells, hidden = _kpi_cells(group, kpis, min_cell)
        return _Row((*count.cells, *cells), count.hidden or hidden)

    (whole,) = await grouped(with_kpis=True)
    matter_group = await _matter_figures(connection, region, period, matters)
    sheets = [
        _sheet(
            "指标",
            ("指标", "分子", "分母", "指标值", "口径版本"),
            _kpi_rows(whole, matter_group, min_cell),
        ),
        _sheet(
            "按区划",
            ("区划代码", "记录数", *_kpi_header(kpis)),
            [region_row(group) for group in await grouped(StatDimension.REGION, with_kpis=True)],
        ),
    ]
    for title, dimension, attribute in (
        ("按类别", StatDimension.CATEGORY, "category"),
        ("按类型", StatDimension.KIND, "kind"),
    ):
        sheets.append(
            _sheet(
                title,
                ("项目", "记录数"),
                [
                    _count_row(_label(getattr(group.key, attribute)), group.count, min_cell)
                    for group in await grouped(dimension)
                ],
            )
        )
    # every level, the most severe first, a level without records as 0 (红色 0 is news too)
    by_level = {
        group.key.risk_level: group.count for group in await grouped(StatDimension.RISK_LEVEL)
    }
    sheets.append(
        _sheet(
            "风险等级",
            ("项目", "记录数"),
            [_count_row(_label(level), by_level.get(level, 0), min_cell) for level in RiskLevel],
        )
    )
    trend = period.trend_bucket
    sheets.append(
        _sheet(
            "趋势",
            ("周期", "记录数"),
            [
                _count_row(
                    bucket_label(group.key.period, trend) if group.key.period else None,
                    group.count,
                    min_cell,
                )
                for group in await grouped(bucket=trend)
            ],
        )
    )
    sheets.append(
        Sheet(
            "指标口径",
            ("指标", "名称", "版本", "分子", "分母", "倍数", "口径说明"),
            _definition_rows(min_cell),
        )
    )
    return sheets


def report_filename(region: str, period: Period) -> str:
    """The name a downloaded workbook is saved under: 月研判-411202-2026-11.xlsx."""
    return f"月研判-{region}-{period.label}.xlsx"


def _workbook(sheets: Sequence[Sheet]) -> Workbook:
    from openpyxl import Workbook  # imported here: only the report needs it

    workbook = Workbook()
    workbook.remove(workbook.active)  # a new workbook comes with one empty sheet
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title)
        worksheet.append(list(sheet.header))
        for row in sheet.rows:
            worksheet.append(list(row))
    return workbook


def write_xlsx(sheets: Sequence[Sheet], path: Path) -> None:
    _workbook(sheets).save(path)


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The workbook as the bytes of an XLSX file (for a download)."""
    buffer = BytesIO()
    _workbook(sheets).save(buffer)
    return buffer.getvalue()


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
