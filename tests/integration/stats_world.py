"""A small world for the dashboard figures, with its ground truth kept as plain rows.

Times are written as Beijing wall-clock times and stored in UTC, so a record at 23:30 and one
at 00:30 Beijing time across a month's end fall in different months although both are on the
same UTC day. Expected figures are computed from :data:`ROWS` in plain Python (zoneinfo and
string prefixes), never through the SQL under test.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.models import Link, Record, Region
from db.models.records import kind_models
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RegionLevel, RiskLevel
from domain.kinds import KIND_SPECS
from domain.stats import kpi_class
from tests.integration.security_world import wipe

SHANGHAI = ZoneInfo("Asia/Shanghai")

REGIONS: list[tuple[str, str, RegionLevel, str | None, int | None]] = [
    ("410000", "河南省", RegionLevel.PROVINCE, None, 99_365_519),
    ("411200", "三门峡市", RegionLevel.CITY, "410000", 2_034_872),
    ("411202", "湖滨区", RegionLevel.COUNTY, "411200", 337_058),
    ("411221", "渑池县", RegionLevel.COUNTY, "411200", 317_221),
    ("411202001", "湖滨街道", RegionLevel.TOWNSHIP, "411202", 52_000),
    ("411202002", "前进街道", RegionLevel.TOWNSHIP, "411202", 48_000),
    ("411202001001", "湖滨社区", RegionLevel.VILLAGE, "411202001", 6_000),
    ("411202001001001", "湖滨社区第1网格", RegionLevel.GRID, "411202001001", 1_500),
    ("510000", "四川省", RegionLevel.PROVINCE, None, 83_674_866),
    ("510100", "成都市", RegionLevel.CITY, "510000", 20_937_757),
    ("510104", "锦江区", RegionLevel.COUNTY, "510100", 902_933),
]
PLACES = [
    "411202",
    "411202001",
    "411202001001",
    "411202001001001",
    "411202002",
    "411221",
    "510104",
]


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    kind: RecordKind
    category: DisputeCategory
    status: CaseStatus
    risk: RiskLevel
    region: str | None
    beijing: datetime
    """When it occurred, Beijing wall-clock time (naive)."""
    case_type: str | None = None
    police_l1: str | None = None
    deleted: bool = False
    repeat_count: int | None = None
    """A petition's 重复信访次数, as the petition system gives it."""

    @property
    def occurred_at(self) -> datetime:
        return self.beijing.replace(tzinfo=SHANGHAI).astimezone(UTC)

    @property
    def day(self) -> date:
        return self.beijing.date()


_SOURCE_REPEATS = (2, 0, None, 1)


