"""Latency of a 50-record ``records`` page through the schema vs the raw SQL behind it.

Loads 100,000 records (regions, 1–3 party mentions each) into SQLite and into a throwaway
PostgreSQL database, then times, in one process against the same database:

- ``graphql``: ``schema.execute`` of a page with region, parties (with persons) and every
  kind's own fields, a fresh per-request context each time;
- ``raw sql``: the same four statements (page with kind tables joined, regions, parties,
  persons) as hand-written SQL through the same engine, rows fetched, nothing mapped.

The two are timed one after the other in one process (``--interleave`` alternates them).

PostgreSQL comes from ``GOVHUB_BENCH_DATABASE_URL`` (default: the local test server); it is
skipped with a note when unreachable. Run: ``.venv/bin/python bench/query_latency.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from page_query import QUERY_PAGE
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine, session_factory
from db.migrate import upgrade
from db.pii import configure_pii
from domain.roles import Principal, Role
from resolvers.dataloaders import LoaderContext
from resolvers.root import GovhubSchema, general_schema, schema
from tests.integration.graphql_world import seed_world

RECORDS = 100_000
PAGE = 50
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# Centre staff over 河南 (every seeded region): the jurisdiction filter is part of what is timed.
BENCH_PRINCIPAL = Principal(sub="bench", role=Role.CENTER_STAFF, regions=("41",))



_KINDS = ("disputes", "grid_events", "police_alerts", "petitions", "court_filings")
RAW_PAGE = (
    "SELECT r.*, "  # noqa: S608 -- fixed table names
    + ", ".join(f"{t}.*" for t in _KINDS)
    + " FROM records r "
    + " ".join(f"LEFT OUTER JOIN {t} ON {t}.id = r.id" for t in _KINDS)
    + " WHERE r.deleted = false ORDER BY r.occurred_at DESC, r.id DESC LIMIT :limit"
)


def _in(name: str, values: list[Any]) -> tuple[str, dict[str, Any]]:
    params = {f"{name}{i}": v for i, v in enumerate(values)}
    return ", ".join(f":{key}" for key in params), params


async def raw_page(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        rows = (await connection.execute(text(RAW_PAGE), {"limit": PAGE + 1})).all()[:PAGE]
        ids = [row.id for row in rows]
        codes = sorted({row.region_code for row in rows if row.region_code})
        placeholders, params = _in("c", codes)
        await connection.execute(
            text(f"SELECT * FROM regions WHERE code IN ({placeholders})"),  # noqa: S608 -- bound
            params,
        )
        placeholders, params = _in("r", ids)
        parties = (
            await connection.execute(
                text(
                    "SELECT record_id, role, source_role, name, is_organisation, person_id, "  # noqa: S608
                    "id_number, phone FROM party_mentions "
                    f"WHERE record_id IN ({placeholders}) ORDER BY record_id, position"
                ),
                params,
            )
        ).all()
        person_ids = sorted({p.person_id for p in parties if p.person_id is not None})
        if person_ids:
            placeholders, params = _in("p", person_ids)
            await connection.execute(
                text(f"SELECT * FROM persons WHERE id IN ({placeholders})"),  # noqa: S608 -- bound
                params,
            )
        return len(rows)


SCHEMAS: dict[str, GovhubSchema] = {"fast": schema}


async def graphql_page(engine: AsyncEngine) -> int:
    sessions = session_factory(engine)
    result = await SCHEMAS["fast"].execute(
        QUERY_PAGE,
        variable_values={"first": PAGE},
        context_value=LoaderContext(sessions, BENCH_PRINCIPAL),
    )
    if result.errors or result.data is None:
        raise RuntimeError(f"query failed: {result.errors}")
    return len(result.data["records"]["edges"])


async def timed_pair(
    first: Callable[[], Awaitable[int]],
    second: Callable[[], Awaitable[int]],
    iterations: int,
    *,
    blocks: bool = True,
) -> tuple[list[float], list[float]]:
    """Samples of both: all of ``first``, then all of ``second`` (``blocks``, the default), or
    alternating run by run (a noisy spell on a shared machine then lands on both sides, but
    each raw run follows a GraphQL one and measures slower than it does alone)."""
    for _ in range(20):  # warm caches, pools and the statement cache
        assert await first() == PAGE
        assert await second() == PAGE
    samples: tuple[list[float], list[float]] = ([], [])
    pairs = ((first, samples[0]), (second, samples[1]))
    rounds = [[pair] * iterations for pair in pairs] if blocks else [list(pairs)] * iterations
    for round_ in rounds:
        for run, into in round_:
            started = time.perf_counter()
            await run()
            into.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


@asynccontextmanager
async def sqlite_database() -> AsyncIterator[AsyncEngine]:
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{directory}/bench.db")
        try:
            yield engine
        finally:
            await engine.dispose()


@asynccontextmanager
async def postgres_database(url: str) -> AsyncIterator[AsyncEngine]:
    """A throwaway database on the server named by ``url``, dropped afterwards."""
    name = f"govhub_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url)
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")  # type: ignore[assignment]
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(url).set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}"'))
        await admin.dispose()


async def measure(
    label: str, engine: AsyncEngine, records: int, iterations: int, *, blocks: bool
) -> None:
    await upgrade(engine)
    started = time.perf_counter()
    await seed_world(engine, records=records)
    if engine.dialect.name == "postgresql":  # fresh tables: give the planner statistics
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    print(f"[{label}] loaded {records:,} records in {time.perf_counter() - started:.1f}s")
    # As a server does after start-up: long-lived objects leave the collector's generations,
    # so a collection during a request does not walk the whole heap (p95 spikes otherwise).
    gc.collect()
    gc.freeze()
    raw, gql = await timed_pair(
        lambda: raw_page(engine), lambda: graphql_page(engine), iterations, blocks=blocks
    )
    for name, samples in (("raw sql", raw), ("graphql", gql)):
        print(
            f"[{label}] {name:8} p50 {statistics.median(samples):6.2f} ms   "
            f"p95 {percentile(samples, 95):6.2f} ms   ({iterations} runs, {PAGE}-record page)"
        )
    ratio = statistics.median(gql) / statistics.median(raw)
    print(f"[{label}] graphql/raw p50 ratio {ratio:.2f}x (goal ≤ 3x)", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=RECORDS)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="alternate raw and GraphQL run by run (default: all raw runs, then all GraphQL)",
    )
    parser.add_argument(
        "--general",
        action="store_true",
        help="time graphql-core's general execution path (GOVHUB_FAST_PATH=false)",
    )
    args = parser.parse_args()
    if args.general:
        SCHEMAS["fast"] = general_schema()
    print(f"execution path: {'general' if args.general else 'fast'}")
    configure_pii(secrets.token_bytes(32))
    if args.only != "postgres":
        async with sqlite_database() as engine:
            await measure(
                "sqlite", engine, args.records, args.iterations, blocks=not args.interleave
            )
    if args.only != "sqlite":
        url = os.environ.get("GOVHUB_BENCH_DATABASE_URL", DEFAULT_PG)
        try:
            async with postgres_database(url) as engine:
                await measure(
                    "postgres", engine, args.records, args.iterations, blocks=not args.interleave
                )
        except OSError as exc:
            print(f"[postgres] skipped: {url} unreachable ({type(exc).__name__})")


if __name__ == "__main__":
    asyncio.run(main())
