"""A source's conclusion of a matter no department works on (来源系统已办结), at intake.

A matter opened from a synced record and not dispatched (:data:`UNDISPATCHED`) takes no
feedback: its ORIGIN record's own system is the one handling it (the petition system under
§34, the 调委会), on the source's clocks (``petition.source_handle``,
``mediation.source_people``). When that record concludes there (:data:`SOURCE_CONCLUSIONS`),
intake records the fact ``SOURCE_CONCLUDED`` on the matter's timeline — by the sync's system
actor, the record as evidence, on the source's own date — and the rules stop the source's
clocks at that date: the matter is no longer overdue if the source finished in time, and
counts late if it did not. The matter keeps its step: the centre still verifies and closes
it. A record whose conclusion a matter already holds (a re-sync) adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.matter_workflow import MatterWorkflow
from db.models import Matter
from db.models.records import kind_models
from db.queries import in_list
from db.source_steps import TakenAtSource, apply_each_at_source, citing, origin_matters
from domain.workflow.actors import Actor
from domain.workflow.intake import (
    CONCLUSION_FIELD,
    SOURCE_CONCLUSIONS,
    UNDISPATCHED,
    SourceConclusion,
    source_conclusion_of,
)
from domain.workflow.state import Transition
from domain.workflow.vocabulary import MatterAction, SourceFact

_FACT = SourceFact.SOURCE_CONCLUDED



async def take_conclusions(
    session: AsyncSession,
    workflow: MatterWorkflow,
    records: Mapping[int, Any],
    actor: Actor,
    now: datetime,
) -> list[TakenAtSource]:
    """Record ``SOURCE_CONCLUDED`` on each undispatched matter whose ORIGIN record among
    ``records`` (intake's rows, with ``source_updated_at`` and ``source_status``) its source
    has concluded; one savepoint per matter, a refusal is logged and skipped."""
    concluded = {rid: r for rid, r in records.items() if r.status in SOURCE_CONCLUSIONS}
    if not concluded:
        return []
    origins = await origin_matters(
        session, concluded, Matter.step.in_(sorted(UNDISPATCHED))
    )
    held = await citing(
        session, {m.id for _, m in origins}, MatterAction.RECORD_FACT.value, _FACT.value
    )
    todo = [(rid, matter) for rid, matter in origins if (matter.id, rid) not in held]
    if not todo:
        return []
    conclusions = await _conclusions(session, [concluded[rid] for rid, _ in todo])
    stopped = {rule.id for rule in workflow.rules.stopped_by(_FACT)}

    def conclude(record_id: int) -> Callable[..., Transition]:
        return partial(workflow.machine.conclude_at_source,
                       actor=actor, conclusion=conclusions[record_id], now=now)  # fmt: skip

    return await apply_each_at_source(
        session, workflow, todo, stopped, conclude, now, "source_conclusion_skipped"
    )


async def _conclusions(
    session: AsyncSession, records: Sequence[Any]
) -> dict[int, SourceConclusion]:
    """Each record's conclusion on its source's date (:data:`CONCLUSION_FIELD`, else its
    ``source_updated_at``); one select per kind that has a date of its own."""
    models = kind_models()
    own: dict[int, Any] = {}
    for kind in sorted({r.kind for r in records if r.kind in CONCLUSION_FIELD}):
        table, (name, _) = models[kind], CONCLUSION_FIELD[kind]
        rows = await session.execute(
            select(table.id, getattr(table, name)).where(in_list(table.id.expression, "ids")),
            {"ids": [r.id for r in records if r.kind is kind]},
        )
        own.update({record_id: value for record_id, value in rows})
    return {
        r.id: source_conclusion_of(
            r.id, r.status, r.source_updated_at, own.get(r.id),
            dated_status=CONCLUSION_FIELD.get(r.kind, (None, None))[1],
            source=f"{r.source.value} {r.source_key}（{r.source_status or r.status.value}）",
        )
        for r in records
    }
