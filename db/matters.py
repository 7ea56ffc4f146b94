"""Matters at rest (事项存取): numbers, state, timeline and clocks, row by row.

The state machine (:mod:`domain.workflow`) decides; this module stores what it decided:
:func:`save_state` writes a :class:`~domain.workflow.state.MatterState` under an optimistic
version check (a stale version is :class:`~domain.workflow.errors.Conflict`),
:func:`append_events` adds timeline rows, :func:`apply_clock_ops` applies clock operations
to clock rows and re-derives their due and next-rung instants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ClockRow, ClockRung, Matter, MatterEvent, MatterNumber
from db.queries import insert_for, prefix_range
from domain.calendar import WorkingCalendar, to_local
from domain.deadlines import (
    Clock,
    ClockOp,
    ClockOpKind,
    Extension,
    RollRule,
    RuleBook,
    Suspension,
    TimeUnit,
)
from domain.enums import CaseStatus
from domain.masking import mask_text
from domain.workflow.errors import Conflict, IllegalTransition, NotFound
from domain.workflow.intake import SourceConclusion
from domain.workflow.state import MatterState, TimelineEvent, frozen_map
from domain.workflow.visibility import MatterScope
from domain.workflow.vocabulary import (
    OPEN_STEPS,
    ActorKind,
    MatterAction,
    MatterStep,
    SourceFact,
)

UNPLACED = "000000"


# -- numbers (一案一码) ---------------------------------------------------------------------------


def number_key(region_code: str | None, at: datetime) -> tuple[str, int]:
    """The counter a matter's number is drawn from: its county (6 digits) and Beijing year."""
    region = (region_code or UNPLACED)[:6].ljust(6, "0")
    return region, to_local(at).year


async def allocate_numbers(session: AsyncSession, keys: Sequence[tuple[str, int]]) -> list[str]:
    """One new number per key, in order: ``<region>-<year>-<sequence>`` (e.g.
    ``411202-2026-000017``). Counters only grow, so no number is given twice; the counter row
    is locked by the upsert until the transaction ends, so concurrent openers queue, those of
    a county's first matter of a year too (one creates the row, the other waits for it).
    The counters are taken in key order whatever the order of ``keys``: two openers of the
    same counties queue on them in one order and never deadlock."""
    wanted = Counter(keys)
    last: dict[tuple[str, int], int] = {}
    for (region, year), count in sorted(wanted.items()):
        bump = insert_for(session)(MatterNumber).values(region=region, year=year, last=count)
        bumped = await session.execute(
            bump.on_conflict_do_update(
                index_elements=[MatterNumber.region, MatterNumber.year],
                set_={"last": MatterNumber.last + count},
            ).returning(MatterNumber.last)
        )
        last[(region, year)] = bumped.scalar_one() - count
    numbers = []
    for key in keys:
        last[key] += 1
        numbers.append(f"{key[0]}-{key[1]}-{last[key]:06d}")
    return numbers


# -- state -------------------------------------------------------------------------------------


def state_of(row: Matter) -> MatterState:
    return MatterState(
        step=row.step,
        origin=row.origin,
        region_code=row.region_code,
        version=row.version,
        category=row.category,
        risk=row.risk,
        tier=row.tier,
        lead_org=row.lead_org,
        assigned_org=row.assigned_org,
        track=row.track,
        result=row.result,
        outcome=row.outcome,
        satisfaction=row.satisfaction,
        suspended=row.suspended,
        clocks=frozen_map(row.running_clocks or {}),
    )


def _state_columns(state: MatterState) -> dict[str, Any]:
    return {
        "step": state.step,
        "status": state.status,
        "category": state.category,
        "risk": state.risk,
        "tier": state.tier,
        "lead_org": state.lead_org,
        "assigned_org": state.assigned_org,
        "track": state.track,
        "result": state.result,
        "outcome": state.outcome,
        "satisfaction": state.satisfaction,
        "suspended": state.suspended,
        "running_clocks": dict(state.clocks),
        "version": state.version,
    }


