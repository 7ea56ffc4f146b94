"""Write-back delivery (回写投递): throughput per target with and without write faults, the
exactly-once count from the sandbox's own ledger, and what the outbox costs a dispatch.

The sandbox runs in-process; the outbox is SQLite (a temporary file) or PostgreSQL
(``--database-url``, a throwaway schema). With ``--faults`` every system answers 20 % of
writes with a 5xx before applying, loses 15 % of answers after applying and hangs 15 %
(the relay's client times out at 0.3 s); ``--compare`` runs without and then with them.

Dispatch latency: the workflow's own 分流 step (``MatterWorkflow.apply(DISPATCH)``, what the
``dispatchMatter`` mutation calls), into 人民调解 (one outbox row in the step's transaction)
against 司法所 (no write), while every target answers 300 ms late: the step never waits for
a target, so the two differ by the row's insert only.

    .venv/bin/python bench/writeback_delivery.py [--per-target 40] [--faults | --compare]
        [--relays 2] [--dispatches 50] [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.config import parse_sources
from connectors.writeback.relay import OutboxRelay, open_writers
from db.engine import scratch_schema, session_factory
from db.matter_workflow import IntakeParty, MatterWorkflow, NewMatter
from db.migrate import migrated_engine
from db.models import OutboxMessage
from db.outbox import Aggregate, enqueue_write
from db.pii import configure_pii
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules
from domain.enums import DisputeCategory, PartyRole, SourceSystem
from domain.roles import Principal, Role
from domain.workflow.actors import Actor
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import MatterAction, MatterOrigin
from domain.writeback import OPEN_STATES, DeliveryPolicy, WriteOperation
from hub.demo import render_sources_file
from sandbox.runner import Sandbox, SandboxConfig

FAULTS = {"write_error_rate": 0.2, "write_lost_rate": 0.15, "write_timeout_rate": 0.15,
          "hang_seconds": 1.0}
POLICY = DeliveryPolicy(max_attempts=40, initial_backoff=0.01, max_backoff=0.05,
                        reconcile_delay=0.01, batch_size=20)


def payload(sb: Sandbox, operation: WriteOperation, n: int) -> dict[str, Any]:
    def keys(system: SourceSystem) -> list[str]:
        return sorted(k for k, r in sb.systems[system].store.latest.items() if not r.deleted)

    if operation is WriteOperation.COURT_FILING:
        return {"caseType": "民初", "cause": "民间借贷纠纷", "amount": n}
    if operation is WriteOperation.MEDIATION_REFERRAL:
        return {"summary": f"委派调解 {n}"}
    if operation is WriteOperation.GRID_ASSIGN:
        return {"title": f"交办 {n}", "content": "请核实"}
    if operation is WriteOperation.POLICE_FEEDBACK:
        alerts = keys(SourceSystem.POLICE_110)
        return {"JJDBH": alerts[n % len(alerts)], "CLJG": "已调解"}
    petitions = keys(SourceSystem.PETITION)
    return {"信访件编号": petitions[n % len(petitions)], "办理结果": "已办结"}


@contextlib.asynccontextmanager
async def database(url: str | None) -> AsyncIterator[AsyncEngine]:
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            async with migrated_engine(f"sqlite+aiosqlite:///{folder}/bench.db") as engine:
                yield engine
        return
    async with (scratch_schema(url, "bench_writeback") as schema,
                migrated_engine(url, schema=schema) as engine):
        yield engine


OPERATIONS = tuple(op for op in WriteOperation if op is not WriteOperation.GRID_FEEDBACK)
"""One operation per target (a grid feedback needs an event of the matter's own)."""
STAFF = Actor.of(Principal("bench", Role.CENTER_STAFF, org="centre", regions=("",)))


def percentiles(values: list[float]) -> str:
    return (f"p50 {statistics.median(values):.2f} ms, "
            f"p95 {statistics.quantiles(values, n=20)[18]:.2f} ms")


async def dispatch_latency(engine: AsyncEngine, count: int) -> dict[str, list[float]]:
    """Milliseconds of the 分流 step per track: one that writes back and one that does not."""
    workflow = MatterWorkflow(session_factory(engine), load_rules(), ChineseWorkingCalendar())
    timings: dict[str, list[float]] = {"PEOPLES_MEDIATION": [], "JUDICIAL_OFFICE": []}
    for n in range(count):
        for track, spent in timings.items():
            matter_id = await workflow.open(STAFF, NewMatter(
                OpenPayload(origin=MatterOrigin.WALK_IN, region_code="411202001",
                            category=DisputeCategory.NEIGHBOUR, title=f"基准 {n}"),
                summary="楼上漏水", parties=(IntakeParty(PartyRole.APPLICANT, "张三"),)))
            await workflow.apply(matter_id, MatterAction.ADMIT, STAFF, {})
            await workflow.apply(matter_id, MatterAction.ASSESS, STAFF, {
                "category": "NEIGHBOUR", "risk": "YELLOW", "tier": "ORDINARY",
                "lead_org": "司法所"})
            started = time.perf_counter()
            await workflow.apply(matter_id, MatterAction.DISPATCH, STAFF,
                                 {"org": "org:bench", "track": track})
            spent.append((time.perf_counter() - started) * 1000)
    return timings


async def run(args: argparse.Namespace) -> None:
    configure_pii(secrets.token_bytes(32))
    for faults in ((False, True) if args.compare else (args.faults,)):
        await run_once(args, faults=faults)


async def run_once(args: argparse.Namespace, *, faults: bool) -> None:
    async with (Sandbox(SandboxConfig(base_port=0, scale=max(600, args.per_target * 25))) as sb,
                database(args.database_url) as engine):
        sessions = session_factory(engine)
        if args.dispatches:
            async with httpx.AsyncClient() as client:
                for url in sb.urls.values():  # slow targets: a dispatch must not notice
                    await client.post(f"{url}/_sandbox/control", json={"latency_ms": 300})
            dispatch_ms = await dispatch_latency(engine, args.dispatches)
            async with sessions.begin() as session:  # the benchmark's own writes follow
                await session.execute(OutboxMessage.__table__.delete())
            async with httpx.AsyncClient() as client:
                for url in sb.urls.values():
                    await client.post(f"{url}/_sandbox/control", json={"latency_ms": 0})
        if faults:
            async with httpx.AsyncClient() as client:
                for url in sb.urls.values():
                    await client.post(f"{url}/_sandbox/control", json=FAULTS)
        enqueue_ms: list[float] = []
        for operation in OPERATIONS:
            for n in range(args.per_target):
                started = time.perf_counter()
                async with sessions.begin() as session:  # a dispatch's own transaction
                    await enqueue_write(session, operation, payload(sb, operation, n),
                                        f"B-{operation.target.value}-{n}",
                                        aggregate=Aggregate("matter", f"M{n}"))
                enqueue_ms.append((time.perf_counter() - started) * 1000)
        # a breaker tuned for the injected fault rate (50 %): it opens on a real outage only
        tuning = ("\nbreaker = { threshold = 20, cooldown_seconds = 1 }"
                  "\nretry = { attempts = 3, initial_wait = 0.01, max_wait = 0.05 }\ncredentials")
        document = render_sources_file(sb.urls, sb.credentials).replace(
            "timeout_seconds = 10", "timeout_seconds = 0.3").replace("\ncredentials", tuning)
        configs = parse_sources(document)
        finished: dict[SourceSystem, float] = {}
        async with contextlib.AsyncExitStack() as stack:
            relays = [OutboxRelay(sessions, await stack.enter_async_context(open_writers(configs)),
                                  POLICY, worker=f"bench-{i}") for i in range(args.relays)]
            started = time.perf_counter()

            async def target_loop(target: SourceSystem) -> None:
                while True:
                    handled = await asyncio.gather(*(r.drain(target) for r in relays))
                    async with sessions() as session:
                        open_rows = await session.scalar(
                            select(func.count()).select_from(OutboxMessage).where(
                                OutboxMessage.target == target,
                                OutboxMessage.status.in_(list(OPEN_STATES))))
                    if not open_rows:
                        finished[target] = time.perf_counter() - started
                        return
                    if not sum(handled):
                        await asyncio.sleep(0.02)

            await asyncio.gather(*(target_loop(t) for t in SourceSystem))
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"{backend}, {args.per_target} writes per target, faults "
              f"{'on' if faults else 'off'}, {args.relays} relay(s)")
        print(f"enqueue + commit (the outbox row alone): {percentiles(enqueue_ms)}")
        if args.dispatches:
            print(f"dispatch step, targets 300 ms late, {args.dispatches} each: "
                  f"with a write-back (人民调解) {percentiles(dispatch_ms['PEOPLES_MEDIATION'])}; "
                  f"without (司法所) {percentiles(dispatch_ms['JUDICIAL_OFFICE'])}")
        async with httpx.AsyncClient() as client:
            for target in SourceSystem:
                book = (await client.get(f"{sb.urls[target]}/_sandbox/writes")).json()
                injected = sb.systems[target].faults.injected
                faults = sum(v for k, v in injected.items() if k.startswith("write_"))
                print(f"  {target.value:11s} {args.per_target / finished[target]:7.1f} writes/s"
                      f"  applied {book['distinct']:4d} distinct, {book['duplicates']} duplicates,"
                      f" {faults} write faults injected")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-target", type=int, default=40)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--compare", action="store_true", help="without faults, then with")
    parser.add_argument("--dispatches", type=int, default=30,
                        help="matters per track for the dispatch latency (0: skip)")
    parser.add_argument("--relays", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
