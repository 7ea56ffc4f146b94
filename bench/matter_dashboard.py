"""Latency of the closed loop's dashboard figures (综合态势: 事项闭环指标) at city scale.

The request, as the console's 综合态势 page asks it, for one city over twelve months, as a
dashboard viewer over that city (jurisdiction and small-cell suppression included):

- every matter KPI with the handling duration P50/P90 for the city (``matterKpis``),
- 按期办结率 by Beijing month, empty months as zero (``matterKpis``, ``bucket``),
- matters by county and by step (``matterStats``),
- the twenty longest-overdue open matters (``overdueMatters``).

Matters are spread over the grid codes of 三门峡市 and 成都市 and fourteen months, each with
one to three clocks (handling, acceptance, others; stopped on time, late, running, overdue).
PostgreSQL comes from ``GOVHUB_BENCH_DATABASE_URL`` (default: the local test server), in a
throwaway database.

Run: ``.venv/bin/python bench/matter_dashboard.py --matters 100000``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from query_latency import percentile, postgres_database, sqlite_database
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.migrate import upgrade
from db.models import ClockRow, Matter, Region
from db.pii import configure_pii
from domain.divisions import SEED_REGIONS
from domain.enums import CaseStatus, DisputeCategory, RegionLevel, RiskLevel, Role
from domain.roles import Principal
from domain.workflow.vocabulary import (
    DispatchTrack,
    MatterOrigin,
    MatterOutcome,
    MatterStep,
    Satisfaction,
)
from resolvers.dataloaders import LoaderContext
from resolvers.root import schema
from sandbox.regions import build_region_tree

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CITY = "411200"
VIEWER = Principal(sub="bench-screen", role=Role.DASHBOARD_VIEWER, regions=("4112",))
START = datetime(2025, 11, 1, tzinfo=UTC)  # matters span 14 months around the 12 asked for
SPAN_MINUTES = 14 * 30 * 24 * 60
RULES = ["matter.tier.ordinary", "petition.handle", "dispatch.accept", "petition.register",
         "matter.revisit"]  # fmt: skip
STEPS = [MatterStep.IN_PROGRESS, MatterStep.DISPATCHED, MatterStep.CLOSED, MatterStep.REVISITED,
         MatterStep.REVISITED, MatterStep.WITHDRAWN]  # fmt: skip

QUERY_DASHBOARD = """
query MatterDashboard($filter: MatterFilter, $since: DateTime, $until: DateTime) {
  kpis: matterKpis(filter: $filter, since: $since, until: $until) {
    figures { kpi numerator denominator value suppressed }
    duration { count p50Hours p90Hours }
  }
  trend: matterKpis(filter: $filter, since: $since, until: $until, bucket: MONTH,
                    kpis: [ON_TIME_CLOSURE_RATE]) {
    key { period { label } } figures { numerator denominator value }
  }
  byCounty: matterStats(filter: $filter, since: $since, until: $until, groupBy: [REGION]) {
    key { regionCode } count suppressed
  }
  byStep: matterStats(filter: $filter, since: $since, until: $until, groupBy: [STEP]) {
    key { step } count suppressed
  }
  overdue: overdueMatters(filter: $filter, first: 20) { number overdueSince }
}
"""
VARIABLES = {
    "filter": {"region": CITY},
    "since": "2025-12-01T00:00:00+08:00",
    "until": "2026-12-01T00:00:00+08:00",
}


def _matters(
    count: int, places: list[str]
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    rng = random.Random(1616)
    for n in range(1, count + 1):
        opened = START + timedelta(minutes=rng.randrange(SPAN_MINUTES))
        step = rng.choice(STEPS)
        closed = (
            opened + timedelta(hours=rng.randrange(2, 60 * 24))
            if step in (MatterStep.CLOSED, MatterStep.REVISITED, MatterStep.WITHDRAWN)
            else None
        )
        matter = {
            "id": n, "number": f"B-{n:07d}", "title": f"事项{n}",
            "origin": rng.choice(list(MatterOrigin)).value,
            "category": rng.choice(list(DisputeCategory)).value,
            "region_code": rng.choice(places), "risk": rng.choice(list(RiskLevel)).value,
            "track": rng.choice([*DispatchTrack, None]), "step": step.value,
            "status": CaseStatus.CLOSED.value if closed else CaseStatus.IN_PROGRESS.value,
            "outcome": rng.choice(list(MatterOutcome)).value if closed else None,
            "satisfaction": rng.choice(list(Satisfaction)).value
            if step is MatterStep.REVISITED else None,
            "suspended": False, "running_clocks": {}, "version": 1, "opened_by": "bench",
            "opened_at": opened, "updated_at": closed or opened, "closed_at": closed,
        }  # fmt: skip
        clocks = []
        for _ in range(rng.randrange(1, 4)):
            due = opened + timedelta(hours=rng.randrange(12, 40 * 24))
            stopped = closed or (opened + timedelta(days=rng.randrange(1, 50))
                                 if rng.random() < 0.5 else None)  # fmt: skip
            clocks.append({
                "matter_id": n, "rule_id": rng.choice(RULES), "budget": 15,
                "unit": "calendar_day", "started_at": opened, "start_day_counts": False,
                "roll": "none", "suspendable": False, "max_extension": 0, "warn_percents": [],
                "ledger": {}, "stopped_at": stopped, "stop_reason": "", "due_at": due,
                "next_rung_at": None, "provisional": False, "calendar_version": "",
            })  # fmt: skip
        yield matter, clocks


def _regions() -> tuple[list[dict[str, Any]], list[str]]:
    """The seed regions and the sandbox's tree (三门峡市, 成都市), and its grid codes."""
    tree = build_region_tree(7)
    seeded = [(r.code, r.name, r.level, r.parent_code, r.population) for r in SEED_REGIONS]
    drawn = [(r.code, r.name, r.level, r.parent_code, r.population) for r in tree.regions]
    names = ("code", "name", "level", "parent_code", "population")
    rows = [dict(zip(names, values, strict=True)) for values in seeded + drawn]
    return rows, [r.code for r in tree.regions if r.level is RegionLevel.GRID]


