"""Beijing buckets, region roll-up and suppression, worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.enums import RecordKind, RegionLevel
from domain.stats import (
    KPI_DEFINITIONS,
    KpiClass,
    KpiId,
    TimeBucket,
    beijing_date,
    bucket_label,
    bucket_start,
    buckets_between,
    kpi_class,
    next_bucket,
    region_key,
    suppressed,
)


@pytest.mark.parametrize(
    ("day", "bucket", "start", "following", "label"),
    [
        (date(2026, 3, 15), TimeBucket.DAY, date(2026, 3, 15), date(2026, 3, 16), "2026-03-15"),
        # 15 March 2026 is a Sunday: its week began on Monday 9 March (ISO week 11)
        (date(2026, 3, 15), TimeBucket.WEEK, date(2026, 3, 9), date(2026, 3, 16), "2026-W11"),
        (date(2026, 3, 9), TimeBucket.WEEK, date(2026, 3, 9), date(2026, 3, 16), "2026-W11"),
        # the week of 1 January 2026 (a Thursday) began in 2025 and is ISO week 1 of 2026
        (date(2026, 1, 1), TimeBucket.WEEK, date(2025, 12, 29), date(2026, 1, 5), "2026-W01"),
        (date(2026, 3, 31), TimeBucket.MONTH, date(2026, 3, 1), date(2026, 4, 1), "2026-03"),
        (date(2026, 12, 5), TimeBucket.MONTH, date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        (date(2026, 6, 30), TimeBucket.QUARTER, date(2026, 4, 1), date(2026, 7, 1), "2026-Q2"),
        (date(2026, 11, 2), TimeBucket.QUARTER, date(2026, 10, 1), date(2027, 1, 1), "2026-Q4"),
        (date(2026, 7, 4), TimeBucket.YEAR, date(2026, 1, 1), date(2027, 1, 1), "2026"),
    ],
)
def test_buckets(day: date, bucket: TimeBucket, start: date, following: date, label: str) -> None:
    assert bucket_start(day, bucket) == start
    assert next_bucket(start, bucket) == following
    assert bucket_label(start, bucket) == label


def test_buckets_between_include_both_ends() -> None:
    months = list(buckets_between(date(2025, 11, 20), date(2026, 2, 1), TimeBucket.MONTH))
    assert months == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]


def test_a_beijing_day_starts_at_midnight_beijing_time() -> None:
    # 15:59 and 16:00 UTC on 31 March are 23:59 on 31 March and 00:00 on 1 April in Beijing
    assert beijing_date(datetime(2026, 3, 31, 15, 59, tzinfo=UTC)) == date(2026, 3, 31)
    assert beijing_date(datetime(2026, 3, 31, 16, 0, tzinfo=UTC)) == date(2026, 4, 1)


@pytest.mark.parametrize(
    ("code", "level", "key"),
    [
        ("411202001001003", RegionLevel.VILLAGE, "411202001001"),
        ("411202001001003", RegionLevel.TOWNSHIP, "411202001"),
        ("411202001001003", RegionLevel.COUNTY, "411202"),
        ("411202001001003", RegionLevel.CITY, "411200"),
        ("411202001001003", RegionLevel.PROVINCE, "410000"),
        ("411202", RegionLevel.VILLAGE, "411202"),  # placed only at the county: kept
        ("411202", RegionLevel.CITY, "411200"),
        (None, RegionLevel.COUNTY, None),
    ],
)
def test_regions_roll_up_by_prefix(code: str | None, level: RegionLevel, key: str | None) -> None:
    assert region_key(code, level) == key


def test_small_cells_are_one_to_four_by_default() -> None:
    assert [n for n in range(8) if suppressed(n, 5)] == [1, 2, 3, 4]


def test_every_kpi_has_a_definition_with_both_sides() -> None:
    assert set(KPI_DEFINITIONS) == set(KpiId)
    per_10k = KPI_DEFINITIONS[KpiId.LITIGATION_PER_10K]
    assert per_10k.scale == 10_000 and per_10k.text.endswith("× 10,000")


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        (RecordKind.COURT_FILING, {"case_type": "诉前调解"}, KpiClass.PRE_SUIT_MEDIATION),
        (RecordKind.COURT_FILING, {"case_type": "民初"}, KpiClass.FIRST_INSTANCE),
        (RecordKind.COURT_FILING, {"case_type": "行初"}, KpiClass.FIRST_INSTANCE),
        (RecordKind.COURT_FILING, {"case_type": "民特"}, None),
        (RecordKind.POLICE_ALERT, {"category_code_l1": "030000"}, KpiClass.NON_POLICE_ALERT),
        (RecordKind.POLICE_ALERT, {"category_code_l1": "040000"}, KpiClass.NON_POLICE_ALERT),
        (RecordKind.POLICE_ALERT, {"category_code_l1": None, "category_code_l3": "030201"},
         KpiClass.NON_POLICE_ALERT),
        (RecordKind.POLICE_ALERT, {"category_code_l1": "010000"}, None),
        (RecordKind.DISPUTE, {"case_type": "民初"}, None),
    ],
)  # fmt: skip
def test_kpi_class_from_a_kinds_own_fields(
    kind: RecordKind, fields: dict[str, str | None], expected: KpiClass | None
) -> None:
    assert kpi_class(kind, fields) is expected