def new_matter_row(state: MatterState, **fields: Any) -> Matter:
    return Matter(**_state_columns(state), origin=state.origin, region_code=state.region_code,
                  **fields)


async def save_state(
    session: AsyncSession, matter_id: int, before: int, state: MatterState, at: datetime
) -> None:
    """Write ``state`` if the row is still at version ``before``; else :class:`Conflict`."""
    columns = _state_columns(state)
    columns["updated_at"] = at
    if state.step not in OPEN_STEPS:
        # the moment it left the open steps (结案, 撤回, 并案): a step after that (回访, a fact
        # recorded on a closed matter) keeps it, so the closure stays in its own period
        columns["closed_at"] = func.coalesce(Matter.closed_at, literal(at, Matter.closed_at.type))
    else:  # reopened (回访不满意)
        columns["closed_at"] = None
    written = await session.execute(
        update(Matter)
        .where(Matter.id == matter_id, Matter.version == before)
        .values(**columns)
        .execution_options(synchronize_session=False)
    )
    if written.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise Conflict(f"matter {matter_id} changed meanwhile (version {before} is stale)")


async def bump_version(session: AsyncSession, row: Matter, now: datetime) -> int:
    """Move the matter to its next version, nothing else changed, if it is still at the one
    ``row`` holds (else :class:`Conflict`): what changes a matter beside its state (its
    records, a 督办单) conflicts, like a step, with whatever changed it meanwhile."""
    state = state_of(row)
    await save_state(session, row.id, state.version, replace(state, version=state.version + 1),
                     now)
    return state.version + 1


async def load_matter(session: AsyncSession, matter_id: int, scope: MatterScope) -> Matter:
    """The matter, if it exists within ``scope``; otherwise :class:`NotFound` (a matter out
    of reach does not exist for the caller)."""
    row = await session.get(Matter, matter_id, populate_existing=True)
    if row is None or not scope.admits(row.region_code, row.assigned_org):
        raise NotFound(f"matter {matter_id} does not exist")
    return row


def matter_scope_conditions(scope: MatterScope) -> list[ColumnElement[bool]]:
    """The SQL of :class:`~domain.workflow.visibility.MatterScope` on ``matters``."""
    if scope.nothing:
        return [false()]
    conditions: list[ColumnElement[bool]] = []
    if scope.org is not None:
        conditions.append(Matter.assigned_org == scope.org)
    places = scope.places
    if places is not None:
        if "" in places.region_prefixes:
            if not places.unplaced:
                conditions.append(Matter.region_code.is_not(None))
            return conditions
        ranges: list[ColumnElement[bool]] = [
            and_(Matter.region_code >= low, Matter.region_code < high)
            for low, high in map(prefix_range, places.region_prefixes)
        ]
        if places.unplaced:
            ranges.append(Matter.region_code.is_(None))
        conditions.append(or_(*ranges) if ranges else false())
    return conditions


# -- timeline ----------------------------------------------------------------------------------


def event_row(matter_id: int, event: TimelineEvent) -> MatterEvent:
    return MatterEvent(
        matter_id=matter_id,
        action=event.action.value,
        at=event.at,
        actor_kind=event.actor_kind,
        actor_sub=event.actor_sub,
        actor_role=event.actor_role.value if event.actor_role else None,
        actor_org=event.actor_org,
        from_step=event.from_step,
        to_step=event.to_step,
        note=typed_text(event.note, event.actor_kind),
        details=dict(event.details),
    )


def append_events(session: AsyncSession, matter_id: int, events: Iterable[TimelineEvent]) -> None:
    session.add_all(event_row(matter_id, event) for event in events)


def typed_text(text: str, actor_kind: ActorKind | None) -> str:
    """Free text as a matter keeps it: what a person typed with an ID number or phone in it
    masked (an identifier belongs in a party's sealed fields); the hub's own text as it is
    (it names records by source keys, which may look like an ID number)."""
    return text if actor_kind is ActorKind.SYSTEM else mask_text(text)


