"""Resolver of the monthly review (月研判报表): ``monthlyReport``, the workbook ``govhub report``
writes, for the caller — its records within its scope, the matters its figures count
(``MatterScope.for_figures``, as ``matterKpis``), small cells hidden as the dashboard's
queries hide them (``min_cell_of``). Audited like every operation by the audit trail.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry

from db.report import XLSX_CONTENT_TYPE, Period, build_report, report_filename, xlsx_bytes
from domain.enums import RegionLevel
from domain.roles import Principal
from domain.scope import outermost_prefixes
from domain.validators import InvalidIdentifier, division_of_prefix, validate_division_code
from domain.workflow.visibility import MatterScope
from resolvers.rows import connect
from resolvers.stats import min_cell_of
from schema.context import Info
from schema.errors import BadUserInput, Forbidden
from schema.report import ReportFile

PeriodArg = Annotated[
    str,
    strawberry.argument(
        description="The Beijing calendar period (报告期): 2026-11, 2026-Q4 or 2026."
    ),
]
RegionArg = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "A whole region code within your jurisdiction, e.g. 411202 (区划代码); omitted: "
            "your jurisdiction, when it is one region."
        )
    ),
]

LevelArg = Annotated[
    RegionLevel,
    strawberry.argument(description="Level the 按区划 sheet rolls regions up to (区划层级)."),
]


def checked_period(text: str) -> Period:
    """``text`` as a period whose bounds a date holds (9999-12 ends past them); the message
    does not repeat what was sent, which could be anything (an ID number)."""
    try:
        period = Period.parse(text)
        period.instants  # noqa: B018  (a year past what a date holds fails here, not later)
    except (ValueError, OverflowError) as exc:
        raise BadUserInput(
            "period is not a period: YYYY, YYYY-Qn or YYYY-MM (2026, 2026-Q4, 2026-11) of a "
            "year before 9999."
        ) from exc
    return period


def _jurisdiction_region(principal: Principal) -> str:
    regions = outermost_prefixes(principal.regions)
    if not regions:
        raise Forbidden("This role's jurisdiction holds no region: there is none to report on.")
    if len(regions) != 1:
        raise BadUserInput(
            f"Your jurisdiction holds {len(regions)} regions: name the one to report on (region)."
        )
    return division_of_prefix(regions[0])


def report_region(principal: Principal, region: str | None) -> str:
    """The region to report on: ``region``, which must lie within the jurisdiction, else the
    jurisdiction itself when it is one region."""
    if region is None:
        return _jurisdiction_region(principal)
    try:  # a prefix (4112) or a made-up code would give an empty or partial report
        code = validate_division_code(region)
    except InvalidIdentifier as exc:
        raise BadUserInput(
            f"region: {exc} (a whole code: 411200 for a city, 410000 for a province)."
        ) from exc
    if not principal.covers(code):
        raise Forbidden(f"Region {code} lies outside this role's jurisdiction.")
    return code


async def resolve_monthly_report(
    info: Info,
    period: PeriodArg,
    region: RegionArg = None,
    level: LevelArg = RegionLevel.COUNTY,
) -> ReportFile:
    principal = info.context.security.principal
    if principal is None:  # the access rules refuse it first; kept for the type checker
        raise Forbidden("Authentication required.")
    parsed = checked_period(period)
    code = report_region(principal, region)
    if await info.context.loaders.region.load(code) is None:
        raise BadUserInput(f"region {code} is not in the region tree.")
    async with connect(info.context.sessions) as connection:
        sheets = await build_report(
            connection,
            code,
            parsed,
            level,
            scope=info.context.security.scope,
            matters=MatterScope.for_figures(principal),
            min_cell=min_cell_of(info),
        )
    content = await asyncio.to_thread(xlsx_bytes, sheets)  # openpyxl is slow: off the loop
    return ReportFile.of(
        report_filename(code, parsed), XLSX_CONTENT_TYPE, [s.title for s in sheets], content
    )
