"""The working-day calendar (工作日历) every deadline is measured against.

One small interface, :class:`WorkingCalendar`: which days are working days (工作日) in
Asia/Shanghai, which instants fall inside office hours (办公时间), and how far the calendar's
published data reaches. The implementation, :class:`ChineseWorkingCalendar`, reads the State
Council's yearly holiday schedule (国务院办公厅放假安排, with its 调休 working weekends) from the
``chinesecalendar`` package, and a local override table (closure days such as typhoon days,
local 调休) takes precedence over it.

The schedule for a year is published around November of the year before, so dates beyond the
package's data are unknown, not errors: they count Monday to Friday as working days and every
answer that consulted such a day says ``provisional`` — a deadline computed with it is
recomputed when the data arrives (the calendar's :attr:`~WorkingCalendar.version` changes).

The calendar answers questions about days and instants; deadline arithmetic (start day
excluded, roll-forward, suspensions) lives in :mod:`domain.deadlines`.
"""

from __future__ import annotations

import hashlib
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar

from domain.rulefiles import read_utf8

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""Every date a deadline speaks of is a Beijing date (北京时间)."""

ONE_DAY = timedelta(days=1)


def local_date(instant: datetime) -> date:
    """The Beijing date of an instant; a naive datetime is refused, not guessed."""
    return to_local(instant).date()


def to_local(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("a deadline instant must carry a time zone")
    return instant.astimezone(SHANGHAI)


def start_of_day(day: date) -> datetime:
    """00:00 Beijing time on ``day``; the end of ``day`` (24:00) is ``start_of_day(day + 1)``."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


@dataclass(frozen=True, slots=True)
class DayAnswer:
    """A date a calendar computed, and whether it rests on unpublished schedule data."""

    day: date
    provisional: bool


@dataclass(frozen=True, slots=True)
class InstantAnswer:
    """An instant a calendar computed, and whether it rests on unpublished schedule data."""

    instant: datetime
    provisional: bool


@dataclass(frozen=True, slots=True)
class OfficeWindow:
    """One stretch of office hours on a working day, e.g. 08:30–12:00."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"office window {self.start}–{self.end} must end after it starts")


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """The office hours of every working day (办公时间), in order, not overlapping."""

    windows: tuple[OfficeWindow, ...]

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("office hours need at least one window")
        for earlier, later in zip(self.windows, self.windows[1:], strict=False):
            if not earlier.end <= later.start:
                raise ValueError("office windows must be in order and must not overlap")

    @classmethod
    def parse(cls, spans: Iterable[str]) -> OfficeHours:
        """``["08:30-12:00", "14:00-17:30"]`` → office hours."""
        windows = []
        for span in spans:
            start, sep, end = span.partition("-")
            if not sep:
                raise ValueError(f"office window {span!r} must read HH:MM-HH:MM")
            windows.append(OfficeWindow(time.fromisoformat(start), time.fromisoformat(end)))
        return cls(tuple(windows))

    def per_day(self) -> timedelta:
        day = date(2000, 1, 1)
        return sum(
            (datetime.combine(day, w.end) - datetime.combine(day, w.start) for w in self.windows),
            timedelta(),
        )

    def on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The windows of ``day`` as Beijing instants."""
        for window in self.windows:
            yield (
                datetime.combine(day, window.start, tzinfo=SHANGHAI),
                datetime.combine(day, window.end, tzinfo=SHANGHAI),
            )

    def describe(self) -> str:
        return ",".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in self.windows)


DEFAULT_OFFICE_HOURS = OfficeHours.parse(["08:30-12:00", "14:00-17:30"])
"""A common government office day (上午 8:30–12:00, 下午 14:00–17:30); set it per centre."""


@dataclass(frozen=True, slots=True)
class CalendarOverride:
    """A local decision about one day (本地调整): a closure (停工) or a local 调休 working day."""

    day: date
    working: bool
    reason: str


