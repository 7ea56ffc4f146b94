"""The working-day calendar: State Council schedules, local overrides, office hours, and
plain answers (never an error) for years the package has no data for."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import (
    DEFAULT_OFFICE_HOURS,
    CalendarOverride,
    CalendarOverrideError,
    ChineseWorkingCalendar,
    OfficeHours,
    load_calendar_overrides,
)

SH = ZoneInfo("Asia/Shanghai")
CALENDAR = ChineseWorkingCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 9, 28), True),  # Sunday worked for 国庆 (调休)
        (date(2025, 10, 1), False),  # 国庆
        (date(2025, 10, 8), False),  # last day of 国庆中秋 2025
        (date(2025, 10, 11), True),  # Saturday worked
        (date(2025, 10, 12), False),  # ordinary Sunday
        (date(2024, 2, 18), True),  # Sunday worked after 春节 2024
        (date(2026, 2, 23), False),  # 春节 2026, a Monday
        (date(2026, 1, 4), True),  # Sunday worked after 元旦 2026
        (date(2025, 3, 3), True),  # ordinary Monday
    ],
)
def test_statutory_schedule(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working
    assert CALENDAR.working_day(day).provisional is False


def test_coverage_ends_with_the_last_published_year() -> None:
    assert CALENDAR.coverage_end == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2027, 1, 1), True),  # a Friday: probably 元旦, but unpublished — weekday rule
        (date(2027, 1, 2), False),
        (date(2100, 6, 7), True),
        (date(1999, 10, 1), True),  # before the data starts (2004): weekday rule too
    ],
)
def test_days_without_data_count_weekends_only_and_say_so(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working
    assert CALENDAR.is_published(day) is False
    assert CALENDAR.working_day(day).provisional is True


def test_next_working_day_skips_a_whole_holiday() -> None:
    answer = CALENDAR.next_working_day(date(2025, 9, 30))
    assert (answer.day, answer.provisional) == (date(2025, 10, 9), False)
    assert CALENDAR.working_day_on_or_after(date(2025, 9, 28)).day == date(2025, 9, 28)


def test_add_working_days_across_the_year_end_becomes_provisional() -> None:
    # 12/31/2026 Thu (1), 1/1/2027 Fri (2, unpublished) → provisional
    answer = CALENDAR.add_working_days(date(2026, 12, 30), 2)
    assert (answer.day, answer.provisional) == (date(2027, 1, 1), True)
    assert CALENDAR.add_working_days(date(2025, 3, 3), 0).day == date(2025, 3, 3)


def test_working_days_between_counts_both_ends() -> None:
    # 9/26 Fri, 9/28 Sun (调休), 9/29, 9/30, then 国庆; 10/9 Thu, 10/10 Fri, 10/11 Sat (调休)
    assert CALENDAR.working_days_between(date(2025, 9, 26), date(2025, 10, 12)) == 7


def test_working_time_between_counts_office_hours_only() -> None:
    # Mon 09:00–12:00 (3 h) + 14:00–17:30 (3.5 h) + Tue 08:30–10:00 (1.5 h)
    spent, provisional = CALENDAR.working_time_between(
        datetime(2025, 3, 3, 9, tzinfo=SH), datetime(2025, 3, 4, 10, tzinfo=SH)
    )
    assert (spent, provisional) == (timedelta(hours=8), False)


def test_instants_in_other_zones_are_read_as_beijing_time() -> None:
    # 2025-03-03 01:00 UTC is 09:00 in Beijing: 2 working hours later is 11:00 Beijing.
    answer = CALENDAR.add_working_time(
        datetime(2025, 3, 3, 1, tzinfo=ZoneInfo("UTC")), timedelta(hours=2)
    )
    assert answer.instant == datetime(2025, 3, 3, 11, tzinfo=SH)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CALENDAR.add_working_time(datetime(2025, 3, 3, 9), timedelta(hours=1))


def test_local_overrides_win_and_change_the_version() -> None:
    local = ChineseWorkingCalendar(
        [
            CalendarOverride(date(2025, 3, 4), False, "台风停工"),
            CalendarOverride(date(2025, 3, 8), True, "本地调休上班"),
        ]
    )
    assert local.is_working_day(date(2025, 3, 4)) is False
    assert local.is_working_day(date(2025, 3, 8)) is True
    assert local.version != CALENDAR.version
    assert [o.reason for o in local.overrides] == ["台风停工", "本地调休上班"]


def test_an_override_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        ChineseWorkingCalendar(
            [
                CalendarOverride(date(2025, 3, 4), False, "a"),
                CalendarOverride(date(2025, 3, 4), True, "b"),
            ]
        )


def test_office_hours_table() -> None:
    assert DEFAULT_OFFICE_HOURS.per_day() == timedelta(hours=7)
    assert DEFAULT_OFFICE_HOURS.describe() == "08:30-12:00,14:00-17:30"
    evening = OfficeHours.parse(["09:00-12:00", "13:00-21:00"])
    assert evening.windows[1].end == time(21)
    with pytest.raises(ValueError, match="overlap"):
        OfficeHours.parse(["09:00-12:00", "11:00-13:00"])
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        OfficeHours.parse(["0900"])
    with pytest.raises(ValueError, match="end after"):
        OfficeHours.parse(["12:00-09:00"])


def test_office_hours_change_the_version_and_the_answers() -> None:
    long_days = ChineseWorkingCalendar(office_hours=OfficeHours.parse(["08:00-20:00"]))
    answer = long_days.add_working_time(datetime(2025, 3, 3, 9, tzinfo=SH), timedelta(hours=10))
    assert answer.instant == datetime(2025, 3, 3, 19, tzinfo=SH)
    assert long_days.version != CALENDAR.version


def test_override_table_file(tmp_path: Path) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text(
        '[[override]]\ndate = 2025-07-28\nworking = false\nreason = "台风停工"\n',
        encoding="utf-8",
    )
    assert load_calendar_overrides(path) == (
        CalendarOverride(date(2025, 7, 28), False, "台风停工"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[day]]\n", "unknown key"),
        ('[[override]]\ndate = 2025-07-28\nworking = false\n', "exactly date, working and reason"),
        ('[[override]]\ndate = "2025-07-28"\nworking = false\nreason = "x"\n', "TOML date"),
        ('[[override]]\ndate = 2025-07-28\nworking = "no"\nreason = "x"\n', "true or false"),
        ('[[override]]\ndate = 2025-07-28\nworking = false\nreason = " "\n', "non-empty"),
        ("override = [1]\n", "[[override]] tables"),
        ('override = "2025-07-28"\n', "[[override]] tables"),
        ("override = {date = 2025-07-28, working = false, reason = \"x\"}\n", "tables"),
        ("[[override]\n", "not valid TOML"),
        ('[[override]]\ndate = 2025-07-28\nworking = false\nreason = "台风"\n' * 2, "twice"),
    ],
)
def test_a_malformed_override_table_names_the_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarOverrideError) as caught:
        load_calendar_overrides(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_an_override_table_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "overrides.toml"
    path.write_bytes('[[override]]\ndate = 2025-07-28\nworking = false\nreason = "台风停工"\n'
                     .encode("gbk"))
    with pytest.raises(CalendarOverrideError) as caught:
        load_calendar_overrides(path)
    assert str(path) in str(caught.value)
    assert "UTF-8" in str(caught.value)
