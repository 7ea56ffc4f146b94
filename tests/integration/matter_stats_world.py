"""A small world of matters for the matter figures, its ground truth kept as plain rows.

Times are Beijing wall-clock times stored in UTC: a matter closed at 23:30 on 31 March and one
closed at 00:30 on 1 April (Beijing) fall in different months though both close on 31 March
UTC. Expected figures are computed from :data:`MATTERS` in plain Python (zoneinfo, string
prefixes, ``statistics``), never through the code under test. "Now" is the real clock: every
due instant lies well before it (2026) or well after it (2031).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import ClockRow, Matter
from domain.enums import CaseStatus, DisputeCategory, RiskLevel
from domain.workflow.vocabulary import (
    DispatchTrack,
    MatterOrigin,
    MatterOutcome,
    MatterStep,
    Satisfaction,
)
from tests.integration.stats_world import insert_regions

SHANGHAI = ZoneInfo("Asia/Shanghai")
PARTNER_ORG = "org:tjw-huibin-001"
ORGS = [PARTNER_ORG, "org:court", "org:police-hubin", None]
PLACES = ["411202", "411202001", "411202001001", "411202002", "411221", "510104"]
FUTURE = datetime(2031, 1, 1)
HANDLING = ("petition.handle", "mediation.people", "matter.tier.ordinary", "matter.rework")
ACCEPTING = ("dispatch.accept", "petition.register")
OTHER = ("supervision.reply", "matter.revisit")
OPEN = {"REGISTERED", "ACCEPTED", "ASSESSED", "DISPATCHED", "RETURNED", "IN_PROGRESS",
        "FED_BACK", "VERIFIED"}  # fmt: skip


def utc(beijing: datetime) -> datetime:
    return beijing.replace(tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Clock:
    rule: str
    due: datetime
    """Beijing wall-clock time."""
    stopped: datetime | None = None


@dataclass(frozen=True, slots=True)
class M:
    id: int
    region: str | None
    category: DisputeCategory
    risk: RiskLevel
    origin: MatterOrigin
    track: DispatchTrack | None
    step: MatterStep
    opened: datetime
    closed: datetime | None = None
    outcome: MatterOutcome | None = None
    satisfaction: Satisfaction | None = None
    org: str | None = None
    clocks: tuple[Clock, ...] = field(default_factory=tuple)

    @property
    def is_open(self) -> bool:
        return self.step.value in OPEN

    @property
    def status(self) -> CaseStatus:
        return {
            MatterStep.REGISTERED: CaseStatus.REPORTED, MatterStep.CLOSED: CaseStatus.CLOSED,
            MatterStep.REVISITED: CaseStatus.REVISITED, MatterStep.WITHDRAWN: CaseStatus.WITHDRAWN,
        }.get(self.step, CaseStatus.IN_PROGRESS)  # fmt: skip


def _edges() -> list[M]:
    neighbour, red = DisputeCategory.NEIGHBOUR, RiskLevel.RED
    return [
        # closed 23:30 on 31 March (Beijing), on time, resolved in the village grid, satisfied
        M(1, "411202001001", neighbour, red, MatterOrigin.GRID_EVENT, DispatchTrack.GRID,
          MatterStep.REVISITED, datetime(2026, 3, 20, 9), datetime(2026, 3, 31, 23, 30),
          MatterOutcome.RESOLVED, Satisfaction.SATISFIED, PARTNER_ORG,
          (Clock("matter.tier.ordinary", datetime(2026, 4, 5, 23, 59),
                 datetime(2026, 3, 31, 23, 30)),)),
        # closed 00:30 on 1 April (Beijing), late, resolved by a township mediation committee
        M(2, "411202001", neighbour, red, MatterOrigin.DISPUTE, DispatchTrack.PEOPLES_MEDIATION,
          MatterStep.REVISITED, datetime(2026, 3, 2, 9), datetime(2026, 4, 1, 0, 30),
          MatterOutcome.RESOLVED, Satisfaction.DISSATISFIED, PARTNER_ORG,
          (Clock("mediation.people", datetime(2026, 3, 31, 12), datetime(2026, 4, 1, 0, 30)),)),
        # open, its handling clock overdue since 15 March: counts against March
        M(3, "411202", DisputeCategory.LABOUR, red, MatterOrigin.PETITION, DispatchTrack.PETITION,
          MatterStep.IN_PROGRESS, datetime(2026, 1, 5, 9), org="org:court",
          clocks=(Clock("petition.handle", datetime(2026, 3, 15, 10)),
                  Clock("petition.register", datetime(2026, 1, 20, 23, 59),
                        datetime(2026, 1, 6, 9)))),
        # open, nothing due yet
        M(4, "411202", DisputeCategory.LABOUR, RiskLevel.NONE, MatterOrigin.WALK_IN, None,
          MatterStep.ASSESSED, datetime(2026, 5, 5, 9),
          clocks=(Clock("matter.tier.ordinary", FUTURE),)),
        # withdrawn: in the counts, in no KPI
        M(5, "411202", DisputeCategory.OTHER, RiskLevel.NONE, MatterOrigin.PHONE, None,
          MatterStep.WITHDRAWN, datetime(2026, 2, 5, 9), datetime(2026, 2, 6, 9),
          clocks=(Clock("dispatch.accept", datetime(2026, 2, 6, 0), datetime(2026, 2, 6, 9)),)),
    ]  # fmt: skip


def _random(n: int, rng: random.Random) -> M:
    opened = datetime(2026, 1, 1) + timedelta(minutes=rng.randrange(0, 140 * 24 * 60))
    step = rng.choice([MatterStep.IN_PROGRESS, MatterStep.DISPATCHED, MatterStep.CLOSED,
                       MatterStep.REVISITED, MatterStep.REVISITED, MatterStep.CLOSED,
                       MatterStep.WITHDRAWN, MatterStep.FED_BACK])  # fmt: skip
    closing = step in (MatterStep.CLOSED, MatterStep.REVISITED, MatterStep.WITHDRAWN)
    closed = opened + timedelta(minutes=rng.randrange(60, 40 * 24 * 60)) if closing else None
    track = rng.choice([*DispatchTrack, None])
    clocks: list[Clock] = []
    for _ in range(rng.randrange(0, 3)):
        rule = rng.choice([*HANDLING, *ACCEPTING, *OTHER])
        due = opened + timedelta(hours=rng.randrange(12, 30 * 24))
        if rng.random() < 0.15:
            due = FUTURE
        stop = closed or (
            opened + timedelta(hours=rng.randrange(1, 40 * 24)) if rng.random() < 0.5 else None
        )
        clocks.append(Clock(rule, due, stop))
    revisited = step is MatterStep.REVISITED
    return M(
        n,
        rng.choice([*PLACES, None]) if n % 17 else None,
        rng.choice(list(DisputeCategory)[:4]),
        rng.choice(list(RiskLevel)),
        rng.choice(list(MatterOrigin)),
        track,
        step,
        opened,
        closed,
        rng.choice(list(MatterOutcome)[:3])
        if step is not MatterStep.WITHDRAWN and closed
        else None,
        rng.choice(list(Satisfaction)) if revisited else None,
        rng.choice(ORGS),
        tuple(clocks),
    )


def _due_at_month_end() -> M:
    """Open, its handling clock due at 24:00 on 30 April (Beijing), the instant 1 May 00:00:
    due in April, its last allowed day (届满日)."""
    return M(101, "411202", DisputeCategory.LABOUR, RiskLevel.NONE, MatterOrigin.WALK_IN,
             DispatchTrack.PEOPLES_MEDIATION, MatterStep.IN_PROGRESS, datetime(2026, 4, 2, 9),
             org=PARTNER_ORG, clocks=(Clock("mediation.people", datetime(2026, 5, 1, 0)),))


def _answered_late_not_closed() -> M:
    """Open (已反馈, not yet verified nor closed), its handling clock due at 24:00 on 9 March
    and stopped late by the department's result on 20 March: late on 9 March, its 届满日."""
    return M(102, "411202", DisputeCategory.LABOUR, RiskLevel.NONE, MatterOrigin.PETITION,
             DispatchTrack.PETITION, MatterStep.FED_BACK, datetime(2026, 1, 8, 9),
             org=PARTNER_ORG, clocks=(Clock("petition.handle", datetime(2026, 3, 10, 0),
                                            datetime(2026, 3, 20, 10)),))