def _rows() -> list[Row]:
    rng = random.Random(16)
    rows = [
        # Month's-end edges: 23:30 on 31 March and 00:30 on 1 April, Beijing time (both on
        # 31 March in UTC), and 00:10 on 1 March (28 February in UTC).
        Row(1, RecordKind.DISPUTE, DisputeCategory.NEIGHBOUR, CaseStatus.RESOLVED,
            RiskLevel.RED, "411202001", datetime(2026, 3, 31, 23, 30)),
        Row(2, RecordKind.DISPUTE, DisputeCategory.NEIGHBOUR, CaseStatus.FAILED,
            RiskLevel.RED, "411202001", datetime(2026, 4, 1, 0, 30)),
        Row(3, RecordKind.GRID_EVENT, DisputeCategory.OTHER, CaseStatus.REPORTED,
            RiskLevel.NONE, "411202001001001", datetime(2026, 3, 1, 0, 10)),
        Row(4, RecordKind.PETITION, DisputeCategory.LABOUR, CaseStatus.ACCEPTED,
            RiskLevel.YELLOW, None, datetime(2026, 3, 5, 9, 0)),
        Row(5, RecordKind.COURT_FILING, DisputeCategory.CONTRACT, CaseStatus.ACCEPTED,
            RiskLevel.NONE, "411202", datetime(2026, 1, 10, 10, 0), case_type="民初",
            deleted=True),
    ]  # fmt: skip
    kinds = list(RecordKind)
    case_types = ["民初", "诉前调解", "民特", "行初"]
    statuses = [CaseStatus.RESOLVED, CaseStatus.FAILED, CaseStatus.CLOSED, CaseStatus.ACCEPTED]
    for n in range(6, 121):
        kind = kinds[n % len(kinds)]
        moment = datetime(2026, 1, 1) + timedelta(minutes=rng.randrange(0, 150 * 24 * 60))
        rows.append(
            Row(
                n,
                kind,
                rng.choice(list(DisputeCategory)[:4]),
                rng.choice(statuses),
                rng.choice(list(RiskLevel)),
                PLACES[rng.randrange(len(PLACES))],
                moment,
                case_type=rng.choice(case_types) if kind is RecordKind.COURT_FILING else None,
                police_l1=rng.choice(["010000", "030000", "040000"])
                if kind is RecordKind.POLICE_ALERT
                else None,
                deleted=n % 23 == 0,
                # 2, 0, none or 1 in turn: petitions repeated by their source's count, a withdrawn
                # one among them, besides (not over) the two the links make repeats
                repeat_count=_SOURCE_REPEATS[n // len(kinds) % 4]
                if kind is RecordKind.PETITION
                else None,
            )
        )
    return rows


ROWS: list[Row] = _rows()
BY_ID = {row.id: row for row in ROWS}


def _links() -> list[tuple[int, int, str, str | None]]:
    """``(from, to, kind, decision)``: petitions linked to earlier ones, and mediation cases
    naming 110 alerts as their source; one of each rejected by staff."""
    inside = [r for r in ROWS if (r.region or "").startswith("411202") and not r.deleted]
    petitions = sorted(
        (r for r in inside if r.kind is RecordKind.PETITION),
        key=lambda r: (r.occurred_at, r.id),
    )
    alerts = [r for r in inside if r.police_l1 in ("030000", "040000")]
    disputes = [r for r in ROWS if r.kind is RecordKind.DISPUTE]
    links: list[tuple[int, int, str, str | None]] = [
        # later → earlier, earlier → later, and a rejected one
        (petitions[3].id, petitions[1].id, "SAME_PARTIES", None),
        (petitions[2].id, petitions[5].id, "SAME_MATTER", "CONFIRMED"),
        (petitions[6].id, petitions[7].id, "SAME_PARTIES", "REJECTED"),
        (petitions[4].id, petitions[8].id, "SAME_PLACE", None),  # not a repeat
    ]
    for n, alert in enumerate(alerts[:8]):
        links.append((disputes[n].id, alert.id, "REFERRED_FROM", "REJECTED" if n == 0 else None))
    return links


LINKS = _links()


def repeat_petition_ids() -> set[int]:
    """Petitions the petition system counts as repeated (重复信访次数 ≥ 1), and those with a
    non-rejected same-matter or same-parties link to an earlier petition."""
    repeats = {r.id for r in ROWS if (r.repeat_count or 0) >= 1}
    for a, b, kind, decision in LINKS:
        if kind not in ("SAME_MATTER", "SAME_PARTIES") or decision == "REJECTED":
            continue
        first, second = sorted((BY_ID[a], BY_ID[b]), key=lambda r: (r.occurred_at, r.id))
        if first.kind is second.kind is RecordKind.PETITION and not first.deleted:
            repeats.add(second.id)
    return repeats


def diverted_alert_ids() -> set[int]:
    return {b for _, b, kind, decision in LINKS if kind == "REFERRED_FROM" and decision is None}


def _kind_row(row: Row) -> dict[str, Any]:
    values: dict[str, Any] = {"id": row.id}
    if row.kind is RecordKind.POLICE_ALERT:
        values |= {"alert_number": f"JJ{row.id:06d}", "alarm_time": row.occurred_at,
                   "category_code_l1": row.police_l1}  # fmt: skip
    elif row.kind is RecordKind.PETITION:
        values["repeat_count"] = row.repeat_count
    elif row.kind is RecordKind.COURT_FILING:
        values |= {"case_number": f"(2026)豫1202{row.case_type}{row.id}号",
                   "case_type": row.case_type}  # fmt: skip
    return values


async def insert_regions(connection: AsyncConnection) -> None:
    """The world's region tree (:data:`REGIONS`)."""
    await connection.execute(
        insert(Region.__table__),
        [
            {"code": c, "name": n, "level": lv, "parent_code": p, "population": pop}
            for c, n, lv, p, pop in REGIONS
        ],
    )


@contextlib.asynccontextmanager
async def stats_world(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """``engine`` holding only the stats world while the block runs (wiped before and after)."""
    await wipe(engine)
    await seed_stats_world(engine)
    try:
        yield engine
    finally:
        await wipe(engine)


async def seed_stats_world(engine: AsyncEngine) -> None:
    models = kind_models()
    async with engine.begin() as connection:
        await insert_regions(connection)
        await connection.execute(
            insert(Record.__table__),
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "source": KIND_SPECS[r.kind].sources[0],
                    "source_key": f"S{r.id}",
                    "category": r.category,
                    "title": f"记录{r.id}",
                    "occurred_at": r.occurred_at,
                    "region_code": r.region,
                    "status": r.status,
                    "risk_level": r.risk,
                    "source_updated_at": r.occurred_at,
                    "deleted": r.deleted,
                    "kpi_class": kpi_class(r.kind, _kind_row(r)),
                }
                for r in ROWS
            ],
        )
        for kind, model in models.items():
            rows = [_kind_row(r) for r in ROWS if r.kind is kind]
            by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for values in rows:
                by_keys.setdefault(tuple(values), []).append(values)
            for same in by_keys.values():
                await connection.execute(insert(model.__table__), same)
        await connection.execute(
            insert(Link.__table__),
            [
                {
                    "from_record_id": a,
                    "to_record_id": b,
                    "link_kind": kind,
                    "confidence": 0.9,
                    "evidence": [],
                    "decision": decision,
                }
                for a, b, kind, decision in LINKS
            ],
        )