def system_event(
    matter_id: int,
    action: str,
    at: datetime,
    by: str,
    step: MatterStep,
    note: str = "",
    details: Mapping[str, str] | None = None,
) -> MatterEvent:
    """A timeline row the hub itself writes (a rung fired, a record joined)."""
    return MatterEvent(
        matter_id=matter_id, action=action, at=at, actor_kind=ActorKind.SYSTEM,
        actor_sub=by, actor_role=None, actor_org="", from_step=step, to_step=step,
        note=note, details=dict(details or {}),
    )


# -- clocks ------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def clock_of(row: ClockRow) -> Clock:
    ledger = row.ledger or {}
    suspensions = tuple(
        Suspension(datetime.fromisoformat(s), _instant(e), reason)
        for s, e, reason in ledger.get("suspensions", [])
    )
    extensions = tuple(
        Extension(amount, datetime.fromisoformat(at), approval, reason)
        for amount, at, approval, reason in ledger.get("extensions", [])
    )
    return Clock(
        rule_id=row.rule_id,
        budget=row.budget,
        unit=TimeUnit(row.unit),
        started_at=row.started_at,
        start_day_counts=row.start_day_counts,
        roll=RollRule(row.roll),
        suspendable=row.suspendable,
        max_extension=row.max_extension,
        warn_percents=tuple(row.warn_percents or ()),
        suspensions=suspensions,
        extensions=extensions,
        stopped_at=row.stopped_at,
        stop_reason=row.stop_reason,
    )


CALENDAR_VERSION_LENGTH = 200
"""``clocks.calendar_version`` keeps this many characters of the calendar's version."""


def write_clock(
    row: ClockRow, clock: Clock, calendar: WorkingCalendar, fired: Iterable[str] = ()
) -> None:
    """Store ``clock``'s ledger on ``row`` and re-derive its due and next-rung instants."""
    row.rule_id, row.budget, row.unit = clock.rule_id, clock.budget, clock.unit.value
    row.started_at, row.start_day_counts = clock.started_at, clock.start_day_counts
    row.roll, row.suspendable = clock.roll.value, clock.suspendable
    row.max_extension, row.warn_percents = clock.max_extension, list(clock.warn_percents)
    row.ledger = {
        "suspensions": [[_iso(s.start), _iso(s.end), s.reason] for s in clock.suspensions],
        "extensions": [[e.amount, _iso(e.at), e.approval, e.reason] for e in clock.extensions],
    }
    row.stopped_at, row.stop_reason = clock.stopped_at, clock.stop_reason[:64]
    schedule = clock.schedule(calendar)
    row.due_at = schedule.due_at
    row.provisional = schedule.provisional
    row.calendar_version = schedule.calendar_version[:CALENDAR_VERSION_LENGTH]
    row.next_rung_at = clock.next_rung_at(calendar, frozenset(fired))


async def running_clocks(
    session: AsyncSession, matter_id: int, supervision_id: int | None = None
) -> dict[str, ClockRow]:
    """The running clocks of a matter (or of one of its 督办单), by rule id."""
    owner = (
        ClockRow.supervision_id.is_(None)
        if supervision_id is None
        else ClockRow.supervision_id == supervision_id
    )
    rows = await session.scalars(
        select(ClockRow).where(
            ClockRow.matter_id == matter_id, owner, ClockRow.stopped_at.is_(None)
        )
    )
    return {row.rule_id: row for row in rows}


async def fired_rungs(session: AsyncSession, clock_ids: Collection[int]) -> dict[int, set[str]]:
    fired: dict[int, set[str]] = {clock_id: set() for clock_id in clock_ids}
    if clock_ids:
        rows = await session.execute(
            select(ClockRung.clock_id, ClockRung.rung).where(ClockRung.clock_id.in_(clock_ids))
        )
        for clock_id, rung in rows:
            fired[clock_id].add(rung)
    return fired


