"""Matters from each synced batch (同步后自动立项、并案与反馈), run after linking.

For the records a committed batch inserted or changed: a record already in a matter may
report for it (:func:`domain.workflow.intake.feedback_from`), or, the ORIGIN record of a matter
not dispatched, give its source's later 受理 (:mod:`db.source_acceptances`) or conclusion as a
fact (:mod:`db.source_conclusions`); one
linked to a record of an open matter joins it (a ``RECORD_JOINED`` timeline row); any other
record the intake rules select opens a new matter, with the system as actor. Each of these
actions is also an audit row (:mod:`db.matter_audit`, principal ``system:sync:<SOURCE>``). One
transaction per batch, a handful of statements whatever its size; the announcements follow the
commit, and so does the grading of the matters the batch opened, joined or fed back (风险研判).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import or_, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from db.linking_lock import intake_lock
from db.matter_audit import SystemAudit
from db.matter_workflow import (
    MatterWorkflow,
    NewMatter,
    announcement,
    open_matters,
    store_transition,
)
from db.matters import state_of, system_event
from db.models import Link, Matter, MatterRecord, Record
from db.queries import in_list
from db.source_acceptances import source_dates, take_acceptances
from db.source_conclusions import take_conclusions
from db.writeback_records import ATTACHED_BY_WRITEBACK, WRITEBACK_REFERENCE, writeback_matters
from domain.events import MatterAnnouncement, MatterEventKind
from domain.validators import InvalidIdentifier, validate_division_code
from domain.workflow.actors import Actor
from domain.workflow.errors import WorkflowError
from domain.workflow.intake import JOINING_LINKS, PROGRESS, IntakeRules, feedback_from
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import (
    FEEDBACK_RESULTS,
    OPEN_STEPS,
    MatterAction,
    MatterOrigin,
    MatterStep,
)

log = structlog.get_logger(__name__)

RECORD_JOINED = "RECORD_JOINED"
Synced = Any
"""A row of :data:`_RECORD_COLUMNS` (id, kind, source, source_key, category, title, status,
region_code, risk_level, external_ref, reported_at, source_status, source_updated_at)."""
_RECORD_COLUMNS = (
    Record.id, Record.kind, Record.source, Record.source_key, Record.category, Record.title,
    Record.status, Record.region_code, Record.risk_level, Record.external_ref,
    Record.reported_at, Record.source_status, Record.source_updated_at,
)  # the raw payload (sealed) is never needed here
_CHUNK = 2000


class IntakeIncomplete(Exception):
    """Intake stopped part-way: ``remaining`` records were not taken in (rolled back)."""

    def __init__(self, remaining: Sequence[int], cause: str) -> None:
        super().__init__(f"{len(remaining)} records not taken in ({cause})")
        self.remaining = list(remaining)
        self.cause = cause


@dataclass
class IntakeCounts:
    opened: int = 0
    joined: int = 0
    fed_back: int = 0
    accepted: int = 0
    """已登记 matters that took their source's later 受理 (来源系统已受理)."""
    concluded: int = 0
    """Undispatched matters that took their source's conclusion (来源系统已办结)."""
    skipped: int = 0
    announcements: list[MatterAnnouncement] = field(default_factory=list)
    matters: set[int] = field(default_factory=set)
    """Matters of the current chunk's records: re-graded after its commit."""

    def add(self, other: IntakeCounts) -> None:
        """Count ``other``'s committed chunk in (its announcements and matters are its own)."""
        self.opened += other.opened
        self.joined += other.joined
        self.fed_back += other.fed_back
        self.accepted += other.accepted
        self.concluded += other.concluded
        self.skipped += other.skipped


async def take_in(
    workflow: MatterWorkflow,
    rules: IntakeRules,
    record_ids: Collection[int],
    *,
    source: str,
) -> IntakeCounts:
    """Open, join and feed back matters for ``record_ids`` (one batch); never raises for a
    single record's refusal (counted as ``skipped``).

    Each chunk is a transaction. One that fails is rolled back and taken in again in halves,
    down to single records, so one record that cannot be taken in (a defect) holds back no
    other; when the database itself is gone the rest is not tried. The records not taken in
    are raised in :class:`IntakeIncomplete` once the others are committed."""
    counts = IntakeCounts()
    ids = sorted(set(record_ids))
    now = workflow.now()
    missed = _Shortfall()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        if missed.database_gone:
            missed.records.extend(chunk)
        else:
            await _take_in_part(workflow, rules, chunk, source, now, counts, missed)
    if missed.records:
        # the error's text may quote a row's values: its type only
        log.error("intake_failed", source=source, error=missed.causes[0],
                  records=len(missed.records))  # fmt: skip
        raise IntakeIncomplete(sorted(missed.records), missed.causes[0])
    return counts


