"""The closed loop's write-backs (事项回写): a workflow step's outbox rows, in its transaction.

:func:`enqueue_matter_writes` runs inside the transaction that stores a transition, after the
version-checked state write: a CONFLICT (or any failure) rolls the rows back with the step, and
a stored step always carries its writes. What is written is decided by
:func:`domain.matter_writes.planned_writes` (a dispatch; a result once 核查 accepts it); the
result accepted is the matter's last 结果反馈 on its timeline. The parties' identifiers are
opened here only to build the payload, which the outbox keeps sealed.

A matter that was at 反馈 when this release landed had its result written at the report by
the release before (which wrote at REPORT_RESULT): its 核查 writes nothing more when that
result's write is already in the outbox (:func:`_written_since`), so the department's system
is not told the same result twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Matter, MatterEvent, MatterParty, MatterRecord, OutboxMessage, Record
from db.outbox import Aggregate, enqueue_write
from domain.matter_writes import AcceptedResult, MatterFacts, WriteParty, planned_writes
from domain.workflow.state import Transition
from domain.workflow.vocabulary import MatterAction
from domain.writeback import RESULT_OPERATIONS, WriteOperation

WRITING_ACTIONS = frozenset({MatterAction.DISPATCH, MatterAction.REDISPATCH,
                             MatterAction.VERIFY})


async def enqueue_matter_writes(
    session: AsyncSession, matter_id: int, transition: Transition, now: datetime
) -> list[OutboxMessage]:
    """Add the outbox rows ``transition`` asks for to the caller's transaction."""
    if not any(e.action in WRITING_ACTIONS for e in transition.events):
        return []
    matter = await session.get(Matter, matter_id)
    assert matter is not None
    origin = (await session.execute(
        select(Record.source, Record.source_key)
        .join(MatterRecord, MatterRecord.record_id == Record.id)
        .where(MatterRecord.matter_id == matter_id, MatterRecord.how == "ORIGIN")
        .order_by(MatterRecord.id).limit(1))).first()
    accepted = None
    if any(e.action is MatterAction.VERIFY for e in transition.events):
        accepted = await _accepted_result(session, matter_id)
    parties = await session.scalars(
        select(MatterParty).where(MatterParty.matter_id == matter_id)
        .order_by(MatterParty.position))
    facts = MatterFacts(
        number=matter.number, title=matter.title, summary=matter.summary,
        region_code=transition.state.region_code,
        parties=tuple(WriteParty(p.role, p.name, p.id_number, p.phone) for p in parties),
        origin=origin[0] if origin else None, origin_key=origin[1] if origin else None,
    )
    aggregate = Aggregate("matter", matter.number)
    written: list[OutboxMessage] = []
    for w in planned_writes(facts, transition, now, accepted=accepted):
        if (w.operation in RESULT_OPERATIONS.values() and accepted is not None
                and accepted.reported_at is not None
                and await _written_since(session, aggregate, w.operation, accepted.reported_at)):
            continue
        written.append(await enqueue_write(
            session, w.operation, w.payload, w.reference, aggregate=aggregate))
    return written


async def _written_since(
    session: AsyncSession, aggregate: Aggregate, operation: WriteOperation, since: datetime
) -> bool:
    """Whether the matter's ``operation`` was enqueued at or after ``since`` (the accepted
    result's report): the release before wrote a result at its report, in that step's
    transaction, so such a row is that result already on its way."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.aggregate_type == aggregate.type,
               OutboxMessage.aggregate_id == aggregate.id,
               OutboxMessage.operation == operation.value,
               OutboxMessage.created_at >= since)
        .limit(1))  # fmt: skip
    return found is not None


async def _accepted_result(session: AsyncSession, matter_id: int) -> AcceptedResult:
    """The result a verification accepts: the matter's last 结果反馈 (a result sent back is
    followed by another before the matter can be verified), with the system of the record it
    was taken from."""
    reported = (await session.execute(
        select(MatterEvent.note, MatterEvent.details, MatterEvent.at)
        .where(MatterEvent.matter_id == matter_id,
               MatterEvent.action == MatterAction.REPORT_RESULT.value)
        .order_by(MatterEvent.id.desc()).limit(1))).first()  # fmt: skip
    if reported is None:
        return AcceptedResult()
    note, details, reported_at = reported
    evidence = (details or {}).get("evidence_record_id")
    source = None
    if evidence and evidence.isdecimal():
        source = await session.scalar(select(Record.source).where(Record.id == int(evidence)))
    return AcceptedResult(note=note, source=source, reported_at=reported_at)
