"""An incremental sync of 1,000 changes into a large database (大库增量同步), on PostgreSQL.

1. A sandbox world of ``--scale`` records is synced in full into a fresh schema (linking on).
2. The database is grown to about ``--records`` records by copying what that sync stored —
   records, kind rows, persons, organisations, party mentions with their blocking keys,
   links — under new keys and ids, in SQL. The copied people live in the same counties under
   the same names, so the blocks a new mention is compared in are as dense as in a city that
   size; but each copy is other people: its persons and organisations are its own (a copied
   mention names the copied person or organisation, not the original), with blind indexes of
   their own for ID numbers and phones (the sealed plaintext stays the original's: matching
   reads only the indexes), and an organisation copy has a credit code of its own in the
   same county and a name of its own. A copied record's own numbers (接警单编号, 案号) and
   the numbers it cites are its own too, as its key is. Otherwise every copy of a company's
   records would be that one company's, every copied mediation case would cite the one
   original 110 alert, and a change to one of them would re-link and re-grade them all.
3. The sandbox changes ``--changes`` records (new ones, updates, deletions) spread over the
   five sources, and an incremental sync of the five takes them in: wall and CPU time, split
   into storing the batches (入库), person and organisation resolution (人员归一), matter
   linking (事项关联: scoring the changed records' neighbourhoods and storing the links) and
   risk grading (风险研判), each timed once it holds its lock. Resolution and matter linking
   run one at a time under the linking lock, grading under the grading lock; storing overlaps
   them (the five sources run together), and so does one source's grading another's
   resolution, so a step's CPU time also holds what other sources did while it waited for
   the database.

    .venv/bin/python bench/incremental_sync.py [--scale 5000] [--records 1000000] \\
        [--changes 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import connectors.sync
import db.resolution
from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import RunResult, sync_source
from db.engine import scratch_schema, session_factory
from db.migrate import migrated_engine
from db.pii import configure_pii
from db.regions import seed_regions
from domain.enums import SourceSystem
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
KIND_TABLES = ("disputes", "grid_events", "police_alerts", "petitions", "court_filings")
REFERENCES = ("alert_number", "case_number", "mediation_case_number",
              "judicial_confirmation_case_number", "cited_case_number")  # fmt: skip
"""A kind row's own number and the numbers it cites: a copy's are its own, as its key is."""


async def sync_all(engine: AsyncEngine, sandbox: Sandbox, *, full: bool) -> list[RunResult]:
    configs = parse_sources(render_sources_file(sandbox.urls, sandbox.credentials))
    sessions = session_factory(engine)
    async with open_connectors(configs) as connectors:
        results = await asyncio.gather(
            *(sync_source(engine, sessions, c, full=full) for c in connectors.values())
        )
    assert all(r.ok for r in results), [r.error for r in results]
    return list(results)


async def _columns(connection: AsyncConnection, table: str) -> list[str]:
    rows = await connection.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = :t ORDER BY ordinal_position"
        ),
        {"t": table},
    )
    return [name for (name,) in rows]


async def _copy(
    connection: AsyncConnection, table: str, shifted: dict[str, str], where: str
) -> None:
    """INSERT ... SELECT of ``table``'s rows matching ``where``, ``shifted`` columns rewritten."""
    columns = await _columns(connection, table)
    if not columns:  # a table this version of the schema does not have
        return
    select_list = ", ".join(shifted.get(c, c) for c in columns)
    await connection.execute(text(
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 -- fixed names
        f"SELECT {select_list} FROM {table} WHERE {where}"
    ))  # fmt: skip


async def _max_ids(connection: AsyncConnection) -> dict[str, int]:
    return {
        t: int((await connection.scalar(text(f"SELECT coalesce(max(id), 0) FROM {t}"))) or 0)  # noqa: S608 -- fixed names
        for t in ("records", "persons", "organisations", "party_mentions", "links")
    }


def _other(column: str, round_: int) -> str:
    """SQL for a blind index (40 hex digits) of the copy's own, the same for a person and
    its mentions: the copy is someone else, whom a new mention's ID number does not find."""
    return (
        f"left(encode(sha256(convert_to({column} || '~{round_}', 'UTF8')), 'hex'), 40)"
    )


def _other_code(column: str, round_: int) -> str:
    """SQL for a credit code of the copy's own in the same county (characters 3-8 kept)."""
    return (
        f"CASE WHEN coalesce({column}, '') = '' THEN {column} ELSE substr({column}, 1, 8) "
        f"|| upper(substr(md5({column} || '~{round_}'), 1, 10)) END"
    )


