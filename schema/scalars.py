"""``DateTime`` in Beijing time (北京时间): every instant served with the ``+08:00`` offset.

Everyone who reads govhub is in China, and a client that groups by the date text of a time
(``2026-08-17T00:00:00+08:00`` → ``2026-08-17``) must see the Beijing day. The instant itself
is unchanged: a client that parses the offset gets the same moment as before.

Input: an ISO 8601 time with an offset (``Z`` included), or a plain date (``2026-08-17``),
read as the start of that Beijing day (``2026-08-17T00:00:00+08:00``). A time without an offset
stays naive here, and the fields that take one refuse it with ``BAD_USER_INPUT``: a wall-clock
time without a zone is ambiguous, a calendar date in China is not.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from strawberry.schema.types.base_scalars import wrap_parser
from strawberry.types.scalar import ScalarDefinition

from domain.calendar import SHANGHAI

_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def beijing(moment: datetime) -> datetime:
    """``moment`` at the ``+08:00`` offset (a naive value is taken as UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)


def beijing_day(moment: datetime) -> date:
    """The Beijing calendar date of an instant."""
    return beijing(moment).date()


def serialize_datetime(value: datetime) -> str:
    return beijing(value).isoformat()


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 time; a plain date is the start of that Beijing day."""
    if _PLAIN_DATE.fullmatch(text.strip()):
        day = date.fromisoformat(text.strip())
        return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    return datetime.fromisoformat(text)


BEIJING_DATETIME = ScalarDefinition(
    name="DateTime",
    description=(
        "An instant, served in Beijing time with its offset, e.g. `2026-08-17T09:30:00+08:00` "
        "(北京时间). Input: ISO 8601 with an offset, or a plain date `2026-08-17` for the start "
        "of that Beijing day."
    ),
    specified_by_url=None,
    serialize=serialize_datetime,
    parse_value=wrap_parser(parse_datetime, "DateTime"),
    parse_literal=None,
    origin=datetime,
)
"""Pass as ``scalar_overrides={datetime: BEIJING_DATETIME}`` when building the schema."""
