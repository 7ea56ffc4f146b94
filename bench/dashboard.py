# ruff: noqa: S608 -- the raw statements are fixed text; the bounds are bound parameters
"""Latency of a typical dashboard request (综合态势) vs the plain GROUP BY statements behind it.

The request, as issue 16 defines it, for one city over twelve months, as a dashboard viewer
over that city (jurisdiction and small-cell suppression included):

- five KPIs for the city (``recordKpis``),
- a twelve-month trend by Beijing month, empty months as zero (``recordStats``, ``bucket``),
- a breakdown by county and one by category (``recordStats``, ``groupBy``).

``raw sql`` runs the same four aggregate statements as hand-written SQL through the same
engine (rows fetched, nothing mapped): the floor any technique (summary tables, views)
would have to beat.

Records are spread over the grid codes of 三门峡市 and 成都市 (the sandbox's region tree) and
fourteen months, loaded with COPY on PostgreSQL and executemany on SQLite. PostgreSQL comes
from ``GOVHUB_BENCH_DATABASE_URL`` (default: the local test server), in a throwaway database.

Run: ``.venv/bin/python bench/dashboard.py --records 1000000 --only postgres``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
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
from db.models import Link, Record, Region
from db.models.records import kind_models
from db.pii import configure_pii
from domain.divisions import SEED_REGIONS
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RegionLevel, RiskLevel, Role
from domain.kinds import KIND_SPECS
from domain.roles import Principal
from domain.stats import kpi_class
from resolvers.dataloaders import LoaderContext
from resolvers.root import schema
from sandbox.regions import build_region_tree

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CITY = "411200"
VIEWER = Principal(sub="bench-screen", role=Role.DASHBOARD_VIEWER, regions=("4112",))
FROM, TO = "2025-12-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00"
START = datetime(2025, 11, 1, tzinfo=UTC)  # records span 14 months around the 12 asked for
SPAN_MINUTES = 14 * 30 * 24 * 60

QUERY_DASHBOARD = """
query Dashboard($filter: RecordFilter!) {
  kpis: recordKpis(filter: $filter) { figures { kpi numerator denominator value suppressed } }
  trend: recordStats(filter: $filter, bucket: MONTH) { key { period { label } } count }
  byCounty: recordStats(filter: $filter, groupBy: [REGION]) {
    key { regionCode region { name } } count suppressed
  }
  byCategory: recordStats(filter: $filter, groupBy: [CATEGORY]) { key { category } count }
}
"""
FILTER = {"region": CITY, "occurredFrom": FROM, "occurredTo": TO}

_WHERE = (
    "r.deleted = false AND r.region_code >= '4112' AND r.region_code < '4113' "
    "AND r.occurred_at >= :start AND r.occurred_at < :end"
)
_CONCLUDED = "('RESOLVED', 'FAILED', 'CLOSED')"
RAW_SQL = {
    "postgresql": {
        "trend": "SELECT date_trunc('month', r.occurred_at AT TIME ZONE 'Asia/Shanghai') AS p, "
        f"count(*) FROM records r WHERE {_WHERE} GROUP BY p",
    },
    "sqlite": {
        "trend": "SELECT date(r.occurred_at, '+8 hours', 'start of month') AS p, count(*) "
        f"FROM records r WHERE {_WHERE} GROUP BY p",
    },
}
RAW_COMMON = {
    "county": "SELECT substr(r.region_code, 1, 6) AS c, count(*) FROM records r "
    f"WHERE {_WHERE} GROUP BY c",
    "category": f"SELECT r.category, count(*) FROM records r WHERE {_WHERE} GROUP BY r.category",
    "kpis": (
        "SELECT "
        f"count(*) FILTER (WHERE r.kind = 'DISPUTE' AND r.status IN {_CONCLUDED}), "
        "count(*) FILTER (WHERE r.kind = 'DISPUTE' AND r.status = 'RESOLVED'), "
        "count(*) FILTER (WHERE r.kpi_class = 'PRE_SUIT_MEDIATION' "
        f"AND r.status IN {_CONCLUDED}), "
        "count(*) FILTER (WHERE r.kpi_class = 'PRE_SUIT_MEDIATION' AND r.status = 'RESOLVED'), "
        "count(*) FILTER (WHERE r.kpi_class = 'FIRST_INSTANCE'), "
        "count(*) FILTER (WHERE r.kind = 'PETITION'), "
        "count(*) FILTER (WHERE r.kind = 'PETITION' AND r.id IN (SELECT CASE WHEN a.occurred_at > "
        "b.occurred_at THEN a.id ELSE b.id END FROM links l JOIN records a ON a.id = "
        "l.from_record_id JOIN records b ON b.id = l.to_record_id WHERE l.link_kind IN "
        "('SAME_MATTER', 'SAME_PARTIES') AND a.kind = 'PETITION' AND b.kind = 'PETITION')), "
        "count(*) FILTER (WHERE r.kpi_class = 'NON_POLICE_ALERT'), "
        "count(*) FILTER (WHERE r.kpi_class = 'NON_POLICE_ALERT' AND r.id IN (SELECT to_record_id "
        "FROM links WHERE link_kind = 'REFERRED_FROM')) "
        f"FROM records r WHERE {_WHERE}"
    ),
}


def _regions() -> tuple[list[dict[str, Any]], list[str]]:
    tree = build_region_tree(7)
    rows = [
        {"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent_code,
         "population": r.population}
        for r in SEED_REGIONS
    ] + [
        {"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent_code,
         "population": r.population}
        for r in tree.regions
    ]  # fmt: skip
    grids = [r.code for r in tree.regions if r.level is RegionLevel.GRID]
    return rows, grids


def _records(count: int, grids: list[str]) -> Iterator[dict[str, Any]]:
    rng = random.Random(16)
    kinds = list(RecordKind)
    categories = list(DisputeCategory)
    statuses = list(CaseStatus)
    risks = [RiskLevel.NONE] * 6 + [RiskLevel.BLUE] * 2 + [RiskLevel.YELLOW, RiskLevel.RED]
    now = datetime.now(UTC)
    for n in range(1, count + 1):
        kind = kinds[n % len(kinds)]
        occurred = START + timedelta(minutes=rng.randrange(SPAN_MINUTES))
        yield {
            "id": n, "kind": kind.value, "source": KIND_SPECS[kind].sources[0].value,
            "source_key": f"B{n}", "category": rng.choice(categories).value,
            "title": f"记录{n}", "occurred_at": occurred, "region_code": rng.choice(grids),
            "status": rng.choice(statuses).value, "risk_level": rng.choice(risks).value,
            "source_updated_at": occurred, "deleted": n % 97 == 0, "created_at": now,
            "updated_at": now, "kpi_class": None, "source_risk_level": RiskLevel.NONE.value,
        }  # fmt: skip


def _kind_row(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    kind = RecordKind(record["kind"])
    row: dict[str, Any] = {"id": record["id"]}
    if kind is RecordKind.COURT_FILING:
        row |= {"case_number": f"B{record['id']}",
                "case_type": rng.choice(["民初", "诉前调解", "民特", "行初"])}  # fmt: skip
    elif kind is RecordKind.POLICE_ALERT:
        row |= {"alert_number": f"J{record['id']}", "alarm_time": record["occurred_at"],
                "category_code_l1": rng.choice(["010000", "030000", "040000"])}  # fmt: skip
    return row


def _links(count: int) -> list[dict[str, Any]]:
    """A repeat petition for every 50th petition; a mediation case for every 10th alert."""
    kinds = list(RecordKind)
    step = len(kinds)
    petition = kinds.index(RecordKind.PETITION) or step
    alert = kinds.index(RecordKind.POLICE_ALERT) or step
    dispute = kinds.index(RecordKind.DISPUTE) or step
    links = [
        {"from_record_id": n, "to_record_id": n + step * 7, "link_kind": "SAME_PARTIES"}
        for n in range(petition, count - step * 7, step * 50)
    ] + [
        {"from_record_id": n - alert + dispute, "to_record_id": n, "link_kind": "REFERRED_FROM"}
        for n in range(alert + step, count, step * 10)
    ]
    return [link | {"confidence": 0.9, "evidence": []} for link in links]


async def _copy(engine: AsyncEngine, table: str, rows: list[dict[str, Any]]) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        columns = list(rows[0])
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
        )


async def load(engine: AsyncEngine, count: int) -> None:
    """Regions, ``count`` records with their kind rows, and links; 100,000 records a batch."""
    regions, grids = _regions()
    generated = _records(count, grids)
    rng = random.Random(61)
    models = kind_models()
    async with engine.begin() as connection:
        await connection.execute(insert(Region.__table__), regions)
    for _ in range(0, count, 100_000):
        records = list(itertools.islice(generated, 100_000))
        by_kind: dict[RecordKind, list[dict[str, Any]]] = {kind: [] for kind in RecordKind}
        for record in records:
            kind = RecordKind(record["kind"])
            row = _kind_row(record, rng)
            record["kpi_class"] = (found := kpi_class(kind, row)) and found.value
            by_kind[kind].append(row)
        if engine.dialect.name == "postgresql":
            await _copy(engine, "records", records)
            for kind, rows in by_kind.items():
                await _copy(engine, models[kind].__tablename__, rows)
        else:
            async with engine.begin() as connection:
                await connection.execute(insert(Record.__table__), records)
                for kind, rows in by_kind.items():
                    await connection.execute(insert(models[kind].__table__), rows)
    async with engine.begin() as connection:
        await connection.execute(insert(Link.__table__), _links(count))
    # What autovacuum does after a bulk load: statistics for the planner and, on PostgreSQL,
    # the visibility map that lets an index-only scan skip the table.
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as connection:
        await connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )


async def graphql_dashboard(engine: AsyncEngine) -> dict[str, Any]:
    result = await schema.execute(
        QUERY_DASHBOARD,
        variable_values={"filter": FILTER},
        context_value=LoaderContext(session_factory(engine), VIEWER),
    )
    if result.errors or result.data is None:
        raise RuntimeError(f"query failed: {result.errors}")
    return result.data


async def raw_dashboard(engine: AsyncEngine) -> int:
    statements = {**RAW_COMMON, **RAW_SQL[engine.dialect.name]}
    bounds = {
        "start": datetime.fromisoformat(FROM).astimezone(UTC),
        "end": datetime.fromisoformat(TO).astimezone(UTC),
    }
    if engine.dialect.name == "sqlite":  # stored as text without a zone
        bounds = {k: v.strftime("%Y-%m-%d %H:%M:%S.%f") for k, v in bounds.items()}
    rows = 0
    async with engine.connect() as connection:
        for statement in statements.values():
            rows += len((await connection.execute(text(statement), bounds)).all())
    return rows


async def _samples(run: Any, iterations: int) -> list[float]:
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def measure(label: str, engine: AsyncEngine, count: int, iterations: int) -> None:
    await upgrade(engine)
    started = time.perf_counter()
    await load(engine, count)
    print(f"[{label}] loaded {count:,} records in {time.perf_counter() - started:.1f}s", flush=True)
    gc.collect()
    gc.freeze()
    data = await graphql_dashboard(engine)
    months = [row["key"]["period"]["label"] for row in data["trend"]]
    print(f"[{label}] trend {months[0]}…{months[-1]} ({len(months)} months), "
          f"{len(data['byCounty'])} counties, {len(data['byCategory'])} categories, "
          f"city total {sum(r['count'] for r in data['trend']):,}")  # fmt: skip
    for _ in range(3):  # warm caches and the statement cache
        await raw_dashboard(engine)
        await graphql_dashboard(engine)
    for name, run in (("raw sql", raw_dashboard), ("graphql", graphql_dashboard)):
        samples = await _samples(lambda run=run: run(engine), iterations)
        print(
            f"[{label}] {name:8} p50 {statistics.median(samples):7.1f} ms   "
            f"p95 {percentile(samples, 95):7.1f} ms   ({iterations} runs)",
            flush=True,
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    configure_pii(secrets.token_bytes(32))
    if args.only != "postgres":
        async with sqlite_database() as engine:
            await measure("sqlite", engine, args.records, args.iterations)
    if args.only != "sqlite":
        url = os.environ.get("GOVHUB_BENCH_DATABASE_URL", DEFAULT_PG)
        try:
            async with postgres_database(url) as engine:
                await measure("postgres", engine, args.records, args.iterations)
        except OSError as exc:
            print(f"[postgres] skipped: {url} unreachable ({type(exc).__name__})")


if __name__ == "__main__":
    asyncio.run(main())
