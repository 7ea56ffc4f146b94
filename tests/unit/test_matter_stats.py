"""The matter figures' rules: every matter KPI has a date and a definition, the clocks named
by 按期办结 and 及时受理 are rules that exist, every track has a resolution level, percentiles
interpolate like PostgreSQL's ``percentile_cont``, and empty periods fill a chart's holes."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date

import pytest

from domain.deadlines.rules import load_rules
from domain.enums import RecordKind, RegionLevel
from domain.matter_stats import (
    ACCEPTANCE_RULES,
    HANDLING_DURATION,
    HANDLING_RULES,
    KPI_ANCHOR,
    RESOLUTION_LEVEL_OF_TRACK,
    SOURCE_TRACK,
    percentile,
    resolution_level,
)
from domain.stats import (
    KPI_DEFINITIONS,
    MATTER_KPIS,
    RECORD_KPIS,
    KpiId,
    KpiSubject,
    TimeBucket,
    missing_periods,
)
from domain.workflow.vocabulary import DispatchTrack, MatterOrigin


def test_every_matter_kpi_has_a_date_and_a_matter_definition() -> None:
    assert set(KPI_ANCHOR) == set(MATTER_KPIS)
    assert all(KPI_DEFINITIONS[kpi].subject is KpiSubject.MATTERS for kpi in MATTER_KPIS)
    assert not set(MATTER_KPIS) & set(RECORD_KPIS)
    assert len(RECORD_KPIS) == 5


def test_definitions_on_the_sources_dates_say_so_under_a_new_version() -> None:
    # 登记 is the source's receipt and the source's acceptance and conclusion start and stop
    # clocks: a published definition that changed meaning carries a new version
    timely = KPI_DEFINITIONS[KpiId.TIMELY_ACCEPTANCE_RATE]
    on_time = KPI_DEFINITIONS[KpiId.ON_TIME_CLOSURE_RATE]
    assert (timely.version, on_time.version, HANDLING_DURATION.version) == (
        "2026.2",
        "2026.4",
        "2026.2",
    )
    assert "来源系统收件" in timely.numerator and "来源系统受理" in timely.numerator
    assert "来源系统办结之日停止" in on_time.numerator
    assert "已超期完成" in on_time.denominator  # a late conclusion stays counted, as late
    assert "来源系统收件" in HANDLING_DURATION.text


def test_the_clocks_the_kpis_read_are_shipped_rules() -> None:
    book = load_rules()
    shipped = set(book.rules)
    assert shipped >= HANDLING_RULES and shipped >= ACCEPTANCE_RULES
    assert not HANDLING_RULES & ACCEPTANCE_RULES


def test_every_track_has_a_resolution_level() -> None:
    assert set(RESOLUTION_LEVEL_OF_TRACK) == set(DispatchTrack)


@pytest.mark.parametrize(
    ("track", "region", "level"),
    [
        (DispatchTrack.GRID, "411202", RegionLevel.VILLAGE),
        (DispatchTrack.POLICE, "411202001001", RegionLevel.TOWNSHIP),
        (DispatchTrack.PEOPLES_MEDIATION, "411202001001001", RegionLevel.VILLAGE),
        (DispatchTrack.PEOPLES_MEDIATION, "411202001", RegionLevel.TOWNSHIP),
        (DispatchTrack.PEOPLES_MEDIATION, "411202", RegionLevel.COUNTY),
        (DispatchTrack.PEOPLES_MEDIATION, None, RegionLevel.COUNTY),
        (DispatchTrack.PETITION, "411202001001", RegionLevel.COUNTY),
        (None, "411202001001", RegionLevel.COUNTY),
    ],
)
def test_resolution_level(
    track: DispatchTrack | None, region: str | None, level: RegionLevel
) -> None:
    assert resolution_level(track, region) is level


@pytest.mark.parametrize(
    ("origin", "region", "level"),
    [
        # closed without dispatch on its origin's conclusion there: that system's level
        (MatterOrigin.DISPUTE, "411202001001", RegionLevel.VILLAGE),  # a village 调委会
        (MatterOrigin.DISPUTE, "411202001", RegionLevel.TOWNSHIP),
        (MatterOrigin.GRID_EVENT, "411202001001001", RegionLevel.VILLAGE),
        (MatterOrigin.POLICE_ALERT, "411202", RegionLevel.TOWNSHIP),
        (MatterOrigin.PETITION, "411202001001", RegionLevel.COUNTY),
        (MatterOrigin.COURT_FILING, "411202", RegionLevel.COUNTY),
        (MatterOrigin.WALK_IN, "411202001001", RegionLevel.COUNTY),  # settled at the centre
    ],
)
def test_an_undispatched_matter_is_resolved_at_its_source_systems_level(
    origin: MatterOrigin, region: str, level: RegionLevel
) -> None:
    assert resolution_level(None, region, origin) is level
    # a dispatched one keeps its track's level, wherever it came from
    assert resolution_level(DispatchTrack.PETITION, region, origin) is RegionLevel.COUNTY


def test_every_synced_origin_has_a_source_track() -> None:
    synced = {origin for origin in MatterOrigin if origin.value in RecordKind.__members__}
    assert set(SOURCE_TRACK) == synced


@pytest.mark.parametrize("values", [[3.0], [1.0, 2.0], [5.0, 1.0, 9.0, 2.0, 7.5, 4.0, 11.0]])
def test_percentiles_interpolate_between_ranks(values: list[float]) -> None:
    assert percentile(values, 0.5) == pytest.approx(statistics.median(values))
    if len(values) > 1:
        p90 = statistics.quantiles(values, n=10, method="inclusive")[8]
        assert percentile(values, 0.9) == pytest.approx(p90)
    assert percentile([], 0.5) is None


@dataclass(frozen=True)
class _Key:
    kind: str | None = None
    period: date | None = None


def test_missing_periods_fill_every_series() -> None:
    keys = {_Key("a", date(2026, 1, 1)), _Key("b", date(2026, 3, 1))}
    missing = missing_periods(keys, TimeBucket.MONTH, None, None, _Key())
    assert sorted(missing, key=lambda k: (k.kind or "", k.period or date.min)) == [
        _Key("a", date(2026, 2, 1)), _Key("a", date(2026, 3, 1)),
        _Key("b", date(2026, 1, 1)), _Key("b", date(2026, 2, 1)),
    ]  # fmt: skip
    assert missing_periods(set(), TimeBucket.MONTH, date(2026, 1, 5), date(2026, 2, 5), _Key()) == [
        _Key(None, date(2026, 1, 1)), _Key(None, date(2026, 2, 1)),
    ]  # fmt: skip
