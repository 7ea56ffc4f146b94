"""The deadline scanner (时限扫描): fires each warning rung (预警) and each breach (逾期) once.

Each pass reads the running clocks whose ``next_rung_at`` has come (an index range), and for
every rung due claims it by inserting ``(clock, rung)`` into ``clock_rungs``: the primary key
lets one claim through, so a rung fires exactly once however many scanners run. A claimed
rung writes a timeline row (WARNING / OVERDUE) and, on breach of a clock whose duty falls on
an organisation, an automatic 督办 (a breached 督办 reply escalates its order instead, unless
it is 挂牌督办 from a province already: it stays open, its breach on the timeline); the
clock's ``next_rung_at`` moves on.

A matter opened from a synced record runs its clocks from the source's own dates, so a
backlog record (积压件) can have rungs that had passed before govhub took it in (the ORIGIN
record's ``attached_at``). Such a breach is still fired — the OVERDUE row (with
``before_intake``), the announcement, the audit row, the re-grading — so the matter shows as
overdue; but it issues no automatic 督办: nobody at the centre could have acted in time, and a
first load of a source's backlog would otherwise pour one order per old record onto the
departments at once (staff 督办 what they choose). A warning rung that had passed before the
intake is claimed without a row (no one can heed it now). Rungs after the intake fire as for
any matter. Announcements go out after the commit, and the matters
breached are re-graded (风险研判: overdue is YELLOW, twice or 挂牌督办 RED). Every firing and
every automatic 督办 is also an audit row (:mod:`db.matter_audit`, principal
``system:<scanner>``) in the same transaction. Only one replica
scans at a time (:func:`hold_lease`), which saves the others the work; correctness rests on
the claims, not on the lease.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.matter_audit import SystemAudit
from db.matter_workflow import (
    MatterWorkflow,
    announcement,
    automatic_orders,
    order_of,
    store_order,
)
from db.matters import clock_of, fired_rungs, state_of
from db.models import Base, ClockRow, Lease, Matter, MatterRecord, Supervision
from db.queries import insert_for
from domain.deadlines import DUE, Duty
from domain.enums import RecordKind
from domain.events import MatterAnnouncement, MatterEventKind
from domain.supervision import SupervisionStatus, breach_target, escalated
from domain.workflow.actors import Actor
from domain.workflow.errors import WorkflowError
from domain.workflow.vocabulary import OPEN_STEPS, ActorKind, MatterStep, SupervisionAction

log = structlog.get_logger(__name__)

SCANNER = "deadline-scanner"


@dataclass
class ScanResult:
    clocks: int = 0
    warnings: int = 0
    breaches: int = 0
    supervised: int = 0
    backlog_breaches: int = 0
    """Breaches whose due instant had passed before govhub took the matter in: recorded,
    not supervised automatically."""
    announcements: list[MatterAnnouncement] = field(default_factory=list)
    breached_matters: set[int] = field(default_factory=set)
    """Matters a breach fired on in the current batch: re-graded after its commit."""


async def claim_rungs(
    session: AsyncSession,
    wanted: Sequence[tuple[int, str, datetime]],
    now: datetime,
    by: str,
) -> set[tuple[int, str]]:
    """Insert the ``(clock, rung)`` claims; returns those this call won (the others had been
    claimed already, by an earlier pass or another replica)."""
    if not wanted:
        return set()
    rungs = Base.metadata.tables["clock_rungs"]
    statement = (
        insert_for(session)(rungs)
        .on_conflict_do_nothing()
        .returning(rungs.c.clock_id, rungs.c.rung)
    )
    params = [
        {"clock_id": c, "rung": r, "due_at": at, "fired_at": now, "fired_by": by}
        for c, r, at in wanted
    ]
    # one statement, sent in batches by SQLAlchemy ("insertmanyvalues"), compiled once
    connection = await session.connection()
    claimed = await connection.execute(statement, params)
    return {(c, r) for c, r in claimed}


async def scan(
    workflow: MatterWorkflow, now: datetime, *, batch: int = 1000, by: str = SCANNER
) -> ScanResult:
    """One pass over the clocks whose next rung has come, ``batch`` clocks per transaction."""
    result = ScanResult()
    previous: list[int] = []
    while True:
        async with workflow.sessions.begin() as session:
            # A clock fired here moves its next rung past ``now`` and so leaves this range:
            # each batch is the head of the index, no offset or sort needed.
            rows = list(await session.scalars(
                select(ClockRow)
                .where(ClockRow.next_rung_at <= now, ClockRow.stopped_at.is_(None))
                .order_by(ClockRow.next_rung_at, ClockRow.id)
                .limit(batch)
            ))  # fmt: skip
            ids = [row.id for row in rows]
            if not rows or ids == previous:  # nothing left, or nothing this pass can move
                break
            previous = ids
            await _fire_batch(session, workflow, rows, now, by, result)
        await workflow.announce(result.announcements)
        result.announcements = []
        await workflow.grade(result.breached_matters)  # never raises
        result.breached_matters = set()
        if len(rows) < batch:
            break
    return result


async def _fire_batch(
    session: AsyncSession,
    workflow: MatterWorkflow,
    rows: list[ClockRow],
    now: datetime,
    by: str,
    result: ScanResult,
) -> None:
    """Claim every pending rung of ``rows`` at once, then write what the claims won: timeline
    rows, 督办 on breach, and each clock's next rung. The clock rows are only read here (their
    ``next_rung_at`` is written with one statement), so the session stays cheap to flush."""
    calendar = workflow.calendar
    fired = await fired_rungs(session, [row.id for row in rows])
    matters = {
        m.id: m for m in await session.scalars(
            select(Matter).where(Matter.id.in_({row.matter_id for row in rows}))
        )
    }  # fmt: skip
    schedules = {row.id: clock_of(row).schedule(calendar) for row in rows}
    wanted = [
        (row.id, rung.key, rung.at)
        for row in rows
        for rung in schedules[row.id].rungs
        if rung.at <= now and rung.key not in fired[row.id]
    ]
    won = await claim_rungs(session, wanted, now, by)
    taken_in = await _taken_in(session, matters)
    audit = SystemAudit(Actor.system(by).sub)
    result.clocks += len(rows)
    by_id = {row.id: row for row in rows}
    events: list[dict[str, Any]] = []
    breached: list[ClockRow] = []
    for clock_id, key, at in wanted:
        fired[clock_id].add(key)
        if (clock_id, key) not in won:
            continue
        row = by_id[clock_id]
        matter = matters[row.matter_id]
        kind = MatterEventKind.OVERDUE if key == DUE else MatterEventKind.WARNING
        before_intake = matter.id in taken_in and at < taken_in[matter.id]
        if before_intake and key != DUE:
            continue  # a warning about a moment before govhub knew of the record
        details = {"rule_id": row.rule_id, "rung": key, "due_at": at.isoformat()}
        if before_intake:
            details["before_intake"] = "true"
        if row.supervision_id is not None:
            details["supervision_id"] = str(row.supervision_id)
        events.append({
            "matter_id": matter.id, "action": kind.value, "at": now,
            "actor_kind": ActorKind.SYSTEM, "actor_sub": by, "actor_role": None,
            "actor_org": "", "from_step": matter.step, "to_step": matter.step, "note": "",
            "details": details,
        })  # fmt: skip
        result.announcements.append(announcement(matter, kind, f"{row.rule_id}:{key}", now))
        audit.add(kind.value, matter, {"rule": row.rule_id, "rung": key, "dueAt": at.isoformat(),
                                       "org": matter.assigned_org or ""})
        if key == DUE:
            result.breaches += 1
            result.breached_matters.add(row.matter_id)
            if before_intake:
                result.backlog_breaches += 1
            else:
                breached.append(row)
        else:
            result.warnings += 1
    if events:
        await session.execute(insert(Base.metadata.tables["matter_events"]), events)
    if breached:
        prior = await automatic_orders(session, {row.matter_id for row in breached})
        for row in breached:
            await _supervise(session, workflow, matters[row.matter_id], row, now, result, prior,
                             audit)
    moves = [
        {"clock_id": row.id, "next": min(
            (r.at for r in schedules[row.id].rungs if r.key not in fired[row.id]), default=None
        )}
        for row in rows
    ]  # fmt: skip
    clocks = Base.metadata.tables["clocks"]
    await session.execute(
        update(clocks).where(clocks.c.id == bindparam("clock_id"))
        .values(next_rung_at=bindparam("next")),
        moves,
    )
    await audit.write(session)


async def _taken_in(session: AsyncSession, matters: dict[int, Matter]) -> dict[int, datetime]:
    """When govhub took in each matter opened from a synced record (its ORIGIN record's
    ``attached_at``); matters registered by staff have none."""
    opened_by_sync = [m.id for m in matters.values() if m.origin.value in _RECORD_ORIGINS]
    if not opened_by_sync:
        return {}
    rows = await session.execute(
        select(MatterRecord.matter_id, MatterRecord.attached_at).where(
            MatterRecord.matter_id.in_(opened_by_sync), MatterRecord.how == "ORIGIN"
        )
    )
    return {matter_id: attached_at for matter_id, attached_at in rows}


_RECORD_ORIGINS = frozenset(kind.value for kind in RecordKind)


async def _supervise(
    session: AsyncSession,
    workflow: MatterWorkflow,
    matter: Matter,
    row: ClockRow,
    now: datetime,
    result: ScanResult,
    prior: dict[int, int],
    audit: SystemAudit,
) -> None:
    """The automatic 督办 on a breach, or the escalation of a 督办 whose reply is late;
    ``prior`` counts each matter's automatic orders so far (kept up to date here)."""
    rule = workflow.rules.rules.get(row.rule_id)
    if rule is None or not rule.duty.supervised_on_breach:
        return
    if rule.duty is Duty.SUPERVISED_ORG and MatterStep(matter.step) not in OPEN_STEPS:
        # a 督办's reply clock left running on a finished matter (an order issued before its
        # matter ended closes with it now, ``end_orders``): the breach is recorded, the order
        # is not escalated. Clocks that run after 结案 by design (回访, 复查, 复核) still
        # press whoever is on duty.
        return
    try:
        if rule.duty is Duty.SUPERVISED_ORG and row.supervision_id is not None:
            # locked, and read again: a reply or the matter's end committed since the scan
            # read it leaves nothing to escalate
            stored = await session.get(Supervision, row.supervision_id, with_for_update=True)
            if stored is None or stored.status not in (SupervisionStatus.OPEN.value,):
                return
            pressed = order_of(stored, matter)
            if escalated(pressed.level, pressed.issuing_region) is None:
                # 挂牌督办 from a province: nothing above to escalate to. The order stays open
                # with its reply clock run out (the OVERDUE row above records the breach); a
                # copy would restart the clock and wipe the breach.
                log.info("supervision_at_top", rule=row.rule_id, supervision=stored.id)
                return
            moved = workflow.supervision.apply(
                pressed, SupervisionAction.ESCALATE_SUPERVISION,
                Actor.system(SCANNER), {"reason": f"逾期未回复：{rule.name}"}, now,
            )
            order = await store_order(session, workflow, matter, stored, moved, now)
        else:
            target = breach_target(rule, state_of(matter), "centre")
            if target is None or not await _still_running(session, row.id):
                return
            moved = workflow.supervision.on_breach(
                state_of(matter), rule, target, prior[matter.id], now
            )
            order = await store_order(session, workflow, matter, None, moved, now,
                                      breach_clock_id=row.id)
            prior[matter.id] += 1
    except WorkflowError as exc:  # e.g. the order closed meanwhile: the breach stays recorded
        log.warning("automatic_supervision_skipped", rule=row.rule_id, code=exc.code.value)
        return
    result.supervised += 1
    for event in moved.events:
        audit.add(event.action.value, matter, {
            "rule": row.rule_id, "supervisionId": order.id, "level": event.level.value,
            "targetOrg": event.target_org,
        })  # fmt: skip
    result.announcements.append(
        announcement(matter, MatterEventKind.SUPERVISED, moved.order.level.value, now)
    )


async def _still_running(session: AsyncSession, clock_id: int) -> bool:
    """Whether the clock is still running, read under a row lock: a step that ended its duty
    (结案, 撤回, the duty done) while the scan ran stops the clock in its own transaction, and
    no 督办 is issued for a duty that ended. (SQLite serialises writers: the scan's write
    fails on a stale read and the next scan reads afresh.)"""
    running = await session.scalar(
        select(ClockRow.id)
        .where(ClockRow.id == clock_id, ClockRow.stopped_at.is_(None))
        .with_for_update()
    )
    return running is not None


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
        inserted = await session.execute(
            insert_for(session)(Lease).values(name=name, holder=holder, expires_at=now + ttl)
            .on_conflict_do_nothing()
        )
        return bool(inserted.rowcount)  # type: ignore[attr-defined]


async def release_lease(session_factory: Callable[[], AsyncSession], name: str,
                        holder: str) -> None:
    async with session_factory() as session, session.begin():
        await session.execute(
            delete(Lease).where(and_(Lease.name == name, Lease.holder == holder))
        )
