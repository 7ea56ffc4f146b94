"""Mapping one 110 alarm onto a ``PoliceAlert`` record, and each way it can fail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.errors import RecordError
from connectors.police import parse_alarm
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem

ID_NUMBER = "510107200205038413"


def alarm(**changes: str | None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "JJDBH": "J510107202412020001", "BJSJ": "2024-12-02 08:23:58", "BJRXM": "孟先生",
        "BJRDH": "177-7822-0482", "BJRSFZH": ID_NUMBER, "JQLBDM": "030000",
        "JQLXDM": "030100", "JQXLDM": "030101", "JQLBMC": "夫妻纠纷",
        "FSDZ": "青羊区仁和镇蔡湾村9组附近", "XZQHDM": "510105", "GXDWMC": "青羊区公安局仁和派出所",
        "JYAQ": "报警人称其丈夫李某酒后殴打她", "CJJG": "民警到场后对双方进行批评教育",
        "CJZT": "4", "GXSJ": "20241202110109",
    }  # fmt: skip
    for name, value in changes.items():
        if value is None:
            raw.pop(name)
        else:
            raw[name] = value
    return raw


def failure(raw: dict[str, Any]) -> RecordError:
    with pytest.raises(RecordError) as raised:
        parse_alarm(raw)
    return raised.value


def test_alarm_maps_onto_the_unified_record() -> None:
    record = parse_alarm(alarm())

    assert record.source is SourceSystem.POLICE_110
    assert record.source_key == "J510107202412020001"
    assert record.source_updated_at == datetime(2024, 12, 2, 3, 1, 9, tzinfo=UTC)
    assert record.occurred_at == datetime(2024, 12, 2, 0, 23, 58, tzinfo=UTC)
    assert record.category is DisputeCategory.MARRIAGE_FAMILY
    assert (record.status, record.source_status) == (CaseStatus.CLOSED, "已处结")
    assert record.title == "夫妻纠纷 青羊区仁和镇蔡湾村9组附近"
    assert record.region_code == "510105"
    assert record.summary == "报警人称其丈夫李某酒后殴打她"
    assert record.fields == {
        "alert_number": "J510107202412020001",
        "alarm_time": datetime(2024, 12, 2, 0, 23, 58, tzinfo=UTC),
        "category_code_l1": "030000",
        "category_code_l2": "030100",
        "category_code_l3": "030101",
        "disposal_result": "民警到场后对双方进行批评教育",
    }
    (caller,) = record.parties
    assert (caller.role, caller.name, caller.source_role) == (PartyRole.CALLER, "孟先生", "报警人")
    assert (caller.id_number, caller.phone) == (ID_NUMBER, "17778220482")


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("030102", DisputeCategory.MARRIAGE_FAMILY),
        ("030201", DisputeCategory.NEIGHBOUR),
        ("030301", DisputeCategory.LABOUR),
        ("030302", DisputeCategory.CONTRACT),
        ("030401", DisputeCategory.PROPERTY_MGMT),
        ("030501", DisputeCategory.TRAFFIC),
        ("050101", DisputeCategory.TRAFFIC),
        ("030601", DisputeCategory.CONSUMER),
        ("020201", DisputeCategory.NEIGHBOUR),
        ("010101", DisputeCategory.OTHER),
        ("040101", DisputeCategory.OTHER),
    ],
)
def test_category_follows_the_detail_code(code: str, category: DisputeCategory) -> None:
    assert parse_alarm(alarm(JQXLDM=code)).category is category


@pytest.mark.parametrize(
    ("cjzt", "status"),
    [("1", CaseStatus.ACCEPTED), ("2", CaseStatus.DISPATCHED), ("3", CaseStatus.IN_PROGRESS)],
)
def test_disposal_state_maps_onto_the_closed_loop(cjzt: str, status: CaseStatus) -> None:
    assert parse_alarm(alarm(CJZT=cjzt)).status is status


def test_blank_optional_fields_stay_none() -> None:
    record = parse_alarm(alarm(BJRSFZH="", JQLBMC="", FSDZ="", CJJG=""))

    assert record.parties[0].id_number is None
    assert record.title == "夫妻纠纷"  # the code table's name when the payload has none
    assert record.fields["disposal_result"] is None


def test_drift_and_unknown_elements_are_kept_in_raw() -> None:
    record = parse_alarm(alarm(JQBQ="v2"))

    assert record.raw["JQBQ"] == "v2"


@pytest.mark.parametrize(
    ("changes", "code", "named"),
    [
        ({"BJSJ": None, "BJSJ_ERR": "2024-12-02 08:23:58"}, "MISSING_FIELD", "BJSJ"),
        ({"GXSJ": ""}, "MISSING_FIELD", "GXSJ"),
        ({"BJSJ": "2024-02-30 08:23:58"}, "INVALID_DATE", "BJSJ"),
        ({"GXSJ": "2024123"}, "INVALID_DATE", "GXSJ"),
        ({"BJRSFZH": ID_NUMBER[:17] + "0"}, "INVALID_ID_NUMBER", "BJRSFZH"),
        ({"BJRDH": "12345"}, "INVALID_PHONE", "BJRDH"),
        ({"BJRXM": "锟斤拷锟斤拷"}, "BAD_ENCODING", "BJRXM"),
        ({"CJZT": "9"}, "INVALID_CODE", "CJZT"),
        ({"JQXLDM": "0301"}, "INVALID_CODE", "警情类别"),
        ({"XZQHDM": "990000"}, "INVALID_CODE", "XZQHDM"),
    ],
)
def test_a_bad_alarm_is_a_record_error_with_its_key(
    changes: dict[str, str | None], code: str, named: str
) -> None:
    error = failure(alarm(**changes))

    assert (error.code, error.key) == (code, "J510107202412020001")
    assert named in error.reason
    assert ID_NUMBER[:14] not in error.reason and "1777822" not in error.reason


def test_an_alarm_without_its_number_has_no_key() -> None:
    error = failure(alarm(JJDBH=None))

    assert (error.code, error.key) == ("MISSING_FIELD", None)


def test_a_payload_that_is_no_object_is_malformed() -> None:
    assert failure(["J1"]).code == "MALFORMED"  # type: ignore[arg-type]
