"""Counting a budget in one unit (计算期间) against a working calendar, around suspensions.

:class:`~domain.deadlines.clock.Clock` says what is counted; this module says how: which days
count for the day units, how much counted time lies between two instants and when an amount
of it is used up for the hour units. Suspensions arrive as ``(start, end)`` spans, ``end``
None while one lasts. See the clock module's docstring for the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.calendar import ONE_DAY, WorkingCalendar, local_date, start_of_day, to_local
from domain.deadlines.rules import TimeUnit

Span = tuple[datetime, datetime | None]


@dataclass(frozen=True, slots=True)
class Counter:
    calendar: WorkingCalendar
    unit: TimeUnit

    def counted_days(
        self, first: date, spans: Sequence[Span], total: int
    ) -> tuple[list[date], bool]:
        """The counted days from ``first`` on, up to ``total`` of them (fewer when a suspension
        has not ended), and whether any day consulted lies beyond the published calendar.

        A span from day S to day R takes S … R−1 out; one that has not ended takes all from S.
        """
        if not spans and self.unit is not TimeUnit.WORKING_DAY:  # every day counts
            return [first + ONE_DAY * n for n in range(total)], False
        paused = [(local_date(s), local_date(e) if e else None) for s, e in spans]
        counted: list[date] = []
        provisional = False
        day = first
        while len(counted) < total:
            if any(start <= day and end is None for start, end in paused):
                break
            excluded = any(end is not None and start <= day < end for start, end in paused)
            if not excluded and self.unit is TimeUnit.WORKING_DAY:
                provisional |= not self.calendar.is_published(day)
                excluded = not self.calendar.is_working_day(day)
            if not excluded:
                counted.append(day)
            day += ONE_DAY
        return counted, provisional

    def when_used(
        self, start: datetime, spans: Sequence[Span], amount: timedelta
    ) -> tuple[datetime | None, bool]:
        """The instant ``amount`` of counted time from ``start`` is used, skipping the spans;
        None when a span that has not ended comes first."""
        position, provisional = start, False
        for span_start, span_end in spans:
            candidate, prov = self.advance(position, amount)
            if candidate <= span_start:
                return candidate, provisional or prov
            used, prov = self.counted(position, span_start)
            provisional |= prov
            amount -= used
            if span_end is None:
                return None, provisional
            position = max(position, span_end)
        at, prov = self.advance(position, amount)
        return at, provisional or prov

    def advance(self, start: datetime, amount: timedelta) -> tuple[datetime, bool]:
        """``start`` plus ``amount`` of counted time (hour units)."""
        if self.unit is TimeUnit.WORKING_HOUR:
            answer = self.calendar.add_working_time(start, amount)
            return answer.instant, answer.provisional
        return to_local(start) + amount, False

    def counted(self, start: datetime, end: datetime) -> tuple[timedelta, bool]:
        """Counted time in ``[start, end)``: real time for ``hour`` and ``calendar_day``,
        office time for ``working_hour``, the working days' 24 hours for ``working_day``."""
        if end <= start:
            return timedelta(), False
        if self.unit is TimeUnit.WORKING_HOUR:
            return self.calendar.working_time_between(start, end)
        if self.unit is not TimeUnit.WORKING_DAY:
            return end - start, False
        total, provisional = timedelta(), False
        day = local_date(start)
        while day <= local_date(end):
            provisional |= not self.calendar.is_published(day)
            if self.calendar.is_working_day(day):
                overlap = min(end, start_of_day(day + ONE_DAY)) - max(start, start_of_day(day))
                total += max(overlap, timedelta())
            day += ONE_DAY
        return total, provisional