def ratio(numerator: int, denominator: int, scale: int = 1) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": numerator / denominator * scale if denominator else None,
    }


CONCLUDED = {CaseStatus.RESOLVED, CaseStatus.FAILED, CaseStatus.CLOSED}


def expected_kpis(rows: list[Row], population: int | None) -> dict[str, dict[str, Any]]:
    """Every KPI over ``rows`` (live ones), as the GraphQL figures show them."""
    disputes = [r for r in rows if r.kind is RecordKind.DISPUTE and r.status in CONCLUDED]
    pre_suit = [r for r in rows if r.case_type == "诉前调解" and r.status in CONCLUDED]
    filings = [r for r in rows if r.case_type in ("民初", "行初")]
    petitions = [r for r in rows if r.kind is RecordKind.PETITION]
    repeats = repeat_petition_ids()
    non_police = [r for r in rows if r.police_l1 in ("030000", "040000")]
    diverted = diverted_alert_ids()
    return {
        "MEDIATION_SUCCESS_RATE": ratio(
            sum(r.status is CaseStatus.RESOLVED for r in disputes), len(disputes)
        ),
        "PRE_SUIT_MEDIATION_SUCCESS_RATE": ratio(
            sum(r.status is CaseStatus.RESOLVED for r in pre_suit), len(pre_suit)
        ),
        "LITIGATION_PER_10K": {
            "numerator": len(filings),
            "denominator": population,
            "value": len(filings) / population * 10_000 if population else None,
        },
        "REPEAT_PETITION_RATE": ratio(sum(r.id in repeats for r in petitions), len(petitions)),
        "POLICE_DIVERSION_RATE": ratio(sum(r.id in diverted for r in non_police), len(non_police)),
    }