_GONE = "database unavailable"
_TRANSIENT = (OSError, TimeoutError, OperationalError, InterfaceError)
"""Failures of the database, not of a record (a lost or refused connection, a deadlock): the
rest of the batch waits for the next try instead of being split down to single records."""


@dataclass
class _Shortfall:
    """The records a :func:`take_in` could not take in, and why (each failure's cause)."""

    records: list[int] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)

    @property
    def database_gone(self) -> bool:
        return bool(self.causes) and self.causes[-1] == _GONE


async def _take_in_part(
    workflow: MatterWorkflow,
    rules: IntakeRules,
    part: Sequence[int],
    source: str,
    now: datetime,
    counts: IntakeCounts,
    missed: _Shortfall,
) -> None:
    """Take ``part`` in as one transaction, or, when that fails for one of its records, its
    halves (see :func:`take_in`); ``missed`` gains what could not be taken in and why."""
    done = IntakeCounts()
    try:
        async with workflow.sessions.begin() as session, intake_lock(session):
            await _take_in_chunk(session, workflow, rules, part, source, now, done)
    except Exception as exc:
        gone = isinstance(exc, _TRANSIENT) or getattr(exc, "connection_invalidated", False)
        missed.causes.append(_GONE if gone else type(exc).__name__)
        if gone or len(part) == 1:
            missed.records.extend(part)
            return
        middle = len(part) // 2
        for half in (part[:middle], part[middle:]):
            if missed.database_gone:
                missed.records.extend(half)
            else:
                await _take_in_part(workflow, rules, half, source, now, counts, missed)
        return
    counts.add(done)
    await workflow.announce(done.announcements)
    await workflow.grade(done.matters)  # never raises


async def _open_matters_of(
    session: AsyncSession, record_ids: Collection[int]
) -> dict[int, int]:
    """Record id → its open matter (the oldest when several)."""
    rows = await session.execute(
        select(MatterRecord.record_id, MatterRecord.matter_id)
        .join(Matter, Matter.id == MatterRecord.matter_id)
        .where(
            in_list(MatterRecord.record_id.expression, "ids"),
            Matter.step.in_(sorted(OPEN_STEPS)),
        )
        .order_by(MatterRecord.matter_id),
        {"ids": list(record_ids)},
    )
    found: dict[int, int] = {}
    for record_id, matter_id in rows:
        found.setdefault(record_id, matter_id)
    return found


async def _take_in_chunk(
    session: AsyncSession,
    workflow: MatterWorkflow,
    rules: IntakeRules,
    chunk: Sequence[int],
    source: str,
    now: datetime,
    counts: IntakeCounts,
) -> None:
    records: dict[int, Synced] = {
        r.id: r
        for r in await session.execute(
            select(*_RECORD_COLUMNS).where(
                in_list(Record.id.expression, "ids"), Record.deleted.is_(False)
            ),
            {"ids": list(chunk)},
        )
    }
    if not records:
        return
    member = await _open_matters_of(session, records)
    actor = Actor.system(f"sync:{source}")
    audit = SystemAudit(actor.sub)
    await _attach_written(session, records, member, actor, now, counts, audit)
    links = (await session.execute(
        select(Link.from_record_id, Link.to_record_id).where(
            or_(
                in_list(Link.from_record_id.expression, "ids"),
                in_list(Link.to_record_id.expression, "ids"),
            ),
            Link.link_kind.in_(sorted(JOINING_LINKS)),
            or_(Link.decision.is_(None), Link.decision != "REJECTED"),
        ),
        {"ids": list(records)},
    )).all()  # fmt: skip
    neighbours: dict[int, set[int]] = {}
    for a, b in links:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    others = {n for r in records for n in neighbours.get(r, ()) if n not in records}
    member.update(await _open_matters_of(session, others) if others else {})
    joined = _join_linked_matters(records, neighbours, member)
    to_open: list[tuple[Synced, NewMatter]] = []
    followers: dict[int, list[int]] = {}  # an opening record → the chunk's records linked to it
    for group in _linked_groups([r for r in sorted(records) if r not in member], neighbours):
        opener = None
        for record_id in sorted(group, key=lambda r: (_received(records[r]), r)):
            record = records[record_id]
            if not rules.opens(record.kind, record.category, record.status):
                continue
            new = _new_matter(record)
            if new is None:
                counts.skipped += 1
                continue
            opener = record_id
            to_open.append((record, new))
            break
        if opener is not None:
            followers[opener] = [r for r in group if r != opener]
    if to_open:
        dates = await source_dates(session, [record for record, _ in to_open])
        to_open = [
            (record, replace(new, source_dates=dates[record.id])) for record, new in to_open
        ]
        rows = await open_matters(
            session, workflow.machine, workflow.calendar, actor, [n for _, n in to_open], now
        )
        for (record, _), row in zip(to_open, rows, strict=True):
            member[record.id] = row.id
            for follower in followers[record.id]:  # linked to it: one matter, not several
                member[follower] = joined[follower] = row.id
            audit.add(MatterAction.OPEN.value, row, _about(record), records=[record.id])
            if row.step is MatterStep.ACCEPTED:  # the source's own 受理, taken over
                audit.add(MatterAction.ADMIT.value, row, _about(record), records=[record.id])
            counts.announcements.append(
                announcement(row, MatterEventKind.OPENED, MatterAction.OPEN.value, now)
            )
        counts.opened += len(rows)
    await _join(session, records, joined, actor, now, counts, audit)
    await _feed_back(session, workflow, records, member, actor, now, counts, audit)
    accepted = await take_acceptances(session, workflow, records, actor, now)
    concluded = await take_conclusions(session, workflow, records, actor, now)
    for taken in (*accepted, *concluded):
        (event,) = taken.transition.events
        audit.add(event.action.value, taken.matter, {**_about(records[taken.record_id]),
                                                     **event.details}, records=[taken.record_id])
        counts.announcements.append(announcement(
            taken.matter, MatterEventKind.STEP_CHANGED, event.action.value, now
        ))  # fmt: skip
        for voided in taken.voided:  # the 督办单 of a breach the source's date shows met
            closing = voided.moved.events[0]
            audit.add(closing.action.value, taken.matter, {
                **_about(records[taken.record_id]), "rule": voided.rule_id,
                "supervisionId": voided.order.id, "level": closing.level.value,
                "targetOrg": closing.target_org, "voided": True,
            }, records=[taken.record_id])  # fmt: skip
            counts.announcements.append(announcement(
                taken.matter, MatterEventKind.SUPERVISED, closing.action.value, now
            ))  # fmt: skip
    counts.accepted += len(accepted)
    counts.concluded += len(concluded)
    counts.matters.update(member[r] for r in records if r in member)
    await audit.write(session)


