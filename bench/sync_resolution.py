"""What incremental resolution costs a sync: the five sources synced from a fresh sandbox,
with person resolution and matter linking after each batch, and without (then one full run).

Each mode syncs into a fresh database (SQLite in a temporary directory, or a fresh schema of
``--database-url``'s PostgreSQL) from the same sandbox world, all five sources concurrently.

    .venv/bin/python bench/sync_resolution.py [--scale N] [--page-size N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.engine import scratch_schema, session_factory
from db.migrate import migrated_engine
from db.models import Link, PartyMention, Person
from db.pii import configure_pii
from db.regions import seed_regions
from db.resolution import resolve_all
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig


@asynccontextmanager
async def fresh_database(url: str | None) -> AsyncIterator[AsyncEngine]:
    if url is None:
        with tempfile.TemporaryDirectory() as directory:
            async with migrated_engine(f"sqlite+aiosqlite:///{directory}/bench.db") as engine:
                yield engine
        return
    async with (
        scratch_schema(url, "bench") as schema,
        migrated_engine(url, schema=schema) as engine,
    ):
        yield engine


async def measure(sb: Sandbox, url: str | None, page_size: int, resolve: bool) -> None:
    configs = parse_sources(render_sources_file(sb.urls, sb.credentials, page_size=page_size))
    async with fresh_database(url) as engine:
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await seed_regions(session)
        started = time.perf_counter()
        async with open_connectors(configs) as connectors:
            results = await asyncio.gather(
                *(sync_source(engine, sessions, c, resolve=resolve) for c in connectors.values())
            )
        synced = time.perf_counter() - started
        assert all(r.ok for r in results), [r.error for r in results]
        full = 0.0
        if not resolve:
            started = time.perf_counter()
            async with sessions.begin() as session:
                await resolve_all(session)
            full = time.perf_counter() - started
        async with sessions() as session:
            mentions = await session.scalar(select(func.count()).select_from(PartyMention))
            open_ = await session.scalar(
                select(func.count())
                .select_from(PartyMention)
                .where(PartyMention.person_id.is_(None), PartyMention.organisation_id.is_(None))
            )
            persons = await session.scalar(select(func.count()).select_from(Person))
            links = await session.scalar(select(func.count()).select_from(Link))
        records = sum(r.fetched for r in results)
        failures = sum(r.resolution_failures for r in results)
        mode = "incremental" if resolve else "sync only  "
        print(f"{mode}: sync {synced:6.1f} s for {records:,} items"
              f"{f', then resolve_all {full:.1f} s' if not resolve else ''}; "
              f"{mentions:,} mentions ({open_:,} unresolved), {persons:,} persons, "
              f"{links:,} links, {failures} failed steps")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    configure_pii(secrets.token_bytes(32))
    async with Sandbox(SandboxConfig(base_port=0, scale=args.scale)) as sb:
        for resolve in (False, True):
            await measure(sb, args.database_url, args.page_size, resolve)


if __name__ == "__main__":
    asyncio.run(main())
