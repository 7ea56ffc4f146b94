"""What the deadline scanner costs over many open clocks (时限扫描): 100,000 running clocks on
10,000 matters; a pass with a share of them past due (each fires warn50, warn80 and due: the
timeline rows, an audit row each, and a 督办 per breach), a pass with nothing new due (the
index range only), a pass with every clock past its first warning, and one more with nothing
new.

Each run uses a fresh database (SQLite in a temporary directory, or a fresh schema of
``--database-url``'s PostgreSQL).

    .venv/bin/python bench/deadline_scanner.py [--clocks N] [--due-share F] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from bench.sync_resolution import fresh_database
from db.deadline_scanner import scan
from db.engine import session_factory
from db.matter_workflow import MatterWorkflow
from db.matters import write_clock
from db.models import AuditEntry, ClockRow, Matter, MatterEvent, Supervision
from db.pii import configure_pii
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import Clock, load_rules
from domain.enums import CaseStatus, DisputeCategory, RiskLevel
from domain.workflow.vocabulary import DispatchTrack, MatterOrigin, MatterStep

START = datetime(2025, 3, 3, 2, tzinfo=UTC)
RULE = "mediation.people"  # 30 calendar days, warnings at 50 % and 80 %, duty on the assignee
CLOCKS_PER_MATTER = 10


async def seed(workflow: MatterWorkflow, clocks: int, due_share: float) -> None:
    """``clocks`` running clocks; ``due_share`` of them started 40 days before the others."""
    matters = max(1, clocks // CLOCKS_PER_MATTER)
    calendar, rule = workflow.calendar, workflow.rules[RULE]
    template: dict[bool, dict[str, object]] = {}
    for early in (False, True):
        row = ClockRow()
        write_clock(row, Clock.start(rule, START - timedelta(days=40 if early else 0)), calendar)
        template[early] = {
            c.name: getattr(row, c.name) for c in ClockRow.__table__.columns if c.name != "id"
        }
    async with workflow.sessions.begin() as session:
        await session.execute(insert(Matter), [
            {"id": i + 1, "number": f"411202-2025-{i + 1:06d}", "title": "基准", "summary": None,
             "origin": MatterOrigin.GRID_EVENT, "category": DisputeCategory.NEIGHBOUR,
             "region_code": "411202001", "risk": RiskLevel.NONE, "tier": None, "lead_org": None,
             "assigned_org": "org:bench", "track": DispatchTrack.PEOPLES_MEDIATION,
             "step": MatterStep.IN_PROGRESS, "status": CaseStatus.IN_PROGRESS, "result": None,
             "outcome": None, "satisfaction": None, "suspended": False,
             "running_clocks": {RULE: 0}, "version": 1, "opened_by": "bench",
             "opened_at": START, "updated_at": START, "closed_at": None}
            for i in range(matters)
        ])  # fmt: skip
        early_every = round(1 / due_share) if due_share > 0 else 0
        rows = [
            {**template[bool(early_every) and n % early_every == 0],
             "matter_id": n % matters + 1, "supervision_id": None}
            for n in range(clocks)
        ]  # fmt: skip
        for start in range(0, len(rows), 5000):
            await session.execute(insert(ClockRow), rows[start : start + 5000])


async def measure(url: str | None, clocks: int, due_share: float) -> None:
    async with fresh_database(url) as engine:
        workflow = MatterWorkflow(session_factory(engine), load_rules(), ChineseWorkingCalendar())
        started = time.perf_counter()
        await seed(workflow, clocks, due_share)
        seeded = time.perf_counter() - started
        passes = [
            (f"{due_share:.0%} past due", START + timedelta(hours=12)),
            ("nothing new due", START + timedelta(days=2)),
            ("all past warn50", START + timedelta(days=16, hours=12)),
            ("nothing new due", START + timedelta(days=17)),
        ]
        name = engine.dialect.name
        print(f"{name}: {clocks:,} running clocks on {clocks // CLOCKS_PER_MATTER:,} matters "
              f"seeded in {seeded:.1f} s")  # fmt: skip
        for label, now in passes:
            started = time.perf_counter()
            result = await scan(workflow, now, batch=1000)
            took = time.perf_counter() - started
            print(f"  {label:24s} {took:7.2f} s  clocks read {result.clocks:>7,}  warnings "
                  f"{result.warnings:>7,}  breaches {result.breaches:>6,}  督办 "
                  f"{result.supervised:>6,}")  # fmt: skip
        async with workflow.sessions() as session:
            events = await session.scalar(select(func.count()).select_from(MatterEvent))
            orders = await session.scalar(select(func.count()).select_from(Supervision))
            audited = await session.scalar(select(func.count()).select_from(AuditEntry))
        print(f"  timeline rows {events:,}, supervision orders {orders:,}, audit rows "
              f"{audited:,}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.05)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    configure_pii(secrets.token_bytes(32))
    await measure(args.database_url, args.clocks, args.due_share)


if __name__ == "__main__":
    asyncio.run(main())
