"""The dashboard request at city scale: figures summary vs records vs plain GROUP BY, and what
keeping the summary current adds to a sync batch.

The request and the data are ``bench/dashboard.py``'s (5 KPIs for 三门峡市, a 12-month trend,
by county, by category; as its dashboard viewer; records over 14 months of grid codes, loaded
with COPY on PostgreSQL and executemany on SQLite — the summary triggers fire on the load as
on any write). Timed, p50/p95 over ``--iterations`` runs after three warm-up runs:

- ``summary``: the GraphQL operation as served (figures from ``record_figures``),
- ``records``: the same operation with the summary switched off (figures from ``records``),
- ``raw sql``: the four plain GROUP BY statements over the same rows, nothing mapped.

Then the triggers' cost: a batch of ``--batch`` new records inserted (executemany, as a sync's
flush writes them) in one committed transaction, then updated (a status change each) in
another, with the triggers and without them (dropped and put back inside each transaction),
then removed again; medians of three.

Run: ``.venv/bin/python bench/dashboard_scale.py --records 100000`` (SQLite and PostgreSQL),
``--records 1000000 --only postgres``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import (
    DEFAULT_PG,
    FILTER,
    QUERY_DASHBOARD,
    VIEWER,
    _records,
    _regions,
    graphql_dashboard,
    load,
    raw_dashboard,
)
from query_latency import percentile, postgres_database, sqlite_database
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import session_factory
from db.figure_summary import FIGURES, MONTHLY, use_summary
from db.migrate import upgrade
from db.models import Record
from db.models.figure_triggers import drop_statements, install_statements
from db.pii import configure_pii
from db.queries import RECORDS
from domain.enums import CaseStatus
from resolvers.dataloaders import LoaderContext
from resolvers.root import schema

QUERY_UNLINKED = QUERY_DASHBOARD.replace(
    "recordKpis(filter: $filter)",
    "recordKpis(filter: $filter, kpis: [MEDIATION_SUCCESS_RATE, PRE_SUIT_MEDIATION_SUCCESS_RATE, "
    "LITIGATION_PER_10K])",
)
"""The request without the two KPIs whose numerators are read from the links."""


async def _unlinked(engine: AsyncEngine) -> None:
    result = await schema.execute(
        QUERY_UNLINKED,
        variable_values={"filter": FILTER},
        context_value=LoaderContext(session_factory(engine), VIEWER),
    )
    assert not result.errors, result.errors


async def _summary_off(engine: AsyncEngine) -> dict[str, Any]:
    token = use_summary.set(False)
    try:
        return await graphql_dashboard(engine)
    finally:
        use_summary.reset(token)


async def _timed(run: Callable[[], Awaitable[Any]], iterations: int) -> list[float]:
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _batch(first_id: int, size: int) -> list[dict[str, Any]]:
    _, grids = _regions()
    rows = list(itertools.islice(_records(size, grids), size))
    for offset, row in enumerate(rows):
        row |= {"id": first_id + offset, "source_key": f"N{first_id + offset}"}
    return rows


async def _in_transaction(
    engine: AsyncEngine, triggers: bool, work: Callable[[AsyncConnection], Awaitable[Any]]
) -> float:
    """``work`` in a transaction of its own, committed (as a sync commits each batch), with
    or without the summary triggers (dropped and put back inside it); milliseconds."""
    dialect = engine.dialect.name
    started = time.perf_counter()
    async with engine.begin() as connection:
        if not triggers:
            for statement in drop_statements(dialect):
                await connection.execute(text(statement))
            started = time.perf_counter()
        await work(connection)
        elapsed = time.perf_counter() - started
        if not triggers:
            for statement in install_statements(dialect):
                await connection.execute(text(statement))
    return elapsed * 1000


async def _batch_cost(engine: AsyncEngine, size: int, *, triggers: bool) -> tuple[float, float]:
    """Insert ``size`` new records in one committed transaction, change each one's status in
    a second, then remove them: (insert ms, update ms), medians of three."""
    async with engine.connect() as connection:
        first_id = int(await connection.scalar(select(func.max(RECORDS.c.id))) or 0) + 1
    rows = _batch(first_id, size)
    batch = RECORDS.c.id >= first_id
    runs = []
    for _ in range(3):
        inserted = await _in_transaction(
            engine, triggers, lambda c: c.execute(insert(Record.__table__), rows)
        )
        resolved = update(Record.__table__).where(batch).values(status=CaseStatus.RESOLVED)
        updated = await _in_transaction(engine, triggers, lambda c, u=resolved: c.execute(u))
        await _in_transaction(
            engine, triggers, lambda c: c.execute(delete(Record.__table__).where(batch))
        )
        runs.append((inserted, updated))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


async def measure(label: str, engine: AsyncEngine, count: int, iterations: int, batch: int) -> None:
    await upgrade(engine)
    started = time.perf_counter()
    await load(engine, count)
    async with engine.connect() as connection:
        cells = await connection.scalar(select(func.count()).select_from(FIGURES))
        months = await connection.scalar(select(func.count()).select_from(MONTHLY))
    print(f"[{label}] loaded {count:,} records ({cells:,} finest and {months:,} monthly summary "
          f"rows) in {time.perf_counter() - started:.1f}s", flush=True)  # fmt: skip
    gc.collect()
    gc.freeze()
    summary, records = await graphql_dashboard(engine), await _summary_off(engine)
    assert summary == records, "the summary and the records disagree"
    runs: dict[str, Callable[[], Awaitable[Any]]] = {
        "summary": lambda: graphql_dashboard(engine),
        "records": lambda: _summary_off(engine),
        "raw sql": lambda: raw_dashboard(engine),
        "summary, 3 KPIs (no linked)": lambda: _unlinked(engine),
    }
    for run in runs.values():
        for _ in range(3):  # warm caches and the statement cache
            await run()
    for name, run in runs.items():
        samples = await _timed(run, iterations)
        print(
            f"[{label}] {name:28} p50 {statistics.median(samples):7.1f} ms   "
            f"p95 {percentile(samples, 95):7.1f} ms   ({iterations} runs)",
            flush=True,
        )
    if not batch:
        return
    with_insert, with_update = await _batch_cost(engine, batch, triggers=True)
    bare_insert, bare_update = await _batch_cost(engine, batch, triggers=False)
    print(
        f"[{label}] {batch:,}-record batch: insert {bare_insert:.0f} ms → {with_insert:.0f} ms "
        f"with triggers (+{with_insert - bare_insert:.0f} ms), status update {bare_update:.0f} ms "
        f"→ {with_update:.0f} ms (+{with_update - bare_update:.0f} ms)",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--batch", type=int, default=20_000, help="0: skip the trigger cost")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    configure_pii(secrets.token_bytes(32))
    if args.only != "postgres":
        async with sqlite_database() as engine:
            await measure("sqlite", engine, args.records, args.iterations, args.batch)
    if args.only != "sqlite":
        url = os.environ.get("GOVHUB_BENCH_DATABASE_URL", DEFAULT_PG)
        try:
            async with postgres_database(url) as engine:
                await measure("postgres", engine, args.records, args.iterations, args.batch)
        except OSError as exc:
            print(f"[postgres] skipped: {url} unreachable ({type(exc).__name__})")


if __name__ == "__main__":
    asyncio.run(main())