def _resolved_at_its_source() -> M:
    """Closed without dispatch on its mediation case's 调解成功 at a village 调委会 (核查来源办结
    结果): resolved in the village, not at the county."""
    return M(103, "411202001001", DisputeCategory.NEIGHBOUR, RiskLevel.NONE,
             MatterOrigin.DISPUTE, None, MatterStep.CLOSED, datetime(2026, 6, 2, 9),
             datetime(2026, 6, 20, 10), MatterOutcome.RESOLVED,
             clocks=(Clock("mediation.source_people", datetime(2026, 7, 3, 0),
                           datetime(2026, 6, 18, 10)),))  # fmt: skip


def _matters() -> list[M]:
    rng = random.Random(1616)
    return (_edges() + [_random(n, rng) for n in range(6, 101)] + [_due_at_month_end()]
            + [_answered_late_not_closed()] + [_resolved_at_its_source()])  # fmt: skip


MATTERS: list[M] = _matters()


async def seed_matter_world(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await insert_regions(connection)
        await connection.execute(
            insert(Matter.__table__),
            [
                {
                    "id": m.id,
                    "number": f"MS-{m.id:04d}",
                    "title": f"事项{m.id}",
                    "origin": m.origin,
                    "category": m.category,
                    "region_code": m.region,
                    "risk": m.risk,
                    "track": m.track,
                    "step": m.step,
                    "status": m.status,
                    "outcome": m.outcome,
                    "satisfaction": m.satisfaction,
                    "assigned_org": m.org,
                    "lead_org": None,
                    "tier": None,
                    "result": None,
                    "suspended": False,
                    "running_clocks": {},
                    "version": 1,
                    "opened_by": "seed",
                    "opened_at": utc(m.opened),
                    "updated_at": utc(m.closed or m.opened),
                    "closed_at": utc(m.closed) if m.closed else None,
                }
                for m in MATTERS
            ],
        )
        clocks = [
            {
                "matter_id": m.id, "rule_id": clock.rule, "budget": 15, "unit": "calendar_day",
                "started_at": utc(m.opened), "start_day_counts": False, "roll": "none",
                "suspendable": False, "max_extension": 0, "warn_percents": [], "ledger": {},
                "stopped_at": utc(clock.stopped) if clock.stopped else None, "stop_reason": "",
                "due_at": utc(clock.due), "next_rung_at": None, "provisional": False,
                "calendar_version": "",
            }
            for m in MATTERS
            for clock in m.clocks
        ]  # fmt: skip
        await connection.execute(insert(ClockRow.__table__), clocks)


# -- ground truth --------------------------------------------------------------------------


def _late(clock: Clock, now: datetime) -> bool:
    due = utc(clock.due)
    return utc(clock.stopped) > due if clock.stopped else due <= now


def first_overdue_handling(m: M, now: datetime) -> datetime | None:
    """Beijing time the first handling clock that ran out fell due (open matters): running
    past its due instant, or stopped after it."""
    dues = [c.due for c in m.clocks if c.rule in HANDLING and _late(c, now)]
    return min(dues) if m.is_open and dues else None


def kpi_day(m: M, kpi: str, now: datetime) -> date | None:
    """The Beijing day a KPI counts the matter on (None: not at all)."""
    if kpi == "TIMELY_ACCEPTANCE_RATE":
        return m.opened.date()
    if kpi == "ON_TIME_CLOSURE_RATE":
        if m.closed:
            return m.closed.date()
        due = first_overdue_handling(m, now)  # 24:00 is the last allowed day's end
        return (due - timedelta(seconds=1)).date() if due else None
    return m.closed.date() if m.closed else None


_SOURCE_TRACK = {
    MatterOrigin.DISPUTE: DispatchTrack.PEOPLES_MEDIATION,
    MatterOrigin.GRID_EVENT: DispatchTrack.GRID,
    MatterOrigin.POLICE_ALERT: DispatchTrack.POLICE,
    MatterOrigin.PETITION: DispatchTrack.PETITION,
    MatterOrigin.COURT_FILING: DispatchTrack.COURT_FILING,
}  # fmt: skip
"""Closed undispatched, a matter was concluded in its origin's own system (来源系统已办结)."""


def _level(m: M) -> str:
    track = m.track if m.track is not None else _SOURCE_TRACK.get(m.origin)
    if track is DispatchTrack.GRID:
        return "VILLAGE"
    if track in (DispatchTrack.JUDICIAL_OFFICE, DispatchTrack.POLICE):
        return "TOWNSHIP"
    if track is DispatchTrack.PEOPLES_MEDIATION:  # where the matter lies
        digits = len(m.region or "")
        return "VILLAGE" if digits >= 12 else "TOWNSHIP" if digits >= 9 else "COUNTY"
    return "COUNTY"


def sides(m: M, kpi: str, now: datetime) -> tuple[bool, bool]:
    """Whether the matter is in the KPI's denominator and in its numerator."""
    live = m.step is not MatterStep.WITHDRAWN
    closed = live and m.closed is not None
    if kpi == "ON_TIME_CLOSURE_RATE":
        handling = [c for c in m.clocks if c.rule in HANDLING]
        den = closed or (live and first_overdue_handling(m, now) is not None)
        return den, den and closed and not any(_late(c, now) for c in handling)
    if kpi == "TIMELY_ACCEPTANCE_RATE":
        accepting = [c for c in m.clocks if c.rule in ACCEPTING]
        settled = any(c.stopped is not None or utc(c.due) <= now for c in accepting)
        den = live and settled
        return den, den and not any(_late(c, now) for c in accepting)
    if kpi == "REVISIT_RATE":
        return closed, closed and m.satisfaction is not None
    if kpi == "REVISIT_SATISFACTION_RATE":
        den = closed and m.satisfaction is not None
        return den, den and m.satisfaction is not Satisfaction.DISSATISFIED
    level = {"RESOLVED_IN_VILLAGE_SHARE": "VILLAGE", "RESOLVED_IN_TOWNSHIP_SHARE": "TOWNSHIP",
             "RESOLVED_IN_COUNTY_SHARE": "COUNTY"}[kpi]  # fmt: skip
    den = closed and m.outcome is MatterOutcome.RESOLVED
    return den, den and _level(m) == level


MATTER_KPIS = [
    "ON_TIME_CLOSURE_RATE", "TIMELY_ACCEPTANCE_RATE", "REVISIT_RATE",
    "REVISIT_SATISFACTION_RATE", "RESOLVED_IN_VILLAGE_SHARE", "RESOLVED_IN_TOWNSHIP_SHARE",
    "RESOLVED_IN_COUNTY_SHARE",
]  # fmt: skip


def expected(
    matters: list[M], kpi: str, now: datetime, first: date | None = None, last: date | None = None
) -> dict[str, Any]:
    """numerator, denominator and value of ``kpi`` over matters counted between two days."""
    numerator = denominator = 0
    for m in matters:
        day = kpi_day(m, kpi, now)
        if day is None or (first and day < first) or (last and day >= last):
            continue
        den, num = sides(m, kpi, now)
        denominator += den
        numerator += num
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": numerator / denominator if denominator else None,
    }


def expected_durations(matters: list[M]) -> tuple[int, float | None, float | None]:
    """Closed (not withdrawn) matters' handling hours: count, median, 90th percentile."""
    hours = [
        (m.closed - m.opened).total_seconds() / 3600
        for m in matters
        if m.closed and m.step is not MatterStep.WITHDRAWN
    ]
    if not hours:
        return 0, None, None
    if len(hours) == 1:
        return 1, hours[0], hours[0]
    return (
        len(hours),
        statistics.median(hours),
        statistics.quantiles(hours, n=10, method="inclusive")[8],
    )