def _received(record: Synced) -> datetime:
    """When its source received it, as far as the record says: a group of linked records opens
    its matter from the first received (its registration is that record's receipt)."""
    received: datetime = record.reported_at or record.source_updated_at
    return received


def _join_linked_matters(
    records: Mapping[int, Synced], neighbours: Mapping[int, set[int]], member: dict[int, int]
) -> dict[int, int]:
    """The chunk's records that join an open matter they are linked to, directly or through
    other records of the chunk that join it (the oldest matter when several): record → matter.
    ``member`` gains them."""
    joined: dict[int, int] = {}
    moved = True
    while moved:
        moved = False
        for record_id in sorted(records):
            if record_id in member:
                continue
            matter_id = min(
                (member[n] for n in neighbours.get(record_id, ()) if n in member), default=None
            )
            if matter_id is not None:
                member[record_id] = joined[record_id] = matter_id
                moved = True
    return joined


def _linked_groups(
    record_ids: Sequence[int], neighbours: Mapping[int, set[int]]
) -> list[list[int]]:
    """``record_ids`` (ascending) in groups linked among themselves, each ascending: records
    of one matter synced together, which open one matter, not one each."""
    wanted = set(record_ids)
    seen: set[int] = set()
    groups: list[list[int]] = []
    for start in record_ids:
        if start in seen:
            continue
        group, frontier = [], [start]
        seen.add(start)
        while frontier:
            record_id = frontier.pop()
            group.append(record_id)
            for other in neighbours.get(record_id, ()):
                if other in wanted and other not in seen:
                    seen.add(other)
                    frontier.append(other)
        groups.append(sorted(group))
    return groups


def _about(record: Synced) -> dict[str, str]:
    """What an audit row says of the synced record behind an action: codes and its key."""
    return {"recordKind": record.kind.value, "source": record.source.value,
            "sourceKey": record.source_key, "sourceStatus": record.status.value}


def _new_matter(record: Synced) -> NewMatter | None:
    region = record.region_code
    if region is not None:
        try:
            region = validate_division_code(region)
        except InvalidIdentifier:
            return None
    payload = OpenPayload(
        origin=MatterOrigin(record.kind.value), region_code=region, category=record.category,
        risk=record.risk_level, title=(record.title or record.source_key)[:200],
    )
    return NewMatter(payload, record_id=record.id)


