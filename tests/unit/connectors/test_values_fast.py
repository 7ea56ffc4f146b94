"""The parsing shortcuts give what the general way gives: Beijing times read without
``strptime`` when they have the plain shape, and text checked for broken bytes without
naming every field on the way."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.beijing import BEIJING, beijing_to_utc
from connectors.errors import RecordError
from connectors.values import REPLACEMENT, check_text

FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S")


def _by_strptime(text: str, fmt: str) -> datetime | str:
    try:
        return datetime.strptime(text.strip(), fmt).replace(tzinfo=BEIJING).astimezone(UTC)
    except ValueError:
        return "refused"


def _read(text: str, fmt: str) -> datetime | str:
    try:
        return beijing_to_utc(text, fmt)
    except ValueError:
        return "refused"


def _a_time(rng: random.Random, fmt: str) -> str:
    year, month, day = rng.randint(0, 2999), rng.randint(0, 13), rng.randint(0, 32)
    hour, minute, second = rng.randint(0, 25), rng.randint(0, 61), rng.randint(0, 61)
    if "-" in fmt:
        text = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
    else:
        text = f"{year:04d}{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}"
    twist = rng.random()
    if twist < 0.05:
        return f" {text}\n"
    if twist < 0.10:
        return text.replace("1", "１")  # a full-width digit: strptime's own reading
    if twist < 0.15:
        return text[:-1]
    if twist < 0.20:
        return text.replace("0", "", 1)
    return text


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_beijing_time_reads_as_strptime_reads_it(fmt: str) -> None:
    rng = random.Random(fmt)
    texts = [_a_time(rng, fmt) for _ in range(20000)]
    results = [(_read(text, fmt), _by_strptime(text, fmt)) for text in texts]

    assert all(ours == theirs for ours, theirs in results)
    read = [ours for ours, _ in results if ours != "refused"]
    assert len(read) > 5000 and len(read) < len(texts)  # both kinds were met
    assert all(isinstance(value, datetime) and value.tzinfo is UTC for value in read)


def test_a_beijing_time_is_eight_hours_ahead() -> None:
    assert beijing_to_utc("2026-03-01 07:30:00", FORMATS[0]) == datetime(2026, 2, 28, 23, 30,
                                                                          tzinfo=UTC)  # fmt: skip
    assert beijing_to_utc("20260301073000", FORMATS[1]) == datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        beijing_to_utc("2026-02-30 07:30:00", FORMATS[0])


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"a": "fine", "b": f"x{REPLACEMENT}y"}, "b"),
        ({"a": {"b": ["ok", {"c": "\udcff"}]}}, "a.b[1].c"),
        ({"a": [1, 2.5, None, True, f"{REPLACEMENT}"]}, "a[4]"),
        ({"first": "\ud800", "second": f"{REPLACEMENT}"}, "first"),
    ],
)  # fmt: skip
def test_broken_text_is_refused_naming_its_first_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordError) as refused:
        check_text(raw, "K1")

    assert refused.value.code == "BAD_ENCODING" and refused.value.key == "K1"
    assert refused.value.reason.startswith(f"{field} carries")


def test_whole_text_passes() -> None:
    check_text({"a": "双方发生纠纷", "b": [{"c": "x", "d": 3}], "e": None}, "K1")