async def _double(engine: AsyncEngine, round_: int, records_wanted: int) -> None:
    """Copy the records with the lowest ids (up to ``records_wanted`` of them, all at most),
    with their kind rows, mentions, blocking keys and links, and all persons and
    organisations."""
    async with engine.begin() as connection:
        top = await _max_ids(connection)
        r, p, m, n = top["records"], top["persons"], top["party_mentions"], top["links"]
        o = top["organisations"]
        bound = int(await connection.scalar(text(
            "SELECT coalesce(max(id), 0) FROM (SELECT id FROM records ORDER BY id LIMIT :n) t"
        ), {"n": records_wanted}) or 0)  # fmt: skip
        await _copy(connection, "records", {
            "id": f"id + {r}", "source_key": f"source_key || '~{round_}'",
            "address": f"address || '~{round_}'",  # another home: no same-place pile-up
        }, f"id <= {bound}")  # fmt: skip
        for kind in KIND_TABLES:
            await _copy(connection, kind, {"id": f"id + {r}", **{
                column: f"{column} || '~{round_}'" for column in REFERENCES
            }}, f"id <= {bound}")  # fmt: skip
        await _copy(connection, "persons", {
            "id": f"id + {p}", "merged_into_id": f"merged_into_id + {p}",
            "id_number_index": _other("id_number_index", round_),
            "phone_index": _other("phone_index", round_),
        }, f"id <= {p}")  # fmt: skip
        await _copy(connection, "organisations", {
            "id": f"id + {o}", "uscc": _other_code("uscc", round_),
            "name": f"left('{round_}' || name, 128)",
        }, f"id <= {o}")  # fmt: skip
        await _copy(connection, "party_mentions", {
            "id": f"id + {m}", "record_id": f"record_id + {r}", "person_id": f"person_id + {p}",
            "organisation_id": f"organisation_id + {o}",
            "name": f"CASE WHEN organisation_id IS NULL THEN name "
                    f"ELSE left('{round_}' || name, 128) END",
            "uscc": _other_code("uscc", round_),
            "id_number_index": _other("id_number_index", round_),
            "phone_index": _other("phone_index", round_),
            "address": f"address || '~{round_}'",
        }, f"record_id <= {bound}")  # fmt: skip
        await _copy(connection, "person_blocking_keys", {
            "mention_id": f"mention_id + {m}",
        }, f"mention_id IN (SELECT id FROM party_mentions WHERE record_id <= {bound})")  # fmt: skip  # noqa: S608
        await _copy(connection, "links", {
            "id": f"id + {n}", "from_record_id": f"from_record_id + {r}",
            "to_record_id": f"to_record_id + {r}",
        }, f"from_record_id <= {bound} AND to_record_id <= {bound}")  # fmt: skip
        for table in top:
            await connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            ))  # fmt: skip


async def grow(engine: AsyncEngine, target: int) -> int:
    """Double the stored world (the last round partly) until ``target`` records; returns
    the records held."""
    round_ = 0
    while True:
        async with engine.begin() as connection:
            held = int((await connection.scalar(text("SELECT count(*) FROM records"))) or 0)
        if held >= target or held == 0:
            break
        round_ += 1
        await _double(engine, round_, target - held)
        # as autovacuum keeps a database that grew over time: each round's copies are planned
        # with statistics of the last round, not of the first sync's few thousand records
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        print(f"  round {round_}: {min(2 * held, target):,} records", flush=True)
    return held


class Steps:
    """Wall and CPU time spent in each step of a sync, by wrapping the functions that run it
    (a step nested in another, matter linking within resolution, is taken out of it)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        # per task (the sources run together): the time of the steps nested in this one
        self._nested: ContextVar[list[float] | None] = ContextVar("nested", default=None)

    def wrap(self, module: Any, name: str, step: str) -> None:
        original: Callable[..., Awaitable[Any]] = getattr(module, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            outer = self._nested.get()
            nested = [0.0, 0.0]
            token = self._nested.set(nested)
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                self._nested.reset(token)
                self.wall[step] = self.wall.get(step, 0.0) + wall - nested[0]
                self.cpu[step] = self.cpu.get(step, 0.0) + cpu - nested[1]
                if outer is not None:
                    outer[0] += wall
                    outer[1] += cpu

        setattr(module, name, timed)

    def report(self) -> str:
        return ", ".join(
            f"{step} {self.wall[step]:.1f} s wall / {self.cpu[step]:.1f} s CPU"
            for step in self.wall
        )


def time_steps() -> Steps:
    steps = Steps()
    steps.wrap(connectors.sync, "_store_batch", "storing")
    steps.wrap(connectors.sync, "resolve_new_mentions", "resolution")
    steps.wrap(db.resolution, "link_records", "matter linking")
    steps.wrap(connectors.sync, "grade_touched", "grading")
    return steps


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=5000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("GOVHUB_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    url = args.database_url or DEFAULT_PG
    configure_pii(secrets.token_bytes(32))
    async with (
        Sandbox(SandboxConfig(scale=args.scale, base_port=0)) as sandbox,
        scratch_schema(url, "bench_incr") as schema,
        migrated_engine(url, schema=schema) as engine,
    ):
        async with session_factory(engine).begin() as session:
            await seed_regions(session)
        started = time.perf_counter()
        await sync_all(engine, sandbox, full=True)
        print(f"full sync : scale {args.scale:,} in {time.perf_counter() - started:6.1f} s")
        started = time.perf_counter()
        held = await grow(engine, args.records)
        print(f"grown     : {held:,} records in {time.perf_counter() - started:6.1f} s")
        systems = list(SourceSystem)
        for index, system in enumerate(systems):
            share = args.changes // len(systems) + (index < args.changes % len(systems))
            sandbox.mutate(system, share)
        steps = time_steps()
        wall, cpu = time.perf_counter(), time.process_time()
        results = await sync_all(engine, sandbox, full=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        changed = sum(r.counts.inserted + r.counts.updated + r.counts.deleted for r in results)
        grading = sum(r.grading_seconds for r in results)
        print(f"increment : {changed:,} changes into {held:,} records in {wall:6.1f} s wall, "
              f"{cpu:6.1f} s CPU (sandbox in-process), {grading:5.1f} s risk grading")  # fmt: skip
        print(f"  steps   : {steps.report()}")


if __name__ == "__main__":
    asyncio.run(main())
