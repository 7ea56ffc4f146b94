"""Which records make a matter, by staff hand (人工关联、并案、拆案): attach and detach a
record, merge matters into one, split records off into a new matter.

Staff only, within their jurisdiction, and only records they may read (the one record scope
rule); anything out of reach is ``NOT_FOUND``. Each change bumps the matters' versions
(optimistic concurrency, like every action) and writes timeline rows. A merged matter is
withdrawn (撤回, its clocks stop by the rules) with the number of the one it joined; a split
opens a new matter from the same origin with the records moved.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.decision_scope import within
from db.matter_workflow import (
    MatterWorkflow,
    NewMatter,
    announcement,
    open_matters,
    scope_of,
    store_transition,
)
from db.matters import bump_version, load_matter, state_of, system_event
from db.models import Matter, MatterRecord, Record
from domain.events import MatterEventKind
from domain.masking import mask_text
from domain.workflow.actors import Actor
from domain.workflow.errors import (
    BadInput,
    Forbidden,
    IllegalTransition,
    NotFound,
    check_version,
)
from domain.workflow.payloads import OpenPayload
from domain.workflow.vocabulary import OPEN_STEPS, ActorKind, MatterAction

MAX_RECORDS = 100


def _staff(actor: Actor) -> None:
    if actor.kind is not ActorKind.CENTRE_STAFF:
        raise Forbidden("only centre staff change which records make a matter")


async def _records_within(session: AsyncSession, actor: Actor, record_ids: Collection[int]
                          ) -> None:
    if not record_ids or len(record_ids) > MAX_RECORDS:
        raise BadInput(f"records: 1 to {MAX_RECORDS}")
    assert actor.principal is not None
    seen = await session.scalar(
        select(func.count()).select_from(Record)
        .where(Record.id.in_(record_ids), *within(actor.principal.scope))
    )  # fmt: skip
    if seen != len(set(record_ids)):
        raise NotFound("a record does not exist")


async def _open_row(session: AsyncSession, matter_id: int, actor: Actor,
                    expected_version: int | None) -> Matter:
    row = await load_matter(session, matter_id, scope_of(actor))
    check_version(row.version, expected_version)
    if row.step not in OPEN_STEPS:
        raise IllegalTransition(f"records of a {row.step.value} matter do not change")
    return row


async def attach_records(
    workflow: MatterWorkflow, matter_id: int, record_ids: Sequence[int], actor: Actor,
    *, expected_version: int | None = None,
) -> int:
    """关联: the records join the matter (they may belong to others too)."""
    _staff(actor)
    now = workflow.now()
    async with workflow.sessions.begin() as session:
        row = await _open_row(session, matter_id, actor, expected_version)
        await _records_within(session, actor, record_ids)
        present = set(await session.scalars(
            select(MatterRecord.record_id).where(MatterRecord.matter_id == matter_id)
        ))  # fmt: skip
        for record_id in sorted(set(record_ids) - present):
            session.add(MatterRecord(matter_id=matter_id, record_id=record_id, how="ATTACHED",
                                     attached_by=actor.sub, attached_at=now))
            session.add(system_event(matter_id, "RECORD_ATTACHED", now, actor.sub, row.step, "",
                                     {"record_id": str(record_id)}))
        version = await bump_version(session, row, now)
        event = announcement(row, MatterEventKind.STEP_CHANGED, "RECORD_ATTACHED", now)
    await workflow.announce([event])
    await workflow.grade([matter_id])  # its records changed: so may its grade
    return version


async def detach_records(
    workflow: MatterWorkflow, matter_id: int, record_ids: Sequence[int], actor: Actor,
    reason: str, *, expected_version: int | None = None,
) -> int:
    """取消关联: the records leave the matter (with a reason)."""
    _staff(actor)
    if not reason.strip():
        raise BadInput("reason: required")
    now = workflow.now()
    async with workflow.sessions.begin() as session:
        row = await _open_row(session, matter_id, actor, expected_version)
        await _records_within(session, actor, record_ids)
        removed = await session.execute(
            delete(MatterRecord).where(
                MatterRecord.matter_id == matter_id, MatterRecord.record_id.in_(record_ids)
            )
        )
        if removed.rowcount != len(set(record_ids)):  # type: ignore[attr-defined]
            raise NotFound("a record is not part of this matter")
        for record_id in sorted(set(record_ids)):
            session.add(system_event(matter_id, "RECORD_DETACHED", now, actor.sub, row.step,
                                     mask_text(reason), {"record_id": str(record_id)}))
        version = await bump_version(session, row, now)
        event = announcement(row, MatterEventKind.STEP_CHANGED, "RECORD_DETACHED", now)
    await workflow.announce([event])
    await workflow.grade([matter_id])
    return version


async def merge_matters(
    workflow: MatterWorkflow, keep_id: int, merge_ids: Sequence[int], actor: Actor, reason: str
) -> int:
    """并案: the records of ``merge_ids`` join ``keep_id``; those matters are withdrawn."""
    _staff(actor)
    if not merge_ids or keep_id in merge_ids or len(merge_ids) > MAX_RECORDS:
        raise BadInput("mergeIds: other matters than the one kept, at most 100")
    now = workflow.now()
    events = []
    async with workflow.sessions.begin() as session:
        keep = await _open_row(session, keep_id, actor, None)
        for merge_id in sorted(set(merge_ids)):
            other = await _open_row(session, merge_id, actor, None)
            before = state_of(other)
            transition = workflow.machine.apply(
                before, MatterAction.WITHDRAW, actor, {"reason": f"并案至 {keep.number}: {reason}"},
                now,
            )
            await store_transition(session, workflow, merge_id, before, transition, now)
            moved = list(await session.scalars(
                select(MatterRecord.record_id).where(MatterRecord.matter_id == merge_id)
            ))  # fmt: skip
            present = set(await session.scalars(
                select(MatterRecord.record_id).where(MatterRecord.matter_id == keep_id)
            ))  # fmt: skip
            await session.execute(
                update(MatterRecord)
                .where(MatterRecord.matter_id == merge_id,
                       MatterRecord.record_id.not_in(present))
                .values(matter_id=keep_id, how="MERGED")
            )  # fmt: skip
            session.add(system_event(keep_id, "MERGED_FROM", now, actor.sub, keep.step,
                                     mask_text(reason),
                                     {"matter": other.number, "records": str(len(moved))}))
            events.append(announcement(other, MatterEventKind.STEP_CHANGED, "WITHDRAW", now))
        await bump_version(session, keep, now)
        events.append(announcement(keep, MatterEventKind.STEP_CHANGED, "MERGED_FROM", now))
    await workflow.announce(events)
    await workflow.grade([keep_id, *merge_ids])
    return keep_id


async def split_matter(
    workflow: MatterWorkflow, matter_id: int, record_ids: Sequence[int], actor: Actor,
    title: str, reason: str,
) -> int:
    """拆案: ``record_ids`` leave the matter for a new one (same origin, region, category)."""
    _staff(actor)
    now = workflow.now()
    async with workflow.sessions.begin() as session:
        row = await _open_row(session, matter_id, actor, None)
        await _records_within(session, actor, record_ids)
        payload = OpenPayload(
            origin=row.origin, region_code=row.region_code, category=row.category,
            risk=row.risk, title=title,
        )
        (new,) = await open_matters(session, workflow.machine, workflow.calendar, actor,
                                    [NewMatter(payload)], now)
        moved = await session.execute(
            update(MatterRecord)
            .where(MatterRecord.matter_id == matter_id, MatterRecord.record_id.in_(record_ids))
            .values(matter_id=new.id, how="SPLIT")
        )  # fmt: skip
        if moved.rowcount != len(set(record_ids)):  # type: ignore[attr-defined]
            raise NotFound("a record is not part of this matter")
        session.add(system_event(matter_id, "SPLIT_TO", now, actor.sub, row.step,
                                 mask_text(reason),
                                 {"matter": new.number, "records": str(len(set(record_ids)))}))
        await bump_version(session, row, now)
        events = [
            announcement(new, MatterEventKind.OPENED, "SPLIT", now),
            announcement(row, MatterEventKind.STEP_CHANGED, "SPLIT_TO", now),
        ]
    await workflow.announce(events)
    await workflow.grade([matter_id, new.id])
    return new.id
