"""The deadline scanner (时限扫描): fires each warning rung (预警) and each breach (逾期) once.

Each pass reads the running clocks whose ``next_rung_at`` has come (an index range), and for
every rung due claims it by inserting ``(clock, rung)`` into ``clock_rungs``: the primary key
lets one claim through, so a rung fires exactly once however many scanners run. A claimed
rung writes a timeline row (WARNING / OVERDUE) and, on breach of a clock whose duty falls on
an organisation, an automatic 督办 (a breached 督办 reply escalates its order instead); the
clock's ``next_rung_at`` moves on. Announcements go out after the commit. Only one replica
scans at a time (:func:`hold_lease`), which saves the others the work; correctness rests on
the claims, not on the lease.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.matter_workflow import (
    MatterWorkflow,
    announcement,
    automatic_orders,
    order_of,
    store_order,
)
from db.matters import clock_of, fired_rungs, state_of, system_event
from db.models import ClockRow, ClockRung, Lease, Matter, Supervision
from domain.deadlines import DUE, Duty
from domain.events import MatterAnnouncement, MatterEventKind
from domain.supervision import SupervisionStatus, breach_target
from domain.workflow.actors import Actor
from domain.workflow.errors import WorkflowError
from domain.workflow.vocabulary import SupervisionAction

log = structlog.get_logger(__name__)

SCANNER = "deadline-scanner"
WARNING, OVERDUE = "WARNING", "OVERDUE"


@dataclass
class ScanResult:
    clocks: int = 0
    warnings: int = 0
    breaches: int = 0
    supervised: int = 0
    announcements: list[MatterAnnouncement] = field(default_factory=list)


async def claim_rung(session: AsyncSession, clock_id: int, rung: str, due_at: datetime,
                     now: datetime, by: str) -> bool:
    """Insert the ``(clock, rung)`` claim; False when it had been claimed already."""
    values = {"clock_id": clock_id, "rung": rung, "due_at": due_at, "fired_at": now,
              "fired_by": by}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ClockRung).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an INSERT


async def scan(
    workflow: MatterWorkflow, now: datetime, *, batch: int = 500, by: str = SCANNER
) -> ScanResult:
    """One pass over the clocks whose next rung has come, ``batch`` clocks per transaction."""
    result = ScanResult()
    after = 0
    while True:
        async with workflow.sessions.begin() as session:
            rows = list(await session.scalars(
                select(ClockRow)
                .where(ClockRow.next_rung_at <= now, ClockRow.stopped_at.is_(None),
                       ClockRow.id > after)
                .order_by(ClockRow.id)
                .limit(batch)
            ))  # fmt: skip
            if not rows:
                break
            after = rows[-1].id
            fired = await fired_rungs(session, [row.id for row in rows])
            for row in rows:
                await _fire(session, workflow, row, fired[row.id], now, by, result)
        await workflow.announce(result.announcements)
        result.announcements = []
        if len(rows) < batch:
            break
    return result


async def _fire(
    session: AsyncSession,
    workflow: MatterWorkflow,
    row: ClockRow,
    fired: set[str],
    now: datetime,
    by: str,
    result: ScanResult,
) -> None:
    clock = clock_of(row)
    result.clocks += 1
    matter = await session.get(Matter, row.matter_id)
    assert matter is not None
    for rung in clock.pending_rungs(workflow.calendar, now, fired):
        if not await claim_rung(session, row.id, rung.key, rung.at, now, by):
            fired.add(rung.key)
            continue
        fired.add(rung.key)
        breach = rung.key == DUE
        kind = MatterEventKind.OVERDUE if breach else MatterEventKind.WARNING
        details = {"rule_id": row.rule_id, "rung": rung.key, "due_at": rung.at.isoformat()}
        if row.supervision_id is not None:
            details["supervision_id"] = str(row.supervision_id)
        session.add(system_event(matter.id, kind.value, now, by, matter.step, "", details))
        result.announcements.append(
            announcement(matter, kind, f"{row.rule_id}:{rung.key}", now)
        )
        if breach:
            result.breaches += 1
            await _supervise(session, workflow, matter, row, now, result)
        else:
            result.warnings += 1
    row.next_rung_at = clock.next_rung_at(workflow.calendar, fired)


async def _supervise(
    session: AsyncSession,
    workflow: MatterWorkflow,
    matter: Matter,
    row: ClockRow,
    now: datetime,
    result: ScanResult,
) -> None:
    """The automatic 督办 on a breach, or the escalation of a 督办 whose reply is late."""
    rule = workflow.rules.rules.get(row.rule_id)
    if rule is None or not rule.duty.supervised_on_breach:
        return
    try:
        if rule.duty is Duty.SUPERVISED_ORG and row.supervision_id is not None:
            stored = await session.get(Supervision, row.supervision_id)
            if stored is None or stored.status not in (SupervisionStatus.OPEN.value,):
                return
            moved = workflow.supervision.apply(
                order_of(stored, matter), SupervisionAction.ESCALATE_SUPERVISION,
                Actor.system(SCANNER), {"reason": f"逾期未回复: {rule.name}"}, now,
            )
            await store_order(session, workflow, matter, stored, moved, now)
        else:
            target = breach_target(rule, state_of(matter), "centre")
            if target is None:
                return
            prior = await automatic_orders(session, matter.id)
            moved = workflow.supervision.on_breach(state_of(matter), rule, target, prior, now)
            await store_order(session, workflow, matter, None, moved, now,
                              breach_clock_id=row.id)
    except WorkflowError as exc:  # e.g. the order closed meanwhile: the breach stays recorded
        log.warning("automatic_supervision_skipped", rule=row.rule_id, code=exc.code.value)
        return
    result.supervised += 1
    result.announcements.append(
        announcement(matter, MatterEventKind.SUPERVISED, moved.order.level.value, now)
    )


async def hold_lease(
    session_factory: Callable[[], AsyncSession],
    name: str,
    holder: str,
    now: datetime,
    ttl: timedelta,
) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; False when
    another holder's lease has not expired."""
    async with session_factory() as session, session.begin():
        taken = await session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
            .values(holder=holder, expires_at=now + ttl)
        )
        if taken.rowcount:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            return True
        existing = await session.get(Lease, name)
        if existing is not None:
            return False
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        inserted = await session.execute(
            insert(Lease).values(name=name, holder=holder, expires_at=now + ttl)
            .on_conflict_do_nothing()
        )
        return bool(inserted.rowcount)  # type: ignore[attr-defined]


async def release_lease(session_factory: Callable[[], AsyncSession], name: str,
                        holder: str) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(Lease).where(and_(Lease.name == name, Lease.holder == holder))
        )
