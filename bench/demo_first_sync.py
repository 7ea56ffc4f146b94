"""The first sync of ``govhub demo``: seconds per source from a fresh sandbox into a fresh
embedded database, as the demo runs it (all five sources at once, its page size, person
resolution and linking after each batch).

    .venv/bin/python bench/demo_first_sync.py [--scale N] [--seed N] [--profile clean]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import RunResult, sync_source
from db.engine import session_factory
from db.migrate import migrated_engine
from db.pii import configure_pii
from db.regions import seed_regions
from domain.enums import SourceSystem
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig


async def first_sync(config: SandboxConfig) -> None:
    configure_pii(secrets.token_bytes(32))
    async with Sandbox(config) as sb:
        configs = parse_sources(render_sources_file(sb.urls, sb.credentials))
        with tempfile.TemporaryDirectory() as directory:
            async with migrated_engine(f"sqlite+aiosqlite:///{directory}/demo.db") as engine:
                sessions = session_factory(engine)
                async with sessions.begin() as session:
                    await seed_regions(session)
                started = time.perf_counter()
                async with open_connectors(configs) as connectors:

                    async def timed(source: SourceSystem) -> tuple[RunResult, float]:
                        result = await sync_source(engine, sessions, connectors[source])
                        return result, time.perf_counter() - started

                    timings = await asyncio.gather(*(timed(s) for s in connectors))
                total = time.perf_counter() - started
    print(f"first sync, scale {config.scale}, profile {config.profile}:")
    for result, seconds in timings:
        print(f"  {result.source.value:<11} {seconds:6.1f} s  {result.fetched:5d} items in "
              f"{result.batches:3d} batches  {result.status}")  # fmt: skip
    print(f"  {'all':<11} {total:6.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", default="clean")
    args = parser.parse_args()
    config = SandboxConfig(seed=args.seed, scale=args.scale, base_port=0, profile=args.profile)
    asyncio.run(first_sync(config))


if __name__ == "__main__":
    main()
