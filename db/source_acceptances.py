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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.matter_workflow import MatterWorkflow
from db.models import Matter
from db.models.records import kind_models
from db.queries import in_list
from db.source_steps import TakenAtSource, apply_each_at_source, citing, origin_matters
from domain.workflow.actors import Actor
from domain.workflow.intake import (
    ACCEPTANCE_FIELD,
    PROGRESS,
    SOURCE_DEADLINE_FIELD,
    SourceDates,
    source_dates_of,
)
from domain.workflow.state import Transition
from domain.workflow.vocabulary import MatterAction, MatterStep, SourceFact


async def take_acceptances(
    session: AsyncSession,
    workflow: MatterWorkflow,
    records: Mapping[int, Any],
    actor: Actor,
    now: datetime,
) -> list[TakenAtSource]:
    """ADMIT with ``SOURCE_ACCEPTED`` on each matter still 已登记 whose ORIGIN record among
    ``records`` (intake's rows) its source now reports accepted or in progress; one savepoint
    per matter, a refusal is logged and skipped."""
    accepted = {rid: r for rid, r in records.items() if r.status in PROGRESS}
    if not accepted:
        return []
    origins = await origin_matters(
        session, accepted, Matter.step == MatterStep.REGISTERED, Matter.suspended.is_(False)
    )
    held = await citing(session, {m.id for _, m in origins}, MatterAction.ADMIT.value)
    todo = [(rid, matter) for rid, matter in origins if (matter.id, rid) not in held]
    if not todo:
        return []
    dates = await source_dates(session, [accepted[rid] for rid, _ in todo])
    stopped = {rule.id for trigger in (MatterAction.ADMIT, SourceFact.SOURCE_ACCEPTED)
               for rule in workflow.rules.stopped_by(trigger)}

    def accept(record_id: int) -> Callable[..., Transition]:
        return partial(workflow.machine.accept_at_source, actor=actor,
                       dates=replace(dates[record_id], record_id=record_id), now=now)  # fmt: skip

    return await apply_each_at_source(
        session, workflow, todo, stopped, accept, now, "source_acceptance_skipped"
    )


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