def started_clocks(
    matter_id: int,
    ops: Sequence[ClockOp],
    rules: RuleBook,
    calendar: WorkingCalendar,
    *,
    supervision_id: int | None = None,
) -> list[ClockRow]:
    """New clock rows for a new matter (or 督办单): it has no clocks yet, so there is nothing
    to read first. Its operations start clocks and may stop one they started (a matter taken
    over from a source's dates); nothing else."""
    clocks: list[tuple[str, Clock]] = []
    running: dict[str, int] = {}
    for op in ops:
        if op.kind is ClockOpKind.START:
            running[op.rule_id] = len(clocks)
            clocks.append((op.rule_id, Clock.start(rules[op.rule_id], op.at)))
        elif op.kind is ClockOpKind.STOP and op.rule_id in running:
            index = running.pop(op.rule_id)
            clocks[index] = (op.rule_id, clocks[index][1].apply(op))
        else:  # pragma: no cover - a new owner only starts and stops
            raise ValueError(f"a new owner's clock cannot {op.kind.value}")
    rows = []
    for _, clock in clocks:
        row = ClockRow(matter_id=matter_id, supervision_id=supervision_id)
        write_clock(row, clock, calendar)
        rows.append(row)
    return rows


async def apply_clock_ops(
    session: AsyncSession,
    matter_id: int,
    ops: Sequence[ClockOp],
    rules: RuleBook,
    calendar: WorkingCalendar,
    *,
    supervision_id: int | None = None,
) -> list[ClockRow]:
    """Apply the machine's clock operations, in order; returns the rows touched."""
    if not ops:
        return []
    running = await running_clocks(session, matter_id, supervision_id)
    fired = await fired_rungs(session, [row.id for row in running.values()])
    touched: list[ClockRow] = []
    for op in ops:
        if op.kind is ClockOpKind.START:
            row = ClockRow(matter_id=matter_id, supervision_id=supervision_id)
            write_clock(row, Clock.start(rules[op.rule_id], op.at), calendar)
            session.add(row)
            running[op.rule_id] = row
        else:
            found = running.get(op.rule_id)
            if found is None:  # a rule dropped from the file while its clock ran: nothing to do
                continue
            row = found
            if op.kind is ClockOpKind.EXTEND and row.due_at is not None and op.at >= row.due_at:
                # 延期 is asked for while the limit still runs: granted after it ran out, it
                # would turn a breach already declared (and a late matter) into one on time
                raise IllegalTransition(
                    f"clock {op.rule_id} ran out at {to_local(row.due_at).isoformat()}: "
                    "an extension is granted before its limit (期限届满前申请延期)"
                )
            write_clock(row, clock_of(row).apply(op), calendar, fired.get(row.id, ()))
            if op.kind is ClockOpKind.STOP:
                del running[op.rule_id]
        touched.append(row)
    await session.flush()
    return touched


async def held_source_conclusion(
    session: AsyncSession, matter_id: int
) -> SourceConclusion | None:
    """The last conclusion of its ORIGIN record's source (来源系统已办结) the matter's
    timeline holds, as the fact row recorded it; None: none."""
    rows = await session.scalars(
        select(MatterEvent.details)
        .where(MatterEvent.matter_id == matter_id,
               MatterEvent.action == MatterAction.RECORD_FACT.value)
        .order_by(MatterEvent.id.desc())
    )  # fmt: skip
    for details in rows:
        if not details or details.get("fact") != SourceFact.SOURCE_CONCLUDED.value:
            continue
        record_id, status = details.get("evidence_record_id", ""), details.get("record_status", "")
        if not record_id.isdecimal() or status not in CaseStatus.__members__:
            continue
        return SourceConclusion(int(record_id), CaseStatus(status),
                                datetime.fromisoformat(details["at"]))
    return None
