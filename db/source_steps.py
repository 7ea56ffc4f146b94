"""What the system's steps on a source's own news share (来源系统的受理、办结，同步时接管).

:mod:`db.source_acceptances` and :mod:`db.source_conclusions` each find the matters whose
ORIGIN record a sync brings (:func:`origin_matters`), leave those whose timeline already cites
that record for the same news (:func:`citing`), and apply one system transition per matter in
a savepoint (:func:`apply_each_at_source`), never dated before the last event of a clock it
stops; a clock it stops within the limit a breach was declared on voids that breach's 督办单
(:func:`db.matter_workflow.void_breaches`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.matter_workflow import MatterWorkflow, VoidedOrder, store_transition, void_breaches
from db.matters import clock_of, running_clocks, state_of
from db.models import Matter, MatterEvent, MatterRecord
from db.queries import in_list
from domain.workflow.errors import WorkflowError
from domain.workflow.state import Transition

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class TakenAtSource:
    """A matter that took its ORIGIN record's news from its source, as stored (refreshed),
    with the 督办单 the news showed to press a limit that was met."""

    matter: Matter
    record_id: int
    transition: Transition
    voided: tuple[VoidedOrder, ...] = ()


async def origin_matters(
    session: AsyncSession, record_ids: Iterable[int], *conditions: ColumnElement[bool]
) -> list[tuple[int, Matter]]:
    """(record, matter) for each of ``record_ids`` that is a matter's ORIGIN, the matter
    meeting ``conditions``; by matter."""
    return [
        (record_id, matter)
        for record_id, matter in await session.execute(
            select(MatterRecord.record_id, Matter)
            .join(Matter, Matter.id == MatterRecord.matter_id)
            .where(
                in_list(MatterRecord.record_id.expression, "ids"),
                MatterRecord.how == "ORIGIN",
                *conditions,
            )
            .order_by(Matter.id),
            {"ids": list(record_ids)},
        )
    ]


async def citing(
    session: AsyncSession, matter_ids: Collection[int], action: str, fact: str | None = None
) -> set[tuple[int, int]]:
    """(matter, record) pairs whose timeline holds an ``action`` row (with ``fact`` in its
    details, when given) naming the record as its evidence."""
    if not matter_ids:
        return set()
    rows = await session.execute(
        select(MatterEvent.matter_id, MatterEvent.details).where(
            in_list(MatterEvent.matter_id.expression, "ids"), MatterEvent.action == action
        ),
        {"ids": sorted(matter_ids)},
    )
    return {
        (matter_id, int(details["evidence_record_id"]))
        for matter_id, details in rows
        if details and (fact is None or details.get("fact") == fact)
        and str(details.get("evidence_record_id", "")).isdecimal()
    }


async def apply_at_source(
    session: AsyncSession,
    workflow: MatterWorkflow,
    matter: Matter,
    record_id: int,
    stopped: Collection[str],
    transition_of: Callable[..., Transition],
    now: datetime,
    skipped: str,
) -> TakenAtSource | None:
    """Store ``transition_of(state, not_before=…)`` on ``matter`` in a savepoint, where
    ``not_before`` is the last event of a running clock among ``stopped`` (rule ids), void
    the breaches the clocks it stopped turn out not to have had, and refresh the matter; None
    when the machine or the store refused (logged as ``skipped``: e.g. a staff action won the
    race, and the next batch tries again).

    The voiding has a savepoint of its own: whatever befalls it, the source's news stands
    (the orders stay as they were, logged, and are closed by staff)."""
    running = await running_clocks(session, matter.id)
    floor = max(
        (clock_of(row).last_event_at() for rule_id, row in running.items() if rule_id in stopped),
        default=None,
    )
    before = state_of(matter)
    try:
        transition = transition_of(before, not_before=floor)
        async with session.begin_nested():
            await store_transition(session, workflow, matter.id, before, transition, now)
    except WorkflowError as exc:
        log.info(skipped, matter=matter.id, code=exc.code.value)
        return None
    clocks = [row.id for rule_id, row in running.items() if rule_id in stopped]
    voided: list[VoidedOrder] = []
    try:
        async with session.begin_nested():
            voided = await void_breaches(session, workflow, matter.id, clocks, now)
    except WorkflowError as exc:
        log.warning("breach_voiding_skipped", matter=matter.id, code=exc.code.value)
    await session.refresh(matter)
    return TakenAtSource(matter, record_id, transition, tuple(voided))




async def apply_each_at_source(
    session: AsyncSession,
    workflow: MatterWorkflow,
    todo: Iterable[tuple[int, Matter]],
    stopped: Collection[str],
    transition_for: Callable[[int], Callable[..., Transition]],
    now: datetime,
    skipped: str,
) -> list[TakenAtSource]:
    """:func:`apply_at_source` for each (record, matter) of ``todo``, the transition the
    record's news makes (``transition_for(record_id)``); the matters that took it."""
    done: list[TakenAtSource] = []
    for record_id, matter in todo:
        taken = await apply_at_source(
            session, workflow, matter, record_id, stopped, transition_for(record_id), now, skipped
        )
        if taken is not None:
            done.append(taken)
    return done