async def load(engine: AsyncEngine, count: int) -> None:
    regions, grids = _regions()
    async with engine.begin() as connection:
        await connection.execute(insert(Region), regions)
    batch: list[dict[str, Any]] = []
    clocks: list[dict[str, Any]] = []
    for matter, its_clocks in _matters(count, grids):
        batch.append(matter)
        clocks += its_clocks
        if len(batch) == 20_000:
            await _insert(engine, batch, clocks)
            batch, clocks = [], []
    if batch:
        await _insert(engine, batch, clocks)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as connection:
        await connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )


async def _insert(
    engine: AsyncEngine, matters: list[dict[str, Any]], clocks: list[dict[str, Any]]
) -> None:
    async with engine.begin() as connection:
        await connection.execute(insert(Matter), matters)
        await connection.execute(insert(ClockRow), clocks)


async def dashboard(engine: AsyncEngine) -> dict[str, Any]:
    result = await schema.execute(
        QUERY_DASHBOARD,
        variable_values=VARIABLES,
        context_value=LoaderContext(session_factory(engine), VIEWER),
    )
    if result.errors or result.data is None:
        raise RuntimeError(f"query failed: {result.errors}")
    return result.data


async def measure(label: str, engine: AsyncEngine, count: int, iterations: int) -> None:
    await upgrade(engine)
    started = time.perf_counter()
    await load(engine, count)
    print(f"[{label}] loaded {count:,} matters in {time.perf_counter() - started:.1f}s", flush=True)
    data = await dashboard(engine)
    on_time = next(f for f in data["kpis"][0]["figures"] if f["kpi"] == "ON_TIME_CLOSURE_RATE")
    print(f"[{label}] 按期办结率 {on_time['numerator']:,}/{on_time['denominator']:,}, "
          f"{len(data['trend'])} months, {len(data['byCounty'])} counties, "
          f"{len(data['overdue'])} overdue listed")  # fmt: skip
    for _ in range(2):
        await dashboard(engine)
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await dashboard(engine)
        samples.append((time.perf_counter() - started) * 1000)
    print(
        f"[{label}] graphql  p50 {statistics.median(samples):7.1f} ms   "
        f"p95 {percentile(samples, 95):7.1f} ms   ({iterations} runs)",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matters", type=int, default=20_000)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    configure_pii(secrets.token_bytes(32))
    if args.only != "postgres":
        async with sqlite_database() as engine:
            await measure("sqlite", engine, args.matters, args.iterations)
    if args.only != "sqlite":
        url = os.environ.get("GOVHUB_BENCH_DATABASE_URL", DEFAULT_PG)
        try:
            async with postgres_database(url) as engine:
                await measure("postgres", engine, args.matters, args.iterations)
        except OSError as exc:
            print(f"[postgres] skipped: {url} unreachable ({type(exc).__name__})")


if __name__ == "__main__":
    asyncio.run(main())