async def _attach_written(
    session: AsyncSession,
    records: Mapping[int, Synced],
    member: dict[int, int],
    actor: Actor,
    now: datetime,
    counts: IntakeCounts,
    audit: SystemAudit,
) -> None:
    """A record a department created for a matter's write-back joins that matter (回写闭环),
    before any other rule: it never opens a matter of its own. Its 受理/立案 is then the
    matter's feedback like any record of the track (:func:`_feed_back`)."""
    references = {rid: r.external_ref for rid, r in records.items() if r.external_ref}
    matches = await writeback_matters(session, references) if references else {}
    fresh = {rid: m for rid, m in matches.items() if not m.attached}
    matters = {
        m.id: m
        for m in await session.scalars(
            select(Matter).where(Matter.id.in_({m.matter_id for m in fresh.values()})))
    } if fresh else {}  # fmt: skip
    for record_id, match in sorted(matches.items()):
        member[record_id] = match.matter_id
        if match.attached:
            continue
        matter, record = matters[match.matter_id], records[record_id]
        session.add(MatterRecord(matter_id=matter.id, record_id=record_id,
                                 how=ATTACHED_BY_WRITEBACK, attached_by=actor.sub,
                                 attached_at=now))
        details = {"record_id": str(record_id), "kind": record.kind.value,
                   "evidence": WRITEBACK_REFERENCE, "reference": match.reference}
        session.add(system_event(matter.id, RECORD_JOINED, now, actor.sub, matter.step,
                                 f"{record.source.value} {record.source_key}", details))
        audit.add(RECORD_JOINED, matter, {**_about(record), "evidence": WRITEBACK_REFERENCE},
                  records=[record_id])
        counts.announcements.append(
            announcement(matter, MatterEventKind.RECORD_JOINED, record.kind.value, now)
        )
        counts.joined += 1
    if fresh:
        await session.flush()


async def _join(
    session: AsyncSession,
    records: Mapping[int, Synced],
    joined: dict[int, int],
    actor: Actor,
    now: datetime,
    counts: IntakeCounts,
    audit: SystemAudit,
) -> None:
    if not joined:
        return
    matters = {
        m.id: m
        for m in await session.scalars(select(Matter).where(Matter.id.in_(joined.values())))
    }
    for record_id, matter_id in joined.items():
        matter = matters[matter_id]
        record = records[record_id]
        session.add(MatterRecord(matter_id=matter_id, record_id=record_id, how="LINKED",
                                 attached_by=actor.sub, attached_at=now))
        details = {"record_id": str(record_id), "kind": record.kind.value}
        session.add(system_event(matter_id, RECORD_JOINED, now, actor.sub, matter.step, "",
                                 details))
        audit.add(RECORD_JOINED, matter, _about(record), records=[record_id])
        counts.announcements.append(
            announcement(matter, MatterEventKind.RECORD_JOINED, record.kind.value, now)
        )
    counts.joined += len(joined)
    await session.flush()


async def _feed_back(
    session: AsyncSession,
    workflow: MatterWorkflow,
    records: Mapping[int, Synced],
    member: dict[int, int],
    actor: Actor,
    now: datetime,
    counts: IntakeCounts,
    audit: SystemAudit,
) -> None:
    """A dispatched matter's feedback from its track's source record (自动反馈)."""
    reporting = {
        rid: mid for rid, mid in member.items()
        if rid in records and records[rid].status in FEEDBACK_RESULTS | PROGRESS
    }
    if not reporting:
        return
    matters = {
        m.id: m
        for m in await session.scalars(
            select(Matter).where(
                Matter.id.in_(set(reporting.values())),
                Matter.step.in_([MatterStep.DISPATCHED, MatterStep.IN_PROGRESS]),
            )
        )
    }
    for record_id, matter_id in sorted(reporting.items()):
        matter = matters.get(matter_id)
        record = records[record_id]
        if matter is None or not feedback_from(matter.track, record.kind):
            continue
        note = f"{record.source.value} {record.source_key}: {record.status.value}"
        if record.status in FEEDBACK_RESULTS:
            action = MatterAction.REPORT_RESULT
            payload = {"result": record.status.value, "note": note,
                       "evidence_record_id": record_id}
        elif matter.step is MatterStep.DISPATCHED:
            action = MatterAction.REPORT_PROGRESS
            payload = {"note": note, "evidence_record_id": record_id}
        else:
            continue
        before = state_of(matter)
        try:
            transition = workflow.machine.apply(before, action, actor, payload, now)
            async with session.begin_nested():
                await store_transition(session, workflow, matter_id, before, transition, now)
        except WorkflowError as exc:  # e.g. a staff action won the race: try next batch
            log.info("automatic_feedback_skipped", matter=matter_id, code=exc.code.value)
            counts.skipped += 1
            continue
        await session.refresh(matter)
        for event in transition.events:  # the 签收 the result implies, then the result
            audit.add(event.action.value, matter, {
                **_about(record), **event.details, "toStep": event.to_step.value,
            }, records=[record_id])  # fmt: skip
        counts.fed_back += 1
        counts.announcements.append(
            announcement(matter, MatterEventKind.STEP_CHANGED, action.value, now)
        )

