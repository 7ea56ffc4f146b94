"""Helpers for write-back tests: payloads per operation, draining the outbox, the ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.writeback.relay import OutboxRelay
from db.models import OutboxMessage
from db.outbox import Aggregate, enqueue_write
from domain.enums import SourceSystem
from domain.writeback import OPEN_STATES, DeliveryPolicy, WriteOperation
from sandbox.runner import Sandbox

FAST = DeliveryPolicy(max_attempts=40, initial_backoff=0.01, max_backoff=0.05,
                      lease_seconds=30, reconcile_reads=2, reconcile_delay=0.01, batch_size=10)

OPERATIONS = {
    SourceSystem.COURT: WriteOperation.COURT_FILING,
    SourceSystem.MEDIATION: WriteOperation.MEDIATION_REFERRAL,
    SourceSystem.GRID: WriteOperation.GRID_ASSIGN,
    SourceSystem.POLICE_110: WriteOperation.POLICE_FEEDBACK,
    SourceSystem.PETITION: WriteOperation.PETITION_RESULT,
}


def live_keys(sb: Sandbox, system: SourceSystem) -> list[str]:
    return sorted(k for k, r in sb.systems[system].store.latest.items() if not r.deleted)


def payload_for(sb: Sandbox, operation: WriteOperation, n: int) -> dict[str, Any]:
    """A payload the target accepts, the ``n``-th of its kind."""
    if operation is WriteOperation.COURT_FILING:
        return {"caseType": "民初", "cause": "民间借贷纠纷", "plaintiff": "张伟", "amount": n}
    if operation is WriteOperation.MEDIATION_REFERRAL:
        return {"summary": f"委派调解 第{n}件", "disputeType": "邻里纠纷", "regionCode": "330102"}
    if operation is WriteOperation.GRID_ASSIGN:
        return {"title": f"交办 {n}", "content": "请网格员上门核实", "deptCode": "G01"}
    if operation is WriteOperation.POLICE_FEEDBACK:
        alerts = live_keys(sb, SourceSystem.POLICE_110)
        return {"JJDBH": alerts[n % len(alerts)], "CLJG": "已转12345并调解完毕", "CLDW": "综治中心"}
    petitions = live_keys(sb, SourceSystem.PETITION)
    return {"信访件编号": petitions[n], "办理结果": "已办结", "办理单位": "区综治中心",
            "办结日期": "2026-11-30", "答复意见": "已书面答复"}


async def enqueue_many(
    sessions: async_sessionmaker[AsyncSession], sb: Sandbox, per_target: int,
    targets: tuple[SourceSystem, ...] = tuple(OPERATIONS),
) -> dict[SourceSystem, list[str]]:
    """``per_target`` writes per target, each its own matter; the references per target."""
    references: dict[SourceSystem, list[str]] = {t: [] for t in targets}
    async with sessions.begin() as session:
        for target in targets:
            operation = OPERATIONS[target]
            for n in range(per_target):
                reference = f"GH-{target.value}-{n:04d}"
                await enqueue_write(session, operation, payload_for(sb, operation, n), reference,
                                    aggregate=Aggregate("matter", f"M{target.value}{n:04d}"))
                references[target].append(reference)
    return references


async def open_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(list(OPEN_STATES))))
        return int(count or 0)


async def drain(sessions: async_sessionmaker[AsyncSession], *relays: OutboxRelay) -> None:
    """Run the relays side by side until no write is open (the test fails after 120 s)."""
    async with asyncio.timeout(120):
        while await open_count(sessions):
            handled = await asyncio.gather(*(r.run_once() for r in relays))
            if not sum(handled):
                await asyncio.sleep(0.02)


async def ledger(sb: Sandbox, system: SourceSystem) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sb.urls[system]}/_sandbox/writes")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


async def states(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with sessions() as session:
        rows = (await session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.status))).all()
    return {key: status for key, status in rows}
