"""What the sync's resolution passes cost with the new mentions handed over as ingest wrote
them, against reading them back (新提及直传与回读之比).

The five sources of a sandbox (``--scale``, 20,000 by default) are fetched and parsed once.
Then, in turn, each mode ingests the same batches into a fresh PostgreSQL schema and resolves
every 1,000 changed records of a source, as ``govhub sync`` does: ``read back`` resolves as
before (the mentions read again and their sealed values opened), ``handed over`` passes the
batches' ``IngestCounts.mentions``. Printed per run: the mentions resolved, and the CPU the
resolution passes alone took in this process and in its PostgreSQL session.

(No statistics refresh runs between batches here, unlike a real sync: the re-linking reads
plan for small tables, so the PostgreSQL figures are larger than in a sync; both modes pay
that alike.)

    .venv/bin/python bench/resolution_handover.py [--scale 20000] [--rounds 3]
        [--database-url URL] [--base-port N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from ingest_ratio import BASE_PORT, DEFAULT_PG, sandbox_process
from sqlalchemy import text

from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import RESOLVE_EVERY, parse_items
from db.engine import scratch_schema, session_factory
from db.ingest import ingest_records
from db.linking_facts import MentionRow
from db.migrate import migrated_engine
from db.pii import configure_pii
from db.regions import seed_regions
from db.resolution import resolve_new_mentions
from domain.enums import SourceSystem
from domain.records import ParsedRecord
from hub.demo import render_sources_file
from sandbox.runner import DEFAULT_CREDENTIALS

Pages = dict[SourceSystem, list[list[ParsedRecord]]]


async def fetch_all(urls: dict[SourceSystem, str]) -> Pages:
    """Every source's batches, parsed (dead letters left out)."""
    configs = parse_sources(render_sources_file(urls, DEFAULT_CREDENTIALS))
    pages: Pages = {}
    async with open_connectors(configs) as connectors:
        for source, connector in connectors.items():
            pages[source] = [
                parse_items(connector, batch)[0] async for batch in connector.fetch(None, full=True)
            ]
    return pages


async def one_run(url: str, pages: Pages, handed: bool) -> tuple[int, float, float]:
    """(mentions resolved, this process's CPU seconds, its PostgreSQL session's) of the
    resolution passes of one load into a fresh schema."""
    async with (
        scratch_schema(url, "bench_handover") as schema,
        migrated_engine(url, schema=schema) as engine,
    ):
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await seed_regions(session)
        resolved, own, server = 0, 0.0, 0.0
        for source, batches in pages.items():
            pending: set[int] = set()
            fresh: dict[int, MentionRow] = {}
            for batch in [*batches, None]:
                if batch:
                    async with sessions.begin() as session:
                        counts = await ingest_records(session, batch)
                    pending.update(counts.changed_ids)
                    fresh.update((m.mention_id, m) for m in counts.mentions)
                if not pending or (batch is not None and len(pending) < RESOLVE_EVERY):
                    continue
                async with sessions.begin() as session:
                    pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                    backend = psutil.Process(pid)
                    server_before, own_before = sum(backend.cpu_times()[:2]), time.process_time()
                    counts_of_pass = await resolve_new_mentions(
                        session, source=source, relink=pending, fresh=fresh if handed else None
                    )
                    own += time.process_time() - own_before
                    server += sum(backend.cpu_times()[:2]) - server_before
                resolved += counts_of_pass.mentions
                pending.clear()
                fresh.clear()
        return resolved, own, server


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--base-port", type=int, default=BASE_PORT)
    args = parser.parse_args()
    configure_pii(os.urandom(32))
    with sandbox_process(args.scale, args.base_port) as (urls, _):
        pages = await fetch_all(urls)
    for _ in range(args.rounds):
        for handed in (False, True):
            resolved, own, server = await one_run(args.database_url, pages, handed)
            mode = "handed over" if handed else "read back  "
            print(f"{mode}: {resolved:,} mentions resolved; the passes' CPU: this process "
                  f"{own:.2f} s, PostgreSQL {server:.2f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
