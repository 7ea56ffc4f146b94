"""Mapping one grid event (网格事件) onto a ParsedRecord, and every way one is refused."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.errors import RecordError
from connectors.grid import GridConnector
from connectors.http import SourceClient
from connectors.values import scrub_text
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem
from domain.validators import resident_id_check_char, uscc_check_char

ID17 = "41120219880521868"
RESIDENT_ID = ID17 + resident_id_check_char(ID17)
USCC17 = "91411202MA4K2P7Q0"
USCC = USCC17 + uscc_check_char(USCC17)
EVENT: dict[str, Any] = {
    "eventNo": "WG4112022026031500001", "title": "黄龙社区邻里纠纷", "content": "楼道堆放杂物",
    "eventType": "JF02", "gridCode": "411202001001003", "regionCode": "411202001001",
    "address": "湖滨区车站街道建设路12号", "lng": 111.2, "lat": 34.77,
    "reporterName": "李娜", "reporterPhone": "139 0398 0001",
    "parties": [
        {"name": "张伟", "idCard": RESIDENT_ID, "phone": "", "role": "当事人"},
        {"name": "某物业公司", "idCard": USCC, "phone": "0398-2812345", "role": "当事人"},
    ],
    "status": "03", "occurTime": "2026-03-15T08:30:00+08:00", "updateTime": 1773534600123,
}  # fmt: skip


def parse(raw: Any) -> Any:
    connector = GridConnector(SourceClient(SourceSystem.GRID, httpx.AsyncClient()))
    return connector.parse(raw)


def with_(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(EVENT), **changes}


def test_an_event_maps_onto_the_unified_record() -> None:
    record = parse(EVENT)

    assert (record.source_key, record.category, record.status) == (
        "WG4112022026031500001", DisputeCategory.NEIGHBOUR, CaseStatus.IN_PROGRESS,
    )  # fmt: skip
    assert (record.source_category, record.source_status) == ("JF02", "处置中")
    assert record.source_updated_at == datetime(2026, 3, 15, 0, 30, 0, 123000, tzinfo=UTC)
    assert record.occurred_at == datetime(2026, 3, 15, 0, 30, tzinfo=UTC)
    assert record.region_code == "411202001001"
    assert record.fields == {
        "grid_code": "411202001001003", "reporter": "李娜", "event_type": "JF02",
        "longitude": 111.2, "latitude": 34.77,
    }  # fmt: skip
    reporter, person, company = record.parties
    assert (reporter.role, reporter.name, reporter.phone) == (
        PartyRole.REPORTER, "李娜", "13903980001",
    )  # fmt: skip
    assert (person.role, person.id_number, person.phone, person.is_organisation) == (
        PartyRole.INVOLVED, RESIDENT_ID, None, False,
    )  # fmt: skip
    assert (company.is_organisation, company.uscc, company.id_number) == (True, USCC, None)


@pytest.mark.parametrize(
    ("code", "status"),
    [("01", CaseStatus.REPORTED), ("02", CaseStatus.ACCEPTED), ("04", CaseStatus.CLOSED),
     ("05", CaseStatus.CLOSED), ("06", CaseStatus.WITHDRAWN)],
)  # fmt: skip
def test_status_codes_follow_the_table(code: str, status: CaseStatus) -> None:
    assert parse(with_(status=code)).status is status


def test_an_event_without_parties_or_reporter_has_none() -> None:
    record = parse(with_(eventType="HJ01", parties=[], reporterName="", reporterPhone=""))

    assert record.parties == [] and record.category is DisputeCategory.ENVIRONMENT


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": None}, "MISSING_FIELD"),
        ({"updateTime": None}, "MISSING_FIELD"),
        ({"occurTime": "2026-02-30T08:30:00+08:00"}, "INVALID_DATE"),
        ({"updateTime": "yesterday"}, "INVALID_DATE"),
        ({"eventType": "ZZ99"}, "INVALID_CODE"),
        ({"status": "99"}, "INVALID_CODE"),
        ({"regionCode": "991202001001"}, "INVALID_CODE"),
        ({"reporterPhone": "12345"}, "INVALID_PHONE"),
        ({"parties": [{"name": "张伟", "idCard": ID17 + "0", "phone": ""}]}, "INVALID_ID_NUMBER"),
        ({"parties": [{"name": "", "idCard": "", "phone": ""}]}, "MISSING_FIELD"),
        ({"parties": "张伟"}, "MALFORMED"),
        ({"title": "黄\udcff\udcfe龙社区"}, "BAD_ENCODING"),
    ],
)  # fmt: skip
def test_a_bad_event_is_refused_with_its_code(change: dict[str, Any], code: str) -> None:
    with pytest.raises(RecordError) as refused:
        parse(scrub_text(with_(**change)))

    assert refused.value.code == code and refused.value.key == "WG4112022026031500001"
    assert ID17 not in refused.value.reason and "12345" not in refused.value.reason


def test_an_event_without_its_key_is_missing_a_field() -> None:
    with pytest.raises(RecordError) as refused:
        parse(with_(eventNo=""))

    assert refused.value.code == "MISSING_FIELD" and refused.value.key is None