class WorkingCalendar(ABC):
    """Which days are working days and when the office is open, in Asia/Shanghai.

    Implementations answer :meth:`is_working_day` and :meth:`is_published`; everything else
    is derived here, so every calendar counts the same way.
    """

    office_hours: OfficeHours

    @abstractmethod
    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (工作日, 含调休上班日). Never raises for a real date:
        a day beyond the published data is a working day exactly when it is Monday–Friday."""

    @abstractmethod
    def is_published(self, day: date) -> bool:
        """Whether the answer for ``day`` rests on published data (or a local override)."""

    @property
    @abstractmethod
    def coverage_end(self) -> date:
        """The last day of the published schedule data; later days are provisional."""

    @property
    @abstractmethod
    def version(self) -> str:
        """Changes whenever any answer may change (new data, new overrides, new hours).

        Store it with each derived deadline; a deadline computed under another version is
        recomputed.
        """

    def working_day(self, day: date) -> DayAnswer:
        """Whether ``day`` is a working day, as an answer that says if it is provisional."""
        return DayAnswer(day, not self.is_published(day))

    def next_working_day(self, day: date) -> DayAnswer:
        """The first working day strictly after ``day``."""
        return self.working_day_on_or_after(day + ONE_DAY)

    def working_day_on_or_after(self, day: date) -> DayAnswer:
        provisional = False
        while True:
            provisional |= not self.is_published(day)
            if self.is_working_day(day):
                return DayAnswer(day, provisional)
            day += ONE_DAY

    def add_working_days(self, day: date, count: int) -> DayAnswer:
        """The ``count``-th working day after ``day`` (``day`` itself not counted, 民法典 §201).

        ``count == 0`` answers ``day`` itself.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        provisional = False
        while count:
            day += ONE_DAY
            provisional |= not self.is_published(day)
            if self.is_working_day(day):
                count -= 1
        return DayAnswer(day, provisional)

    def working_days_between(self, first: date, last: date) -> int:
        """How many working days lie in ``first..last``, both included."""
        return sum(1 for d in _days(first, last) if self.is_working_day(d))

    def office_windows(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The office windows of ``day``: none on a day that is not a working day."""
        if self.is_working_day(day):
            yield from self.office_hours.on(day)

    def add_working_time(self, start: datetime, amount: timedelta) -> InstantAnswer:
        """The instant when ``amount`` of office time has passed since ``start`` (工作时).

        Time outside office windows and on days off does not count. An amount that ends
        exactly at a window's close answers the close (12:00), not the next opening.
        """
        if amount < timedelta():
            raise ValueError("amount must not be negative")
        start = to_local(start)
        if not amount:
            return InstantAnswer(start, False)
        day, provisional = start.date(), False
        while True:
            provisional |= not self.is_published(day)
            for opens, closes in self.office_windows(day):
                begin = max(opens, start)
                if begin >= closes:
                    continue
                if begin + amount <= closes:
                    return InstantAnswer(begin + amount, provisional)
                amount -= closes - begin
            day += ONE_DAY

    def working_time_between(self, start: datetime, end: datetime) -> tuple[timedelta, bool]:
        """Office time within ``[start, end)``, and whether that rests on provisional days."""
        start, end = to_local(start), to_local(end)
        total, provisional = timedelta(), False
        for day in _days(start.date(), end.date()):
            provisional |= not self.is_published(day)
            for opens, closes in self.office_windows(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
        return total, provisional


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


class ChineseWorkingCalendar(WorkingCalendar):
    """Mainland China's statutory schedule from ``chinesecalendar``, with local overrides.

    >>> calendar = ChineseWorkingCalendar()
    >>> calendar.is_working_day(date(2025, 9, 28))  # a Sunday worked for 国庆 (调休上班)
    True
    """

    def __init__(
        self,
        overrides: Iterable[CalendarOverride] = (),
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
    ) -> None:
        self.office_hours = office_hours
        self._overrides: Mapping[date, CalendarOverride] = _index_overrides(overrides)
        data_days = chinese_calendar.holidays.keys() | chinese_calendar.workdays.keys()
        self._coverage_start = date(min(data_days).year, 1, 1)
        self._coverage_end = date(max(data_days).year, 12, 31)
        overrides_digest = hashlib.sha256(
            "\n".join(
                f"{o.day.isoformat()} {int(o.working)}" for o in sorted(
                    self._overrides.values(), key=lambda o: o.day
                )
            ).encode()
        ).hexdigest()[:12]
        self._version = (
            f"chinesecalendar {chinese_calendar.__version__} to {self._coverage_end.year}; "
            f"overrides {overrides_digest}; hours {office_hours.describe()}"
        )

    @property
    def coverage_end(self) -> date:
        return self._coverage_end

    @property
    def version(self) -> str:
        return self._version

    @property
    def overrides(self) -> tuple[CalendarOverride, ...]:
        return tuple(sorted(self._overrides.values(), key=lambda o: o.day))

    def is_published(self, day: date) -> bool:
        return day in self._overrides or self._coverage_start <= day <= self._coverage_end

    def is_working_day(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override.working
        if self._coverage_start <= day <= self._coverage_end:
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5  # beyond the data: weekends only, answers marked provisional


def _index_overrides(overrides: Iterable[CalendarOverride]) -> dict[date, CalendarOverride]:
    index: dict[date, CalendarOverride] = {}
    for override in overrides:
        if override.day in index:
            raise ValueError(f"calendar override for {override.day} is given twice")
        index[override.day] = override
    return index


class CalendarOverrideError(ValueError):
    """An override table that cannot be used; the message names the file and the entry."""


def load_calendar_overrides(path: Path) -> tuple[CalendarOverride, ...]:
    """Read a local override table (TOML, UTF-8)::

        [[override]]
        date = 2025-07-28
        working = false
        reason = "台风停工"

    Anything else raises :class:`CalendarOverrideError` naming the file and the entry.
    """
    try:
        document = tomllib.loads(read_utf8(path, CalendarOverrideError))
    except tomllib.TOMLDecodeError as exc:
        raise CalendarOverrideError(f"{path}: not valid TOML: {exc}") from exc
    unknown = set(document) - {"override"}
    if unknown:
        raise CalendarOverrideError(
            f"{path}: unknown key(s) {sorted(unknown)}; expected [[override]]"
        )
    entries = document.get("override", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CalendarOverrideError(f"{path}: overrides must be [[override]] tables")
    overrides: dict[date, CalendarOverride] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: override #{index}"
        if set(entry) != {"date", "working", "reason"}:
            raise CalendarOverrideError(
                f"{where}: needs exactly date, working and reason: {sorted(entry)}"
            )
        day, working, reason = entry["date"], entry["working"], entry["reason"]
        if type(day) is not date:
            raise CalendarOverrideError(f"{where}: date must be a TOML date such as 2025-07-28")
        if not isinstance(working, bool):
            raise CalendarOverrideError(f"{where}: working must be true or false")
        if not isinstance(reason, str) or not reason.strip():
            raise CalendarOverrideError(f"{where}: reason must be a non-empty string")
        if day in overrides:
            raise CalendarOverrideError(f"{where}: {day} is given twice")
        overrides[day] = CalendarOverride(day, working, reason.strip())
    return tuple(overrides.values())
