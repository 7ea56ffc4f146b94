"""A mention's birth date, read from its ID number when resolution loads it, is remembered by
the number's blind index for the day: the same answer as reading it afresh, read once while
remembered, and a number whose birth date was still to come is read again the next day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from db import resolution
from domain.validators import birth_date_from_resident_id, resident_id_check_char


def _number(born: date, serial: str = "123") -> str:
    first17 = f"110101{born:%Y%m%d}{serial}"
    return first17 + resident_id_check_char(first17)


class _Clock:
    day = date(2026, 12, 2)


class _Date(date):
    @classmethod
    def today(cls) -> date:
        return _Clock.day


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ID numbers actually read, with the clock at 2 December 2026 and nothing remembered."""
    read: list[str] = []

    def reading(number: str, *, today: date | None = None) -> date:
        read.append(number)
        return birth_date_from_resident_id(number, today=today)

    monkeypatch.setattr(resolution, "birth_date_from_resident_id", reading)
    monkeypatch.setattr(resolution, "date", _Date)
    monkeypatch.setattr(_Clock, "day", date(2026, 12, 2))
    monkeypatch.setattr(resolution, "_BIRTHS", resolution._Births())
    return read


def test_the_birth_date_is_the_numbers_own_and_read_once(reads: list[str]) -> None:
    number = _number(date(1980, 5, 17))
    assert resolution._birth(number, "idx-1") == date(1980, 5, 17)
    assert resolution._birth(number, "idx-1") == date(1980, 5, 17)
    assert reads == [number]  # the second time, remembered
    assert resolution._birth(number, None) == date(1980, 5, 17)  # no index: read, not kept
    assert resolution._birth(number, None) == date(1980, 5, 17)
    assert reads == [number] * 3
    assert resolution._birth(None, None) is None and resolution._birth("", "idx-2") is None
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")  # a wrong check character
    assert resolution._birth(wrong, "idx-3") is None
    assert resolution._birth(wrong, "idx-3") is None and reads.count(wrong) == 1


def test_a_birth_date_still_to_come_is_read_again_the_next_day(reads: list[str]) -> None:
    tomorrow = _Clock.day + timedelta(days=1)
    number = _number(tomorrow)
    assert resolution._birth(number, "idx-4") is None
    assert resolution._birth(number, "idx-4") is None and len(reads) == 1
    _Clock.day = tomorrow
    assert resolution._birth(number, "idx-4") == tomorrow
    assert len(reads) == 2 and len(resolution._BIRTHS.dates) == 1  # the old day's answers are gone


def test_what_is_remembered_stays_bounded(
    reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolution, "_BIRTHS_MAX", 10)
    for serial in range(25):
        number = _number(date(1990, 1, 1) + timedelta(days=serial), f"{serial:03d}")
        assert resolution._birth(number, f"idx-{serial}") == date(1990, 1, 1) + timedelta(serial)
        assert len(resolution._BIRTHS.dates) <= 10
    assert len(reads) == 25
