"""Beijing time (北京时间, UTC+8, no daylight saving) as the legacy systems write it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def beijing_to_utc(text: str, fmt: str) -> datetime:
    """Parse a Beijing wall-clock time in ``fmt``; an aware UTC datetime. ``ValueError`` if not."""
    text = text.strip()
    shape = _SHAPES.get(fmt)
    found = shape.fullmatch(text) if shape is not None else None
    if found is not None:  # read as strptime reads it, at a third of its cost
        year, month, day, hour, minute, second = map(int, found.groups())
        wall = datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)
    else:
        wall = datetime.strptime(text, fmt).replace(tzinfo=BEIJING)
    return wall.astimezone(UTC)


_SHAPES = {
    "%Y-%m-%d %H:%M:%S": re.compile(
        r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})"
    ),
    "%Y%m%d%H%M%S": re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})"),
}
"""The formats the sources write, each with its plain all-digit shape: a time of that shape is
read without ``strptime`` (an impossible one raises ``ValueError`` all the same); any other
text goes to ``strptime``."""


def chinese_date(text: str) -> date:
    """``2026年3月15日`` → a date; ``ValueError`` when it is no calendar date."""
    year, _, rest = text.strip().partition("年")
    month, _, rest = rest.partition("月")
    day, _, tail = rest.partition("日")
    if tail or not all(part.isascii() and part.isdigit() for part in (year, month, day)):
        raise ValueError(f"not a YYYY年M月D日 date: {text!r}")
    return date(int(year), int(month), int(day))


def midnight_utc(day: date) -> datetime:
    """The start of a Beijing calendar day, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING).astimezone(UTC)
