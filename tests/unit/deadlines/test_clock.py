"""A clock's ledger and what it derives: rungs, state, remaining time, and recomputation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import CalendarOverride, ChineseWorkingCalendar
from domain.deadlines import (
    Clock,
    ClockOp,
    ClockOpKind,
    ClockState,
    RollRule,
    TimeUnit,
    load_rules,
)
from domain.workflow.errors import WorkflowError, WorkflowErrorCode

SH = ZoneInfo("Asia/Shanghai")
CALENDAR = ChineseWorkingCalendar()
RULES = load_rules()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


# 15 calendar days from Mon 3/3/2025 10:00: counted 3/4..3/18, due 3/19 00:00.
# warn50: ceil(7.5) = 8 days used → end of 3/11; warn80: 12 days → end of 3/15.
FIFTEEN = Clock(
    "petition.register", 15, TimeUnit.CALENDAR_DAY, at(2025, 3, 3, 10),
    roll=RollRule.NEXT_WORKING_DAY, suspendable=True, max_extension=30,
)


def test_rungs_have_stable_keys_and_derived_instants() -> None:
    rungs = FIFTEEN.schedule(CALENDAR).rungs
    assert [(r.key, r.at) for r in rungs] == [
        ("warn50", at(2025, 3, 12)),
        ("warn80", at(2025, 3, 16)),
        ("due", at(2025, 3, 19)),
    ]


def test_a_warning_that_would_coincide_with_the_due_instant_is_left_out() -> None:
    one_day = Clock("matter.tier.simple", 1, TimeUnit.CALENDAR_DAY, at(2025, 3, 3, 10))
    assert [r.key for r in one_day.schedule(CALENDAR).rungs] == ["due"]


def test_working_hour_rungs_are_shares_of_office_time() -> None:
    # 4 wh from Mon 09:00: warn50 after 2 h → 11:00; warn80 after 3 h 12 min → 14:12; due 15:00
    clock = Clock("x", 4, TimeUnit.WORKING_HOUR, at(2025, 3, 3, 9))
    assert [(r.key, r.at) for r in clock.schedule(CALENDAR).rungs] == [
        ("warn50", at(2025, 3, 3, 11)),
        ("warn80", at(2025, 3, 3, 14, 12)),
        ("due", at(2025, 3, 3, 15)),
    ]


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (at(2025, 3, 11, 23, 59), ClockState.RUNNING),
        (at(2025, 3, 12), ClockState.WARNED),
        (at(2025, 3, 18, 23, 59), ClockState.WARNED),
        (at(2025, 3, 19), ClockState.OVERDUE),
    ],
)
def test_state_follows_the_rungs(now: datetime, state: ClockState) -> None:
    assert FIFTEEN.read(CALENDAR, now).state is state


def test_remaining_is_counted_time_and_goes_negative_when_overdue() -> None:
    assert FIFTEEN.read(CALENDAR, at(2025, 3, 18, 12)).remaining == timedelta(hours=12)
    assert FIFTEEN.read(CALENDAR, at(2025, 3, 20, 6)).remaining == -timedelta(hours=30)


def test_remaining_working_days_skip_the_holiday() -> None:
    # 5 wd from Fri 9/26/2025 16:00 → last day Fri 10/10, due 10/11 00:00. At Tue 9/30 noon:
    # the rest of 9/30 (12 h) + 10/9 + 10/10 (24 h each) = 60 h of working-day time.
    clock = Clock("petition.object", 5, TimeUnit.WORKING_DAY, at(2025, 9, 26, 16))
    reading = clock.read(CALENDAR, at(2025, 9, 30, 12))
    assert (reading.due_at, reading.remaining) == (at(2025, 10, 11), timedelta(hours=60))


def test_suspension_freezes_the_clock_and_resuming_moves_the_deadline() -> None:
    suspended = FIFTEEN.suspend(at(2025, 3, 10, 12), "鉴定")

    reading = suspended.read(CALENDAR, at(2025, 3, 30))
    assert reading.state is ClockState.SUSPENDED
    assert reading.due_at is None
    assert reading.remaining == timedelta(hours=204)  # 3/10 12:00 → 3/19 00:00, frozen
    assert suspended.pending_rungs(CALENDAR, at(2025, 3, 30)) == ()
    assert suspended.next_rung_at(CALENDAR) is None

    # resumed 3/12: 3/10 and 3/11 not counted → last day 3/20, due 3/21 00:00
    resumed = suspended.resume(at(2025, 3, 12, 9))
    assert resumed.schedule(CALENDAR).due_at == at(2025, 3, 21)
    assert resumed.read(CALENDAR, at(2025, 3, 20)).state is ClockState.WARNED


def test_extension_moves_the_deadline_within_the_bound() -> None:
    extended = FIFTEEN.extend(10, at(2025, 3, 10), "负责人批准", "情况复杂")
    # 25 days: 3/4..3/28 (Fri), due 3/29 00:00
    assert extended.schedule(CALENDAR).due_at == at(2025, 3, 29)
    assert extended.extended == 10 and extended.total_budget == 25
    with pytest.raises(WorkflowError) as caught:
        extended.extend(21, at(2025, 3, 11), "负责人批准", "再延")
    assert caught.value.code is WorkflowErrorCode.BAD_USER_INPUT


def test_a_stopped_clock_says_whether_it_was_in_time() -> None:
    early = FIFTEEN.stop(at(2025, 3, 18, 9), "REPORT_RESULT")
    late = FIFTEEN.stop(at(2025, 3, 19, 9), "REPORT_RESULT")

    assert early.read(CALENDAR, at(2025, 4, 1)).state is ClockState.STOPPED
    assert early.read(CALENDAR, at(2025, 4, 1)).met is True
    assert early.read(CALENDAR, at(2025, 4, 1)).remaining == timedelta(hours=15)
    assert late.read(CALENDAR, at(2025, 4, 1)).met is False
    assert late.pending_rungs(CALENDAR, at(2025, 4, 1)) == ()


def test_stopping_a_suspended_clock_ends_the_suspension() -> None:
    stopped = FIFTEEN.suspend(at(2025, 3, 10, 12), "鉴定").stop(at(2025, 3, 20), "WITHDRAW")
    assert stopped.suspensions[-1].end == at(2025, 3, 20)
    assert stopped.read(CALENDAR, at(2025, 3, 25)).met is True


def test_pending_rungs_fire_once_each() -> None:
    now = at(2025, 3, 19, 8)
    assert [r.key for r in FIFTEEN.pending_rungs(CALENDAR, now)] == ["warn50", "warn80", "due"]
    assert [r.key for r in FIFTEEN.pending_rungs(CALENDAR, now, {"warn50", "warn80"})] == ["due"]
    assert FIFTEEN.pending_rungs(CALENDAR, now, {"warn50", "warn80", "due"}) == ()
    assert FIFTEEN.next_rung_at(CALENDAR, {"warn50"}) == at(2025, 3, 16)
    assert FIFTEEN.next_rung_at(CALENDAR, {"warn50", "warn80", "due"}) is None


def test_a_calendar_change_recomputes_the_deadline() -> None:
    # 3 wd from Wed 12/30/2026: 12/31, Fri 1/1/2027 (unpublished), Mon 1/4 — provisional.
    clock = Clock("x", 3, TimeUnit.WORKING_DAY, at(2026, 12, 30, 10))
    before = clock.schedule(CALENDAR)
    # the 2027 schedule arrives (as a local override here): 1/1 is a holiday → Tue 1/5
    published = ChineseWorkingCalendar([CalendarOverride(date(2027, 1, 1), False, "元旦")])
    after = clock.schedule(published)

    assert (before.last_day, before.provisional) == (date(2027, 1, 4), True)
    assert after.last_day == date(2027, 1, 5)
    assert before.calendar_version != after.calendar_version


def test_a_clock_copies_its_rule_when_it_starts() -> None:
    clock = Clock.start(RULES["petition.handle"], at(2025, 3, 3, 9))
    assert (clock.budget, clock.unit, clock.max_extension, clock.warn_percents) == (
        60, TimeUnit.CALENDAR_DAY, 30, (50, 80),
    )
    assert clock.roll is RollRule.NEXT_WORKING_DAY
    unlimited = Clock.start(RULES["mediation.court_delegated"], at(2025, 3, 3, 9))
    assert unlimited.max_extension is None
    assert unlimited.extend(90, at(2025, 3, 4), "双方当事人同意", "继续调解").extended == 90


def test_operations_apply_by_kind() -> None:
    clock = FIFTEEN
    for op in [
        ClockOp(ClockOpKind.SUSPEND, "petition.register", at(2025, 3, 5), "鉴定"),
        ClockOp(ClockOpKind.RESUME, "petition.register", at(2025, 3, 6)),
        ClockOp(ClockOpKind.EXTEND, "petition.register", at(2025, 3, 7), "复杂", 5, "批准"),
        ClockOp(ClockOpKind.STOP, "petition.register", at(2025, 3, 8), "DISPATCH"),
    ]:
        clock = clock.apply(op)
    assert clock.stopped and clock.extended == 5 and len(clock.suspensions) == 1
    with pytest.raises(ValueError, match="applied to clock"):
        FIFTEEN.apply(ClockOp(ClockOpKind.STOP, "other.rule", at(2025, 3, 8)))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda c: c.resume(at(2025, 3, 5)), WorkflowErrorCode.ILLEGAL_TRANSITION),
        (
            lambda c: c.suspend(at(2025, 3, 5), "a").suspend(at(2025, 3, 6), "b"),
            WorkflowErrorCode.ILLEGAL_TRANSITION,
        ),
        (
            lambda c: c.stop(at(2025, 3, 5), "x").stop(at(2025, 3, 6), "y"),
            WorkflowErrorCode.ILLEGAL_TRANSITION,
        ),
        (
            lambda c: c.stop(at(2025, 3, 5), "x").extend(1, at(2025, 3, 6), "a", "b"),
            WorkflowErrorCode.ILLEGAL_TRANSITION,
        ),
        (lambda c: c.suspend(at(2025, 3, 1), "before start"), WorkflowErrorCode.BAD_USER_INPUT),
        (lambda c: c.extend(0, at(2025, 3, 5), "a", "b"), WorkflowErrorCode.BAD_USER_INPUT),
        (
            lambda c: c.apply(ClockOp(ClockOpKind.START, c.rule_id, at(2025, 3, 5))),
            WorkflowErrorCode.ILLEGAL_TRANSITION,
        ),
    ],
)
def test_impossible_changes_are_refused_with_a_code(
    change: object, code: WorkflowErrorCode
) -> None:
    assert callable(change)
    with pytest.raises(WorkflowError) as caught:
        change(FIFTEEN)
    assert caught.value.code is code


def test_a_clock_that_cannot_be_suspended_or_extended_says_so() -> None:
    fixed = Clock.start(RULES["petition.object"], at(2025, 3, 3, 9))
    for change in (
        lambda: fixed.suspend(at(2025, 3, 4), "鉴定"),
        lambda: fixed.extend(1, at(2025, 3, 4), "批准", "复杂"),
    ):
        with pytest.raises(WorkflowError) as caught:
            change()
        assert caught.value.code is WorkflowErrorCode.ILLEGAL_TRANSITION


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Clock("x", 1, TimeUnit.HOUR, datetime(2025, 3, 3, 9))
