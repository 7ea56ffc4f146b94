"""A source's 受理 after govhub first saw the record (来源系统已受理，同步时接管).

A record synced 待受理 opens its matter 已登记, with 登记转送 (``petition.register``) from its
receipt. When a later sync brings that ORIGIN record accepted or in progress at its source
(:data:`domain.workflow.intake.PROGRESS`) and the matter is still 已登记, the system takes the
source's 受理 over as it does at intake (:meth:`MatterMachine.accept_at_source`): an ADMIT row
by the sync's system actor, the record as evidence, on the source's acceptance date (never
before the last event of a clock it stops, never after the sync) — so 登记转送 stops there and
the source's own handling clock (§34's 60 days, the mediation month) runs from it. A matter
already holding that record's 受理 takes nothing more.

Also here: each record's own dates (:func:`source_dates`), which intake opens matters on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.matter_workflow import MatterWorkflow, store_transition
from db.matters import clock_of, running_clocks, state_of
from db.models import Matter, MatterEvent, MatterRecord
from db.models.records import kind_models
from db.queries import in_list
from domain.workflow.actors import Actor
from domain.workflow.errors import WorkflowError
from domain.workflow.intake import (
    ACCEPTANCE_FIELD,
    PROGRESS,
    SOURCE_DEADLINE_FIELD,
    SourceDates,
    source_dates_of,
)
from domain.workflow.state import Transition
from domain.workflow.vocabulary import MatterAction, MatterStep, SourceFact

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A matter that took its source's 受理, as stored (refreshed)."""

    matter: Matter
    record_id: int
    transition: Transition


async def take_acceptances(
    session: AsyncSession,
    workflow: MatterWorkflow,
    records: Mapping[int, Any],
    actor: Actor,
    now: datetime,
) -> list[Accepted]:
    """ADMIT with ``SOURCE_ACCEPTED`` on each matter still 已登记 whose ORIGIN record among
    ``records`` (intake's rows) its source now reports accepted or in progress; one savepoint
    per matter, a refusal is logged and skipped."""
    accepted = {rid: r for rid, r in records.items() if r.status in PROGRESS}
    if not accepted:
        return []
    origins = (await session.execute(
        select(MatterRecord.record_id, Matter)
        .join(Matter, Matter.id == MatterRecord.matter_id)
        .where(
            in_list(MatterRecord.record_id.expression, "ids"),
            MatterRecord.how == "ORIGIN",
            Matter.step == MatterStep.REGISTERED,
            Matter.suspended.is_(False),
        )
        .order_by(Matter.id),
        {"ids": list(accepted)},
    )).all()  # fmt: skip
    held = await _held(session, {matter.id for _, matter in origins}) if origins else set()
    todo = [(rid, matter) for rid, matter in origins if (matter.id, rid) not in held]
    if not todo:
        return []
    dates = await source_dates(session, [accepted[rid] for rid, _ in todo])
    stopped = {rule.id for trigger in (MatterAction.ADMIT, SourceFact.SOURCE_ACCEPTED)
               for rule in workflow.rules.stopped_by(trigger)}
    done: list[Accepted] = []
    for record_id, matter in todo:
        running = await running_clocks(session, matter.id)
        floor = max(
            (clock_of(row).last_event_at() for rule_id, row in running.items()
             if rule_id in stopped),
            default=None,
        )  # fmt: skip
        before = state_of(matter)
        try:
            transition = workflow.machine.accept_at_source(
                before, actor, replace(dates[record_id], record_id=record_id), now,
                not_before=floor,
            )
            async with session.begin_nested():
                await store_transition(session, workflow, matter.id, before, transition, now)
        except WorkflowError as exc:  # e.g. a staff action won the race: try next batch
            log.info("source_acceptance_skipped", matter=matter.id, code=exc.code.value)
            continue
        await session.refresh(matter)
        done.append(Accepted(matter, record_id, transition))
    return done


async def _held(session: AsyncSession, matter_ids: set[int]) -> set[tuple[int, int]]:
    """(matter, record) pairs whose source 受理 the matter's timeline already holds."""
    rows = await session.execute(
        select(MatterEvent.matter_id, MatterEvent.details).where(
            in_list(MatterEvent.matter_id.expression, "ids"),
            MatterEvent.action == MatterAction.ADMIT.value,
        ),
        {"ids": sorted(matter_ids)},
    )
    return {
        (matter_id, int(details["evidence_record_id"]))
        for matter_id, details in rows
        if details and str(details.get("evidence_record_id", "")).isdecimal()
    }


async def source_dates(
    session: AsyncSession, records: Sequence[Any]
) -> dict[int, SourceDates]:
    """Each record's own dates (来源日期): its receipt (``reported_at``) and, per kind, its
    acceptance (:data:`ACCEPTANCE_FIELD`) and own deadline (:data:`SOURCE_DEADLINE_FIELD`);
    one select per kind among them."""
    models = kind_models()
    fields: dict[int, tuple[Any, Any]] = {}
    for kind in sorted({r.kind for r in records}):
        accepted, deadline = ACCEPTANCE_FIELD.get(kind), SOURCE_DEADLINE_FIELD.get(kind)
        if accepted is None and deadline is None:
            continue
        table = models[kind]
        columns = [getattr(table, name) if name else literal(None)
                   for name in (accepted, deadline)]
        for record_id, accepted_value, deadline_value in await session.execute(
            select(table.id, *columns).where(in_list(table.id.expression, "ids")),
            {"ids": [r.id for r in records if r.kind is kind]},
        ):
            fields[record_id] = (accepted_value, deadline_value)
    dates = {}
    for r in records:
        accepted_value, deadline_value = fields.get(r.id, (None, None))
        dates[r.id] = source_dates_of(
            r.status, r.reported_at, accepted_value, deadline=deadline_value,
            source=f"{r.source.value} {r.source_key}", record_id=r.id,
        )
    return dates
