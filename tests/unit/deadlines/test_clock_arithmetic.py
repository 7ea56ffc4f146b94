"""Deadline arithmetic, case by case, against the published holiday schedules.

Every expected date below was worked out by hand from the State Council's notices
(国务院办公厅关于2024/2025/2026年部分节假日安排的通知, 国办发明电〔2023〕7号, 〔2024〕12号,
〔2025〕7号) and written down literally; none is computed by the code under test. The comment on
each case shows the count. Office hours are 08:30–12:00 and 14:00–17:30.

The schedules used:

2024  元旦 1/1 · 春节 2/10–2/17 off, Sun 2/4 and Sun 2/18 worked · 清明 4/4–4/6 off, Sun 4/7
      worked · 劳动节 5/1–5/5 off, Sun 4/28 and Sat 5/11 worked · 中秋 9/15–9/17 off, Sat 9/14
      worked · 国庆 10/1–10/7 off, Sun 9/29 and Sat 10/12 worked
2025  元旦 1/1 · 春节 1/28–2/4 off, Sun 1/26 and Sat 2/8 worked · 清明 4/4–4/6 · 劳动节
      5/1–5/5 off, Sun 4/27 worked · 国庆中秋 10/1–10/8 off, Sun 9/28 and Sat 10/11 worked
2026  元旦 1/1–1/3 off, Sun 1/4 worked · 春节 2/15–2/23 off, Sat 2/14 and Sat 2/28 worked ·
      劳动节 5/1–5/5 off, Sat 5/9 worked · 国庆 10/1–10/7 off, Sun 9/20 and Sat 10/10 worked
2027  not published in chinesecalendar 1.11.0: weekends only, answers provisional
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import CalendarOverride, ChineseWorkingCalendar
from domain.deadlines import Clock, Extension, RollRule, Suspension, TimeUnit

SH = ZoneInfo("Asia/Shanghai")
CALENDAR = ChineseWorkingCalendar()

CAL, WD, WH, HOUR = (
    TimeUnit.CALENDAR_DAY,
    TimeUnit.WORKING_DAY,
    TimeUnit.WORKING_HOUR,
    TimeUnit.HOUR,
)
ROLL, NO_ROLL = RollRule.NEXT_WORKING_DAY, RollRule.NONE


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@dataclass(frozen=True)
class Case:
    name: str
    budget: int
    unit: TimeUnit
    start: datetime
    due: date | datetime
    """The last day (届满日) for day units; the due instant for hour units."""
    roll: RollRule = NO_ROLL
    counts_start_day: bool = False
    suspensions: tuple[tuple[datetime, datetime], ...] = ()
    extensions: tuple[int, ...] = ()
    provisional: bool = False


CASES = [
    # --- calendar days, start day excluded (民法典 §201) -------------------------------------
    Case("15d plain: 3/4..3/18", 15, CAL, at(2025, 3, 3, 10), date(2025, 3, 18), ROLL),
    Case("15d ends Sun 10/5 in 国庆 2025, rolls past 10/8 to Thu 10/9",
         15, CAL, at(2025, 9, 20, 9), date(2025, 10, 9), ROLL),
    Case("60d from 8/5: 26 in Aug + 30 in Sep + 4 = Sat 10/4 in 国庆, rolls to 10/9",
         60, CAL, at(2025, 8, 5, 9), date(2025, 10, 9), ROLL),
    Case("60d without roll stays on 10/4", 60, CAL, at(2025, 8, 5, 9), date(2025, 10, 4)),
    Case("30d from 1/15/2024 = Wed 2/14 in 春节, rolls onto Sun 2/18 (调休 worked)",
         30, CAL, at(2024, 1, 15, 9), date(2024, 2, 18), ROLL),
    Case("7d 立案 from Fri 9/27/2024 = Fri 10/4 in 国庆, rolls to Tue 10/8",
         7, CAL, at(2024, 9, 27, 15), date(2024, 10, 8), ROLL),
    Case("7d ends Sun 9/29/2024, a 调休 working day: no roll",
         7, CAL, at(2024, 9, 22, 11), date(2024, 9, 29), ROLL),
    Case("15d ends Sun 9/28/2025, a 调休 working day: no roll",
         15, CAL, at(2025, 9, 13, 8), date(2025, 9, 28), ROLL),
    Case("30d from 1/16/2026 = Sun 2/15, first day of 春节, rolls past 2/23 to Tue 2/24",
         30, CAL, at(2026, 1, 16, 9), date(2026, 2, 24), ROLL),
    Case("30d ends Sat 2/14/2026, a 调休 working day: no roll",
         30, CAL, at(2026, 1, 15, 9), date(2026, 2, 14), ROLL),
    Case("7d counting the start day: 3/3..3/9 (Sun), no roll",
         7, CAL, at(2025, 3, 3, 9), date(2025, 3, 9), counts_start_day=True),
    Case("7d counting the start day, rolled from Sun 3/9 to Mon 3/10",
         7, CAL, at(2025, 3, 3, 9), date(2025, 3, 10), ROLL, counts_start_day=True),
    Case("1d from 12/31/2025 ends on 元旦 1/1/2026 (no roll)",
         1, CAL, at(2025, 12, 31, 16), date(2026, 1, 1)),
    Case("1d from 12/31/2025 rolls past 1/1–1/3 to Sun 1/4 (调休 worked)",
         1, CAL, at(2025, 12, 31, 16), date(2026, 1, 4), ROLL),
    Case("20d from 4/20/2026 = Sun 5/10, no roll", 20, CAL, at(2026, 4, 20, 9), date(2026, 5, 10)),
    Case("20d from 4/20/2026 = Sun 5/10 (an ordinary Sunday), rolls to Mon 5/11",
         20, CAL, at(2026, 4, 20, 9), date(2026, 5, 11), ROLL),
    Case("start at 23:59 still excludes that day: 3/4..3/18",
         15, CAL, at(2025, 3, 3, 23, 59), date(2025, 3, 18), ROLL),
    # --- working days (工作日: holidays out, 调休 days in) ----------------------------------
    Case("5wd from Fri 9/26/2025: Sun 9/28, 9/29, 9/30, Thu 10/9, Fri 10/10",
         5, WD, at(2025, 9, 26, 16), date(2025, 10, 10)),
    Case("5wd from Fri 9/27/2024: Sun 9/29, 9/30, 10/8, 10/9, Thu 10/10",
         5, WD, at(2024, 9, 27, 10), date(2024, 10, 10)),
    Case("3wd from Thu 10/10/2024: Fri 10/11, Sat 10/12 (调休), Mon 10/14",
         3, WD, at(2024, 10, 10, 10), date(2024, 10, 14)),
    Case("3wd from Fri 1/24/2025: Sun 1/26 (调休), Mon 1/27, then 春节 to Wed 2/5",
         3, WD, at(2025, 1, 24, 10), date(2025, 2, 5)),
    Case("5wd from Wed 2/5/2025: 2/6, 2/7, Sat 2/8 (调休), 2/10, Tue 2/11",
         5, WD, at(2025, 2, 5, 10), date(2025, 2, 11)),
    Case("5wd from Thu 2/12/2026: Fri 2/13, Sat 2/14 (调休), then 2/24, 2/25, Thu 2/26",
         5, WD, at(2026, 2, 12, 10), date(2026, 2, 26)),
    Case("3wd from Thu 2/26/2026: Fri 2/27, Sat 2/28 (调休), Mon 3/2",
         3, WD, at(2026, 2, 26, 10), date(2026, 3, 2)),
    Case("5wd from Tue 4/30/2024: 劳动节 5/1–5/5, then 5/6..Fri 5/10",
         5, WD, at(2024, 4, 30, 10), date(2024, 5, 10)),
    Case("5wd from Tue 5/7/2024: 5/8, 5/9, 5/10, Sat 5/11 (调休), Mon 5/13",
         5, WD, at(2024, 5, 7, 10), date(2024, 5, 13)),
    Case("3wd from Tue 12/30/2025: Wed 12/31, Sun 1/4/2026 (调休), Mon 1/5",
         3, WD, at(2025, 12, 30, 10), date(2026, 1, 5)),
    Case("3wd counting the start day: Mon 3/3, 3/4, Wed 3/5",
         3, WD, at(2025, 3, 3, 10), date(2025, 3, 5), counts_start_day=True),
    Case("3wd counting a start day that is a holiday (10/3/2025): 10/9, 10/10, Sat 10/11",
         3, WD, at(2025, 10, 3, 10), date(2025, 10, 11), counts_start_day=True),
    Case("1wd 回访 from Wed 4/30/2025: 劳动节 5/1–5/5, Tue 5/6",
         1, WD, at(2025, 4, 30, 17), date(2025, 5, 6)),
    Case("3wd from Wed 4/3/2024: 清明 4/4–4/6, Sun 4/7 (调休), 4/8, Tue 4/9",
         3, WD, at(2024, 4, 3, 10), date(2024, 4, 9)),
    Case("2wd from Fri 9/13/2024: Sat 9/14 (调休), 中秋 9/15–9/17, Wed 9/18",
         2, WD, at(2024, 9, 13, 10), date(2024, 9, 18)),
    # --- past the published data (2027): weekends only, provisional ------------------------
    Case("5wd from Tue 12/29/2026: 12/30, 12/31, Fri 1/1/2027 (unknown), Mon 1/4, Tue 1/5",
         5, WD, at(2026, 12, 29, 10), date(2027, 1, 5), provisional=True),
    Case("60d from 11/20/2026: 10 + 31 + 19 = Tue 1/19/2027; roll looks at 2027",
         60, CAL, at(2026, 11, 20, 10), date(2027, 1, 19), ROLL, provisional=True),
    Case("60d from 11/20/2026 without roll: no calendar consulted, not provisional",
         60, CAL, at(2026, 11, 20, 10), date(2027, 1, 19)),
    Case("30d from 12/3/2026 = Sat 1/2/2027, rolled to Mon 1/4",
         30, CAL, at(2026, 12, 3, 10), date(2027, 1, 4), ROLL, provisional=True),
    Case("3wd from Wed 12/30/2026: Thu 12/31, Fri 1/1/2027 (unknown), Mon 1/4",
         3, WD, at(2026, 12, 30, 10), date(2027, 1, 4), provisional=True),
    Case("4wh from Thu 12/31/2026 16:00: 1.5 h, then 2.5 h on Fri 1/1/2027 → 11:00",
         4, WH, at(2026, 12, 31, 16), at(2027, 1, 1, 11), provisional=True),
    # --- working hours (工作时) ----------------------------------------------------------
    Case("4wh from Mon 09:00: 3 h to noon, 1 h from 14:00 → 15:00",
         4, WH, at(2025, 3, 3, 9), at(2025, 3, 3, 15)),
    Case("2wh from 10:00 ends at the noon close, not at 14:00",
         2, WH, at(2025, 3, 3, 10), at(2025, 3, 3, 12)),
    Case("4wh from Fri 16:00: 1.5 h, weekend, Mon 08:30 + 2.5 h → 11:00",
         4, WH, at(2025, 3, 7, 16), at(2025, 3, 10, 11)),
    Case("8wh from Tue 9/30/2025 15:00: 2.5 h, 国庆 10/1–10/8, 3.5 h + 2 h on 10/9 → 16:00",
         8, WH, at(2025, 9, 30, 15), at(2025, 10, 9, 16)),
    Case("5wh from Sat 9/27/2025: Sun 9/28 is worked, 3.5 h + 1.5 h → 15:30",
         5, WH, at(2025, 9, 27, 10), at(2025, 9, 28, 15, 30)),
    Case("2wh from Fri 10/11/2024 17:00: 0.5 h, Sat 10/12 (调休) 08:30 + 1.5 h → 10:00",
         2, WH, at(2024, 10, 11, 17), at(2024, 10, 12, 10)),
    Case("2wh from 07:00, before opening → 10:30",
         2, WH, at(2025, 3, 3, 7), at(2025, 3, 3, 10, 30)),
    Case("1wh from 12:30, over lunch → 15:00", 1, WH, at(2025, 3, 3, 12, 30), at(2025, 3, 3, 15)),
    Case("7wh from 08:30 is one office day → 17:30",
         7, WH, at(2025, 3, 3, 8, 30), at(2025, 3, 3, 17, 30)),
    Case("24wh from Fri 2/13/2026 08:30: 7 + 7 (Sat 2/14) + 春节 + 7 (2/24) + 3 → 2/25 11:30",
         24, WH, at(2026, 2, 13, 8, 30), at(2026, 2, 25, 11, 30)),
    # --- hours around the clock --------------------------------------------------------
    Case("48h ignores holidays", 48, HOUR, at(2025, 9, 30, 10), at(2025, 10, 2, 10)),
    Case("2h across midnight", 2, HOUR, at(2025, 3, 3, 23, 30), at(2025, 3, 4, 1, 30)),
    # --- suspension (挂起) and extension (延期) -----------------------------------------
    Case("30d, suspended 3/10–3/15: 3/10..3/14 not counted; 6 + 24 from 3/15 = Mon 4/7",
         30, CAL, at(2025, 3, 3, 10), date(2025, 4, 7), ROLL,
         suspensions=((at(2025, 3, 10, 9), at(2025, 3, 15, 16)),)),
    Case("a suspension within one day changes nothing: 3/18",
         15, CAL, at(2025, 3, 3, 10), date(2025, 3, 18), ROLL,
         suspensions=((at(2025, 3, 5, 9), at(2025, 3, 5, 17)),)),
    Case("60d + 30d extension from 8/5/2025: 26 + 30 + 31 + 3 = Mon 11/3",
         60, CAL, at(2025, 8, 5, 9), date(2025, 11, 3), ROLL, extensions=(30,)),
    Case("5wd + 2wd, suspended 9/29–10/10/2025: Sun 9/28, then 10/10, Sat 10/11, 10/13, "
         "10/14, 10/15, Thu 10/16",
         5, WD, at(2025, 9, 26, 16), date(2025, 10, 16),
         suspensions=((at(2025, 9, 29, 10), at(2025, 10, 10, 9)),), extensions=(2,)),
    Case("48h, suspended 48 h after 24 h: due 3/7 10:00",
         48, HOUR, at(2025, 3, 3, 10), at(2025, 3, 7, 10),
         suspensions=((at(2025, 3, 4, 10), at(2025, 3, 6, 10)),)),
    Case("7wh, 2 h used then suspended until Tue 14:00: 3.5 h + 1.5 h → Wed 10:00",
         7, WH, at(2025, 3, 3, 8, 30), at(2025, 3, 5, 10),
         suspensions=((at(2025, 3, 3, 10, 30), at(2025, 3, 4, 14)),)),
    Case("7d, suspended on the start day until 3/5: 3/4 not counted; 3/5..3/11",
         7, CAL, at(2025, 3, 3, 10), date(2025, 3, 11),
         suspensions=((at(2025, 3, 3, 14), at(2025, 3, 5, 9)),)),
    Case("7d, suspended on the last day 3/10 until 3/12: 3/10, 3/11 out; last day 3/12",
         7, CAL, at(2025, 3, 3, 10), date(2025, 3, 12),
         suspensions=((at(2025, 3, 10, 15), at(2025, 3, 12, 9)),)),
    Case("4wh + 2wh from Mon 09:00: 3 h, then 14:00 + 3 h → 17:00",
         4, WH, at(2025, 3, 3, 9), at(2025, 3, 3, 17), extensions=(2,)),
    Case("15d + 15d from 9/1/2024 = Tue 10/1, rolls past 国庆 to Tue 10/8",
         15, CAL, at(2024, 9, 1, 10), date(2024, 10, 8), ROLL, extensions=(15,)),
]


def _clock(case: Case) -> Clock:
    return Clock(
        rule_id="case",
        budget=case.budget,
        unit=case.unit,
        started_at=case.start,
        start_day_counts=case.counts_start_day,
        roll=case.roll,
        suspendable=bool(case.suspensions),
        max_extension=None,
        suspensions=tuple(Suspension(s, e, "鉴定") for s, e in case.suspensions),
        extensions=tuple(
            Extension(n, case.start + timedelta(hours=1), "负责人批准", "情况复杂")
            for n in case.extensions
        ),
    )


def test_the_table_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_due(case: Case) -> None:
    schedule = _clock(case).schedule(CALENDAR)

    if isinstance(case.due, datetime):
        assert schedule.due_at == case.due
        assert schedule.last_day is None
    else:
        assert schedule.last_day == case.due
        # the deadline is 24:00 of the last day (民法典 §203)
        assert schedule.due_at == datetime(
            case.due.year, case.due.month, case.due.day, tzinfo=SH
        ) + timedelta(days=1)
    assert schedule.provisional is case.provisional


def test_a_local_closure_day_moves_the_deadline_and_is_not_provisional() -> None:
    # 3wd from Mon 3/3/2025 is Thu 3/6; with Tue 3/4 closed (台风停工) it is Fri 3/7.
    closed = ChineseWorkingCalendar([CalendarOverride(date(2025, 3, 4), False, "台风停工")])
    clock = Clock("case", 3, WD, at(2025, 3, 3, 10))

    assert clock.schedule(CALENDAR).last_day == date(2025, 3, 6)
    assert clock.schedule(closed).last_day == date(2025, 3, 7)
    assert clock.schedule(closed).provisional is False


def test_an_override_past_the_data_fixes_that_day_but_the_rest_stays_provisional() -> None:
    # 3wd from Wed 12/30/2026: Thu 12/31; Fri 1/1/2027 declared a holiday locally; Mon 1/4,
    # Tue 1/5 — still provisional, since 1/2–1/5 are unpublished.
    with_new_year = ChineseWorkingCalendar([CalendarOverride(date(2027, 1, 1), False, "元旦")])
    schedule = Clock("case", 3, WD, at(2026, 12, 30, 10)).schedule(with_new_year)

    assert schedule.last_day == date(2027, 1, 5)
    assert schedule.provisional is True
