"""A mention's birth date, read from its ID number when resolution loads it, is remembered by
the number's blind index for the day: the same answer as reading it afresh, and a number whose
birth date was still to come is read again the next day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from db import resolution
from domain.validators import resident_id_check_char


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
def clock(monkeypatch: pytest.MonkeyPatch) -> type[_Clock]:
    monkeypatch.setattr(resolution, "date", _Date)
    monkeypatch.setattr(resolution, "_BIRTHS", {})
    monkeypatch.setattr(_Clock, "day", date(2026, 12, 2))
    return _Clock


def test_the_birth_date_is_the_numbers_own(clock: type[_Clock]) -> None:
    number = _number(date(1980, 5, 17))
    assert resolution._birth(number, "idx-1") == date(1980, 5, 17)
    assert resolution._birth(number, "idx-1") == date(1980, 5, 17)  # remembered
    assert resolution._birth(number, None) == date(1980, 5, 17)  # no index: read, not kept
    assert resolution._birth(None, None) is None and resolution._birth("", "idx-2") is None
    assert resolution._birth(number[:-1] + "0", "idx-3") is None  # a wrong check character


def test_a_birth_date_still_to_come_is_read_again_the_next_day(clock: type[_Clock]) -> None:
    tomorrow = clock.day + timedelta(days=1)
    number = _number(tomorrow)
    assert resolution._birth(number, "idx-4") is None
    clock.day = tomorrow
    assert resolution._birth(number, "idx-4") == tomorrow


def test_what_is_remembered_stays_bounded(
    clock: type[_Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolution, "_BIRTHS_MAX", 10)
    for serial in range(25):
        number = _number(date(1990, 1, 1) + timedelta(days=serial), f"{serial:03d}")
        assert resolution._birth(number, f"idx-{serial}") == date(1990, 1, 1) + timedelta(serial)
    assert len(resolution._BIRTHS) <= 10
