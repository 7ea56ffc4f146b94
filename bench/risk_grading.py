"""What risk grading costs a sync (风险研判开销): the five sources synced from a fresh sandbox
with resolution, linking and grading after each batch, the grading step timed inside the run.

Prints the sync's wall time, the seconds spent grading (summed over the five sources, which
sync concurrently), the records graded and the alerts raised. SQLite in a temporary
directory, or a fresh schema of ``--database-url``'s PostgreSQL.

    .venv/bin/python bench/risk_grading.py [--scale N] [--page-size N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select
from sync_resolution import fresh_database

from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.engine import session_factory
from db.models import RiskAssessment
from db.pii import configure_pii
from db.regions import seed_regions
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig


async def measure(sb: Sandbox, url: str | None, page_size: int) -> None:
    configs = parse_sources(render_sources_file(sb.urls, sb.credentials, page_size=page_size))
    async with fresh_database(url) as engine:
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await seed_regions(session)
        started = time.perf_counter()
        async with open_connectors(configs) as connectors:
            results = await asyncio.gather(
                *(sync_source(engine, sessions, c) for c in connectors.values())
            )
        synced = time.perf_counter() - started
        assert all(r.ok for r in results), [r.error for r in results]
        async with sessions() as session:
            graded = dict(
                (kind.value, count)
                for kind, count in await session.execute(
                    select(RiskAssessment.target_kind, func.count()).group_by(
                        RiskAssessment.target_kind
                    )
                )
            )
        grading = sum(r.grading_seconds for r in results)
        items = sum(r.fetched for r in results)
        alerts = sum(r.risk_alerts for r in results)
        failures = sum(r.grading_failures for r in results)
        print(f"sync {synced:6.1f} s for {items:,} items ({engine.dialect.name}); grading "
              f"{grading:6.1f} s summed over the sources ({grading / synced:.0%} of the wall "
              f"time, the sources overlapping); graded {graded}; {alerts} alerts; "
              f"{failures} failed steps")  # fmt: skip
        for r in results:
            print(f"  {r.source.value:<11} {r.fetched:>7,} items, {r.batches:>4} batches, "
                  f"grading {r.grading_seconds:6.2f} s")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    configure_pii(secrets.token_bytes(32))
    async with Sandbox(SandboxConfig(base_port=0, scale=args.scale)) as sb:
        await measure(sb, args.database_url, args.page_size)


if __name__ == "__main__":
    asyncio.run(main())
