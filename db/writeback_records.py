"""Records the departments created for a write-back (回写闭环): which matter each belongs to.

A target that accepted a dispatch (网上立案, 委派调解, 交办) holds a record of its own that
carries the write's reference (``records.external_ref``). That reference is an outbox row's
``idempotency_key`` whose aggregate is the matter (``matter``/its number); a record may also
carry the matter number itself, and a reference whose outbox row was purged is read by its
form (:func:`domain.writeback.writeback_reference`). :func:`writeback_matters` resolves them,
for intake to attach the record to its matter with the evidence :data:`WRITEBACK_REFERENCE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Matter, MatterRecord, OutboxMessage

WRITEBACK_REFERENCE = "WRITEBACK_REFERENCE"
"""The evidence of an attachment by write-back reference (回写编号), on the timeline row."""
ATTACHED_BY_WRITEBACK = "WRITEBACK"
"""``matter_records.how`` of a record attached that way."""


@dataclass(frozen=True, slots=True)
class WritebackMatch:
    matter_id: int
    reference: str
    attached: bool
    """Whether the record is already one of the matter's records (a later version)."""


async def writeback_matters(
    session: AsyncSession, references: Mapping[int, str]
) -> dict[int, WritebackMatch]:
    """Record id → the matter its reference names, for ``references`` (record id → its
    ``external_ref``); records whose reference names no matter are left out."""
    refs = set(references.values())
    if not refs:
        return {}
    from_outbox: dict[str, str] = {}
    for key, number in await session.execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.aggregate_id).where(
            OutboxMessage.idempotency_key.in_(refs), OutboxMessage.aggregate_type == "matter"
        )
    ):
        if number:
            from_outbox[key] = number
    # a matter number stamped as is; a purged outbox row's reference starts with its number
    by_form = {ref: ref.rsplit("-", 2)[0] for ref in refs if ref.count("-") >= 2}
    candidates = refs | set(from_outbox.values()) | set(by_form.values())
    matter_of: dict[str, int] = {
        number: matter_id
        for number, matter_id in await session.execute(
            select(Matter.number, Matter.id).where(Matter.number.in_(candidates))
        )
    }
    if not matter_of:
        return {}
    held: set[tuple[int, int]] = {
        (record_id, matter_id)
        for record_id, matter_id in await session.execute(
            select(MatterRecord.record_id, MatterRecord.matter_id).where(
                MatterRecord.record_id.in_(references),
                MatterRecord.matter_id.in_(matter_of.values()),
            )
        )
    }
    found: dict[int, WritebackMatch] = {}
    for record_id, ref in references.items():
        number = from_outbox.get(ref) or (ref if ref in matter_of else by_form.get(ref))
        matter_id = matter_of.get(number) if number else None
        if matter_id is not None:
            found[record_id] = WritebackMatch(matter_id, ref, (record_id, matter_id) in held)
    return found
