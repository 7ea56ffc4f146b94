"""A clock (计时器) stores a budget and what happened to it, and derives everything else.

What is stored: the budget and how it is counted (copied from the rule when the clock starts,
so a later edit of the rules file does not move a running deadline), the start instant, the
suspensions (挂起, time not counted), the extensions (延期) and the stop. What is derived,
every time, from those and a :class:`~domain.calendar.WorkingCalendar`: the due instant, the
warning rungs (预警), the state and the time remaining. Suspending, resuming, extending or a
new calendar therefore always recomputes; nothing is computed once and left to go stale.

How a budget is counted
-----------------------
Day units count whole Beijing days (the law counts days, 民法典 §§200–203):

* the day of the start event is not counted (民法典 §201) unless the rule says it is;
* ``calendar_day`` counts every day, ``working_day`` only working days (调休 Saturdays count);
* the deadline is 24:00 of the last counted day; with ``roll = next_working_day`` a last day
  that is not a working day moves to the next working day (民法典 §203);
* a suspension from day S to day R takes days S … R−1 out of the count: the day it starts
  is not charged, the day it ends counts again. A suspension within one day changes nothing.

Hour units count time: ``hour`` around the clock, ``working_hour`` only office hours of working
days; a suspension takes exactly its own span out.

Rungs: ``warn50``, ``warn80`` … fire when that share of the budget (extensions included) is
used — for day units when ``ceil(share × budget)`` days are used up, at 24:00 of that day —
and ``due`` fires at the due instant. A warning that would fall on the due instant is left
out. Rung keys never change, so a scanner claims ``(clock, rung)`` once; a rung that fired
does not fire again after an extension moves it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.calendar import ONE_DAY, WorkingCalendar, local_date, start_of_day, to_local
from domain.deadlines.counting import Counter
from domain.deadlines.rules import DeadlineRule, RollRule, TimeUnit
from domain.workflow.errors import BadInput, IllegalTransition

DUE = "due"


def warn_key(percent: int) -> str:
    return f"warn{percent}"


class ClockState(StrEnum):
    """Where a clock stands (计时状态)."""

    RUNNING = "RUNNING"  # 计时中
    WARNED = "WARNED"  # 已预警
    OVERDUE = "OVERDUE"  # 已逾期
    SUSPENDED = "SUSPENDED"  # 已挂起
    STOPPED = "STOPPED"  # 已停止


@dataclass(frozen=True, slots=True)
class Suspension:
    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True, slots=True)
class Extension:
    amount: int
    at: datetime
    approval: str
    """Who approved it and how (e.g. 负责人批准 and the document number)."""
    reason: str


@dataclass(frozen=True, slots=True)
class Rung:
    """One instant a scanner acts on: a warning (预警) or the deadline itself (逾期)."""

    key: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Schedule:
    """What a clock derives from its ledger under one calendar."""

    due_at: datetime | None
    """None while suspended: the deadline is unknown until the clock resumes."""
    last_day: date | None
    """The last day of the period (届满日) for day units, after roll-forward."""
    rungs: tuple[Rung, ...]
    """Rungs known so far, in time order (``due`` last)."""
    provisional: bool
    """Rests on days beyond the published holiday schedule; recompute when data arrives."""
    calendar_version: str


@dataclass(frozen=True, slots=True)
class ClockReading:
    """A clock as seen at one instant."""

    state: ClockState
    due_at: datetime | None
    remaining: timedelta
    """Counted time until due (negative once overdue), in the clock's own counting: real time
    for ``hour`` and ``calendar_day``, 24 h per working day for ``working_day``, office time
    for ``working_hour``. Frozen while suspended; at the stop for a stopped clock."""
    provisional: bool
    met: bool | None
    """For a stopped clock: whether it stopped in time; None while it runs."""


class ClockOpKind(StrEnum):
    START = "START"
    STOP = "STOP"
    SUSPEND = "SUSPEND"
    RESUME = "RESUME"
    EXTEND = "EXTEND"


@dataclass(frozen=True, slots=True)
class ClockOp:
    """One change to one clock (identified by its rule id within the matter or 督办单)."""

    kind: ClockOpKind
    rule_id: str
    at: datetime
    reason: str = ""
    amount: int = 0
    approval: str = ""


@dataclass(frozen=True, slots=True)
class Clock:
    """A budget and its ledger (see the module docstring for how it counts)."""

    rule_id: str
    budget: int
    unit: TimeUnit
    started_at: datetime
    start_day_counts: bool = False
    roll: RollRule = RollRule.NONE
    suspendable: bool = False
    max_extension: int | None = 0
    """The most all extensions may add up to; None when unlimited."""
    warn_percents: tuple[int, ...] = (50, 80)
    suspensions: tuple[Suspension, ...] = ()
    extensions: tuple[Extension, ...] = ()
    stopped_at: datetime | None = None
    stop_reason: str = ""

    def __post_init__(self) -> None:
        to_local(self.started_at)  # refuses a naive start

    @classmethod
    def start(cls, rule: DeadlineRule, at: datetime) -> Clock:
        return cls(
            rule_id=rule.id,
            budget=rule.budget,
            unit=rule.unit,
            started_at=at,
            start_day_counts=rule.start_day_counts,
            roll=rule.roll,
            suspendable=rule.suspendable,
            max_extension=rule.extension_limit,
            warn_percents=rule.warn_percents,
        )

    # -- the ledger -------------------------------------------------------------------------

    @property
    def total_budget(self) -> int:
        return self.budget + self.extended

    @property
    def extended(self) -> int:
        return sum(e.amount for e in self.extensions)

    @property
    def suspended(self) -> bool:
        return bool(self.suspensions) and self.suspensions[-1].end is None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def last_event_at(self) -> datetime:
        """Its latest recorded instant (start, suspensions, extensions): nothing may be
        recorded on it before this."""
        instants = [self.started_at]
        for s in self.suspensions:
            instants += [s.start] + ([s.end] if s.end else [])
        instants += [e.at for e in self.extensions]
        return max(instants)

    def _not_before_last_event(self, at: datetime) -> None:
        if at < self.last_event_at():
            raise BadInput("a clock's events must be recorded in time order")

    def suspend(self, at: datetime, reason: str) -> Clock:
        if self.stopped:
            raise IllegalTransition(f"clock {self.rule_id} has stopped")
        if not self.suspendable:
            raise IllegalTransition(f"clock {self.rule_id} cannot be suspended")
        if self.suspended:
            raise IllegalTransition(f"clock {self.rule_id} is already suspended")
        self._not_before_last_event(at)
        return replace(self, suspensions=(*self.suspensions, Suspension(at, None, reason)))

    def resume(self, at: datetime) -> Clock:
        if not self.suspended:
            raise IllegalTransition(f"clock {self.rule_id} is not suspended")
        self._not_before_last_event(at)
        last = self.suspensions[-1]
        return replace(self, suspensions=(*self.suspensions[:-1], replace(last, end=at)))

    def extend(self, amount: int, at: datetime, approval: str, reason: str) -> Clock:
        if self.stopped:
            raise IllegalTransition(f"clock {self.rule_id} has stopped")
        if self.max_extension == 0:
            raise IllegalTransition(f"clock {self.rule_id} cannot be extended")
        if amount <= 0:
            raise BadInput("an extension must be positive")
        if self.max_extension is not None and self.extended + amount > self.max_extension:
            raise BadInput(
                f"clock {self.rule_id} may be extended by {self.max_extension} in all; "
                f"{self.extended} already granted"
            )
        self._not_before_last_event(at)
        return replace(self, extensions=(*self.extensions, Extension(amount, at, approval, reason)))

    def stop(self, at: datetime, reason: str) -> Clock:
        if self.stopped:
            raise IllegalTransition(f"clock {self.rule_id} has already stopped")
        self._not_before_last_event(at)
        clock = self.resume(at) if self.suspended else self
        return replace(clock, stopped_at=at, stop_reason=reason)

    def apply(self, op: ClockOp) -> Clock:
        """The clock after ``op`` (START is :meth:`start`, from the rule)."""
        if op.rule_id != self.rule_id:
            raise ValueError(f"operation for {op.rule_id} applied to clock {self.rule_id}")
        match op.kind:
            case ClockOpKind.STOP:
                return self.stop(op.at, op.reason)
            case ClockOpKind.SUSPEND:
                return self.suspend(op.at, op.reason)
            case ClockOpKind.RESUME:
                return self.resume(op.at)
            case ClockOpKind.EXTEND:
                return self.extend(op.amount, op.at, op.approval, op.reason)
            case _:
                raise IllegalTransition(f"clock {self.rule_id} has already started")

    # -- derived ----------------------------------------------------------------------------

    @property
    def _spans(self) -> tuple[tuple[datetime, datetime | None], ...]:
        return tuple((s.start, s.end) for s in self.suspensions)

    def _counter(self, calendar: WorkingCalendar) -> Counter:
        return Counter(calendar, self.unit)

    def schedule(self, calendar: WorkingCalendar) -> Schedule:
        """Due instant and rungs under ``calendar``."""
        total = self.total_budget
        warnings = [(p, -(-p * total // 100)) for p in self.warn_percents]  # ceil, in units
        if self.unit.counts_days:
            return self._day_schedule(calendar, total, warnings)
        return self._time_schedule(calendar, total)

    def _day_schedule(
        self, calendar: WorkingCalendar, total: int, warnings: list[tuple[int, int]]
    ) -> Schedule:
        first = local_date(self.started_at) + (timedelta() if self.start_day_counts else ONE_DAY)
        counted, provisional = self._counter(calendar).counted_days(first, self._spans, total)
        rungs = [
            Rung(warn_key(p), start_of_day(counted[units - 1] + ONE_DAY))
            for p, units in warnings
            if units < total and units <= len(counted)
        ]
        if len(counted) < total:  # suspended before the budget ran out
            return Schedule(None, None, tuple(rungs), provisional, calendar.version)
        last_day = counted[-1]
        if self.roll is RollRule.NEXT_WORKING_DAY:
            answer = calendar.working_day_on_or_after(last_day)
            last_day, provisional = answer.day, provisional or answer.provisional
        due_at = start_of_day(last_day + ONE_DAY)
        rungs.append(Rung(DUE, due_at))
        return Schedule(due_at, last_day, tuple(rungs), provisional, calendar.version)

    def _time_schedule(self, calendar: WorkingCalendar, total: int) -> Schedule:
        counter = self._counter(calendar)
        budget = timedelta(hours=total)
        provisional = False
        rungs = []
        for p in self.warn_percents:
            amount = budget * p / 100
            if amount >= budget:
                continue
            at, prov = counter.when_used(self.started_at, self._spans, amount)
            provisional |= prov
            if at is not None:
                rungs.append(Rung(warn_key(p), at))
        due_at, prov = counter.when_used(self.started_at, self._spans, budget)
        provisional |= prov
        if due_at is not None:
            rungs.append(Rung(DUE, due_at))
        return Schedule(due_at, None, tuple(rungs), provisional, calendar.version)

    def read(self, calendar: WorkingCalendar, now: datetime) -> ClockReading:
        """The clock's state, due instant and remaining time at ``now``."""
        schedule = self.schedule(calendar)
        if self.suspended:
            frozen_at = self.suspensions[-1].start
            projected = replace(self, suspensions=self.suspensions[:-1]).schedule(calendar)
            remaining = self._remaining(calendar, frozen_at, projected.due_at)
            return ClockReading(
                ClockState.SUSPENDED, None, remaining, schedule.provisional, None
            )
        if schedule.due_at is None:  # pragma: no cover - only an open suspension leaves it so
            raise AssertionError(f"clock {self.rule_id} has no due instant")
        if self.stopped_at is not None:
            remaining = self._remaining(calendar, self.stopped_at, schedule.due_at)
            met = self.stopped_at <= schedule.due_at
            return ClockReading(
                ClockState.STOPPED, schedule.due_at, remaining, schedule.provisional, met
            )
        if now >= schedule.due_at:
            state = ClockState.OVERDUE
        elif any(r.at <= now for r in schedule.rungs):
            state = ClockState.WARNED
        else:
            state = ClockState.RUNNING
        remaining = self._remaining(calendar, now, schedule.due_at)
        return ClockReading(state, schedule.due_at, remaining, schedule.provisional, None)

    def _remaining(
        self, calendar: WorkingCalendar, at: datetime, due_at: datetime | None
    ) -> timedelta:
        if due_at is None:
            return timedelta()
        counter = self._counter(calendar)
        if at <= due_at:
            return counter.counted(at, due_at)[0]
        return -counter.counted(due_at, at)[0]

    def pending_rungs(
        self, calendar: WorkingCalendar, now: datetime, fired: Collection[str] = ()
    ) -> tuple[Rung, ...]:
        """Rungs due by ``now`` that have not fired; none while suspended or stopped."""
        if self.suspended or self.stopped:
            return ()
        return tuple(
            r for r in self.schedule(calendar).rungs if r.at <= now and r.key not in fired
        )

    def next_rung_at(
        self, calendar: WorkingCalendar, fired: Collection[str] = ()
    ) -> datetime | None:
        """The earliest rung not yet fired (index it: the scanner asks ``next_rung_at <= now``)."""
        if self.suspended or self.stopped:
            return None
        pending = [r.at for r in self.schedule(calendar).rungs if r.key not in fired]
        return min(pending, default=None)
