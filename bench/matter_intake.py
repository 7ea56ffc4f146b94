"""What opening matters adds to a sync (自动立项): the five sources synced from a fresh sandbox
with linking, without the matter intake hook, with it under the default rules (records still
being handled open matters, linked records join them), and with every record opening one
(the heaviest case: a centre taking over its whole backlog), each into a fresh database.

    .venv/bin/python bench/matter_intake.py [--scale N] [--page-size N] [--database-url URL]
        [--modes none,default,all]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench.sync_resolution import fresh_database
from connectors.config import parse_sources
from connectors.registry import open_connectors
from connectors.sync import sync_source
from db.engine import session_factory
from db.matter_intake import IntakeCounts, take_in
from db.matter_workflow import MatterWorkflow
from db.models import ClockRow, Matter, MatterRecord
from db.pii import configure_pii
from db.regions import seed_regions
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import CaseStatus, SourceSystem
from domain.events import ChangedRecord
from domain.workflow.intake import IntakeRules
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig


async def measure(sb: Sandbox, url: str | None, page_size: int, mode: str) -> None:
    configs = parse_sources(render_sources_file(sb.urls, sb.credentials, page_size=page_size))
    async with fresh_database(url) as engine:
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            await seed_regions(session)
        workflow = MatterWorkflow(sessions, load_rules(), ChineseWorkingCalendar())
        rules = IntakeRules(statuses=frozenset(CaseStatus)) if mode == "all" else IntakeRules()
        intake = mode != "none"
        totals = IntakeCounts()
        spent = 0.0

        async def follow(source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
            nonlocal spent
            started = time.perf_counter()
            counts = await take_in(
                workflow, rules, [c.record_id for c in changes], source=source.value
            )
            spent += time.perf_counter() - started
            totals.opened += counts.opened
            totals.joined += counts.joined
            totals.fed_back += counts.fed_back
            totals.skipped += counts.skipped

        started = time.perf_counter()
        async with open_connectors(configs) as connectors:
            results = await asyncio.gather(*(
                sync_source(engine, sessions, c, after_linking=follow if intake else None)
                for c in connectors.values()
            ))  # fmt: skip
        synced = time.perf_counter() - started
        assert all(r.ok for r in results), [r.error for r in results]
        async with sessions() as session:
            matters = await session.scalar(select(func.count()).select_from(Matter))
            members = await session.scalar(select(func.count()).select_from(MatterRecord))
            clocks = await session.scalar(select(func.count()).select_from(ClockRow))
        records = sum(r.fetched for r in results)
        print(f"{engine.dialect.name} {mode:>7}: {synced:6.1f} s for {records:,} items; "
              f"intake {spent:5.1f} s in hooks (sum over sources); {matters:,} matters, "
              f"{members:,} records in them ({totals.joined:,} joined by links), "
              f"{clocks:,} clocks, {totals.skipped} skipped")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--database-url")
    parser.add_argument("--modes", default="none,default,all")
    args = parser.parse_args()
    configure_pii(secrets.token_bytes(32))
    async with Sandbox(SandboxConfig(base_port=0, scale=args.scale)) as sb:
        for mode in args.modes.split(","):
            await measure(sb, args.database_url, args.page_size, mode)


if __name__ == "__main__":
    asyncio.run(main())
