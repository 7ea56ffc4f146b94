"""Beijing time (北京时间, UTC+8, no daylight saving) as the legacy systems write it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def beijing_to_utc(text: str, fmt: str) -> datetime:
    """Parse a Beijing wall-clock time in ``fmt``; an aware UTC datetime. ``ValueError`` if not."""
    return datetime.strptime(text.strip(), fmt).replace(tzinfo=BEIJING).astimezone(UTC)


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
