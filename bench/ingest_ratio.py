"""Ingest near the hardware: a full sync's rate as a share of a plain batched INSERT of the same
rows, on PostgreSQL (入库速率与裸插入之比).

1. The sandbox runs in its own process (``govhub sandbox``), so its CPU is not the hub's.
2. ``govhub sync --full --workers N`` (1 by default) for all five sources, linking on, into a
   fresh schema: wall time, the CPU time and peak RSS of the command's processes, records per
   second.
3. The rows that sync stored (records, each kind's own rows, party mentions) are read back and
   written into a second fresh schema with plain ``executemany`` INSERTs in batches of 1,000:
   records per second. The ratio of the two rates is the figure (goal ≥ 0.3).

Each side starts once no autovacuum worker runs in the database (the wait is printed), so
neither pays for the vacuum and analyze that the other's writes set off.

Beside the sync's own CPU, where the whole machine's time went while it ran: busy and idle
core-seconds, the sandbox's share and the rest (PostgreSQL's server processes, mostly). Idle
time is what runs on fewer cores than there are (the command's start, a last source alone).

With ``--rounds N`` steps 2 and 3 run N times in turn, each round into fresh schemas (one
sandbox for all), and the median of each figure is printed after the rounds': on a shared
machine one run of either side can be 20 % off.

    .venv/bin/python bench/ingest_ratio.py [--scale 20000] [--workers N] [--rounds N]
        [--database-url URL] [--base-port N]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil
from sqlalchemy import MetaData, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import Connector
from connectors.config import parse_sources
from connectors.registry import open_connectors
from db.engine import create_engine, scratch_schema, session_factory
from db.migrate import migrated_engine
from db.models import Record
from db.pii import configure_pii
from db.regions import seed_regions
from domain.enums import SourceSystem
from domain.heap import settle_collector
from hub.demo import render_sources_file
from sandbox.runner import DEFAULT_CREDENTIALS, PORT_OFFSETS

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BASE_PORT = 19471
COPIED = ("records", "disputes", "grid_events", "police_alerts", "petitions", "court_filings",
          "persons", "organisations", "party_mentions")  # fmt: skip
"""Tables whose rows the plain INSERT writes again (parents before the rows that name them)."""


@contextlib.contextmanager
def sandbox_process(scale: int, base_port: int) -> Iterator[tuple[dict[SourceSystem, str], int]]:
    """The sandbox's five URLs and its process id, once its world is generated."""
    govhub = Path(sys.executable).with_name("govhub")
    process = subprocess.Popen(
        [str(govhub), "sandbox", "--scale", str(scale), "--base-port", str(base_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    urls = {s: f"http://127.0.0.1:{base_port + offset}" for s, offset in PORT_OFFSETS.items()}
    try:
        deadline = time.monotonic() + 600
        while True:  # the world is generated before the ports open
            try:
                for url in urls.values():
                    httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.5)
        yield urls, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


async def full_sync(
    url: str, schema: str, urls: dict[SourceSystem, str], workers: int, pii_key: bytes
) -> tuple[int, float, float, float]:
    """(records stored, wall seconds, CPU seconds, peak RSS MiB) of ``govhub sync --full``."""
    engine = create_engine(url, schema=schema)
    try:
        async with session_factory(engine).begin() as session:
            await seed_regions(session)
        with tempfile.TemporaryDirectory() as data:
            sources = Path(data) / "sources.toml"
            sources.write_text(render_sources_file(urls, DEFAULT_CREDENTIALS), encoding="utf-8")
            env = {
                **os.environ, "GOVHUB_DATABASE_URL": url, "GOVHUB_DATABASE_SCHEMA": schema,
                "GOVHUB_PII_KEY": base64.urlsafe_b64encode(pii_key).decode(),
                "GOVHUB_SOURCES_FILE": str(sources), "GOVHUB_DATA_DIR": data,
            }  # fmt: skip
            govhub = Path(sys.executable).with_name("govhub")
            command = [sys.executable, "-c", _MEASURED, str(govhub), "sync", "--full"]
            command += ["--workers", str(workers)] if workers > 1 else []
            wall = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            measured, errors = await process.communicate()
            wall = time.perf_counter() - wall
        if process.returncode != 0:
            raise RuntimeError(f"govhub sync failed: {errors.decode(errors='replace')[-3000:]}")
        cpu, rss = map(float, measured.split())
        async with engine.connect() as connection:
            stored = int(await connection.scalar(select(func.count()).select_from(Record)) or 0)
    finally:
        await engine.dispose()
    return stored, wall, cpu, rss / 1024


_MEASURED = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
sys.exit(code)
"""
"""Runs the command and prints the CPU seconds and largest peak RSS (KiB) of its processes
(it and the workers it waits for), this run's alone: a process's own count of its children
keeps the largest of every earlier round's."""


async def fetch_only(urls: dict[SourceSystem, str]) -> tuple[int, float]:
    """(items, seconds) the five connectors fetch concurrently, storing nothing."""
    configs = parse_sources(render_sources_file(urls, DEFAULT_CREDENTIALS))

    async def drain(connector: Connector) -> int:
        return sum([len(batch.items) async for batch in connector.fetch(None, full=True)])

    started = time.perf_counter()
    async with open_connectors(configs) as connectors:
        counts = await asyncio.gather(*(drain(c) for c in connectors.values()))
    return sum(counts), time.perf_counter() - started


async def plain_insert(source: AsyncEngine, target: AsyncEngine) -> tuple[int, float]:
    """(rows written, seconds) for executemany INSERTs of ``source``'s synced rows."""
    metadata = MetaData()
    async with source.connect() as connection:
        await connection.run_sync(metadata.reflect, only=list(COPIED))
        rows = {
            name: [dict(row._mapping) for row in await connection.execute(select(table))]
            for name, table in ((n, Table(n, metadata)) for n in COPIED)
        }
    # a merged person names the one it went into: those first
    rows["persons"].sort(key=lambda row: row["merged_into_id"] is not None)
    written = 0
    started = time.perf_counter()
    async with target.begin() as connection:
        for name in COPIED:
            table = Table(name, metadata)
            for start in range(0, len(rows[name]), 1000):
                chunk = rows[name][start : start + 1000]
                await connection.execute(insert(table), chunk)
                written += len(chunk)
    return written, time.perf_counter() - started


async def settled(engine: AsyncEngine, limit: float = 120.0) -> float:
    """Seconds waited until no autovacuum worker runs in the database (at most ``limit``):
    each timed side starts with the server quiet, so neither pays for the vacuum and
    analyze that the other's writes set off."""
    started = time.perf_counter()
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'autovacuum worker' AND datname = current_database()"
    )
    while time.perf_counter() - started < limit:
        async with engine.connect() as connection:
            if not await connection.scalar(query):
                break
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


def _machine() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine so far, all cores."""
    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system
    busy += sum(getattr(times, name, 0.0) for name in ("irq", "softirq", "steal"))
    return busy, times.idle + getattr(times, "iowait", 0.0)


def _cpu_of(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def one_round(
    url: str, urls: dict[SourceSystem, str], sandbox: int, workers: int, pii_key: bytes
) -> tuple[float, float, float, float]:
    """(sync wall, sync CPU, plain seconds, ratio) of one round, printed as it goes."""
    async with (
        scratch_schema(url, "bench_sync") as synced,
        migrated_engine(url, schema=synced) as engine,
        scratch_schema(url, "bench_plain") as plain,
        migrated_engine(url, schema=plain) as target,
    ):
        waited = await settled(engine)
        (busy, idle), served, own = _machine(), _cpu_of(sandbox), time.process_time()
        stored, wall, cpu, rss = await full_sync(url, synced, urls, workers, pii_key)
        busy, idle = (
            after - before for after, before in zip(_machine(), (busy, idle), strict=True)
        )
        served, own = _cpu_of(sandbox) - served, time.process_time() - own
        print(f"full sync : {stored:,} records in {wall:6.1f} s wall, {cpu:6.1f} s CPU "
              f"({stored / wall:,.0f} records/s), peak RSS {rss:,.0f} MiB "
              f"(govhub sync --full --workers {workers})", flush=True)  # fmt: skip
        rest = busy - cpu - served - own
        print(f"machine   : {busy:6.1f} s busy, {idle:6.1f} s idle over the sync "
              f"({psutil.cpu_count()} cores): the command {cpu:.1f} s, the sandbox {served:.1f} s, "
              f"this script {own:.1f} s, PostgreSQL and the rest {rest:.1f} s")  # fmt: skip
        waited += await settled(engine)
        rows, seconds = await plain_insert(engine, target)
        rate = stored / seconds
        print(f"plain     : {rows:,} rows ({stored:,} records with their kind rows, "
              f"mentions, persons) in {seconds:6.1f} s ({rate:,.0f} records/s)")  # fmt: skip
        ratio = stored / wall / rate
        print(f"ratio     : {ratio:.3f} of the plain INSERT rate (goal ≥ 0.3); "
              f"{waited:.1f} s waited for autovacuum before the two sides", flush=True)  # fmt: skip
    return wall, cpu, seconds, ratio


def _interpreter() -> str:
    """Which Python runs the sync: its build matters (on a build without profile-guided and
    link-time optimisation, pyenv's default, the sync took about a quarter longer: Makefile,
    PYTHON_CANDIDATES)."""
    return (f"{platform.python_implementation()} {platform.python_version()} "
            f"({os.path.realpath(sys.executable)}, {platform.python_compiler()})")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=1,
                        help="processes govhub sync shares the sources among")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1,
                        help="sync and plain INSERT in turn, medians printed")  # fmt: skip
    parser.add_argument("--database-url", default=os.environ.get("GOVHUB_BENCH_DATABASE_URL"))
    parser.add_argument("--base-port", type=int, default=BASE_PORT,
                        help="first of the sandbox's five ports")  # fmt: skip
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    url = args.database_url or DEFAULT_PG
    print(f"python    : {_interpreter()}", flush=True)
    settle_collector()  # as ``govhub`` does on start (hub.cli.main)
    pii_key = secrets.token_bytes(32)
    configure_pii(pii_key)
    with sandbox_process(args.scale, args.base_port) as (urls, sandbox):
        rounds = []
        for number in range(args.rounds):
            if args.rounds > 1:
                print(f"-- round {number + 1} of {args.rounds}", flush=True)
            rounds.append(await one_round(url, urls, sandbox, args.workers, pii_key))
        items, fetching = await fetch_only(urls)
        print(
            f"fetch only: {items:,} items in {fetching:6.1f} s ({items / fetching:,.0f} "
            f"items/s): what the five connectors deliver without storing",
            flush=True,
        )
    if args.rounds > 1:
        columns = zip(*rounds, strict=True)
        wall, cpu, plain, ratio = (statistics.median(column) for column in columns)
        print(f"median of {args.rounds} rounds: full sync {wall:.1f} s wall, {cpu:.1f} s CPU; "
              f"plain {plain:.1f} s; ratio {ratio:.3f} (each round's: "
              f"{', '.join(f'{r[3]:.3f}' for r in rounds)})")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
