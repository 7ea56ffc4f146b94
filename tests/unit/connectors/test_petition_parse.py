"""Mapping one 信访件 CSV row onto a ``Petition`` record, and each way it can fail."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.errors import RecordError
from connectors.petition import PetitionConnector, file_version
from connectors.petition_parse import parse_row
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem

KEY = "XF411202202603150012"
ID_1, ID_2 = "510113196607025787", "510182194701179030"


def row(**changes: str | None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "信访件编号": KEY, "信访形式": "来访", "信访人": "李真美、邓光坚",
        "证件号码": f"{ID_1};", "联系电话": "13025866809;157 7190 0607",
        "信访日期": "2026年3月15日", "问题属地": "411202001000",
        "内容分类": "劳动和社会保障/拖欠工资", "诉求": "请求支付拖欠工资",
        "办理单位": "湖滨区人社局", "办理期限": "2026年5月14日", "办理状态": "办理中",
        "信访人数": "12", "重复信访次数": "1", "关联案号": "（2026）豫1202民初123号",
        "更新时间": "2026-03-15 08:30:00", "_file": "xf_20260315.csv",
    }  # fmt: skip
    for name, value in changes.items():
        if value is None:
            raw.pop(name)
        else:
            raw[name] = value
    return raw


def failure(raw: dict[str, Any]) -> RecordError:
    with pytest.raises(RecordError) as raised:
        parse_row(raw)
    return raised.value


def test_row_maps_onto_the_unified_record() -> None:
    record = parse_row(row())

    assert record.source is SourceSystem.PETITION
    assert record.source_key == KEY
    assert record.source_updated_at == datetime(2026, 3, 15, 0, 30, tzinfo=UTC)
    assert record.source_version == "001"
    assert record.occurred_at == datetime(2026, 3, 14, 16, 0, tzinfo=UTC)  # 3月15日 Beijing
    assert record.category is DisputeCategory.LABOUR
    assert (record.status, record.source_status) == (CaseStatus.IN_PROGRESS, "办理中")
    assert record.region_code == "411202001"
    assert record.title == "拖欠工资（来访）"
    assert record.fields == {
        "petition_numbers": {"county": KEY},
        "form": "来访",
        "accepted_on": date(2026, 3, 15),
        "deadline": date(2026, 5, 14),
        "handling_unit": "湖滨区人社局",
        "repeat_count": 1,
        "petitioner_count": 12,
        "cited_case_number": "(2026)豫1202民初123号",
    }


def test_petitioners_are_aligned_with_their_ids_and_phones() -> None:
    first, second = parse_row(row()).parties

    assert (first.role, first.name, first.id_number, first.phone) == (
        PartyRole.PETITIONER, "李真美", ID_1, "13025866809"
    )  # fmt: skip
    assert (second.name, second.id_number, second.phone) == ("邓光坚", None, "15771900607")


def test_a_reissued_file_gives_a_higher_version() -> None:
    original = parse_row(row())
    reissued = parse_row(row(_file="xf_20260315_v2.csv"))

    assert reissued.version_key() > original.version_key()
    assert (file_version("xf_20260315_v2.csv"), file_version("xf_20260315.csv")) == (2, 1)
    assert file_version("readme.txt") is None


@pytest.mark.parametrize(
    ("content_class", "category"),
    [
        ("城乡建设/物业管理", DisputeCategory.PROPERTY_MGMT),
        ("农村农业/土地承包", DisputeCategory.LAND_FOREST),
        ("城乡建设/征地拆迁", DisputeCategory.LAND_ACQUISITION),
        ("生态环境/环境污染", DisputeCategory.ENVIRONMENT),
        ("城乡建设/住房保障", DisputeCategory.HOUSING_HOMESTEAD),
        ("其他/邻里纠纷", DisputeCategory.NEIGHBOUR),
        ("政法/涉法涉诉", DisputeCategory.OTHER),
        ("劳动和社会保障/社保缴纳", DisputeCategory.LABOUR),  # by its 大类
        ("交通运输/出租车", DisputeCategory.OTHER),
    ],
)
def test_content_class_maps_onto_a_category(content_class: str, category: DisputeCategory) -> None:
    assert parse_row(row(内容分类=content_class)).category is category


@pytest.mark.parametrize(
    ("cited", "stored"),
    [
        ("(2026)豫1202民初123号", "(2026)豫1202民初123号"),
        ("TJ411202001202600012", "TJ411202001202600012"),
        ("", None),
        ("某法院判决", "某法院判决"),
    ],
)
def test_cited_case_numbers(cited: str, stored: str | None) -> None:
    assert parse_row(row(关联案号=cited)).fields["cited_case_number"] == stored


@pytest.mark.parametrize(
    ("changes", "code", "named"),
    [
        ({"信访形式": ""}, "MISSING_FIELD", "信访形式"),
        ({"更新时间": None}, "MISSING_FIELD", "更新时间"),
        ({"信访日期": "2026年2月30日"}, "INVALID_DATE", "信访日期"),
        ({"办理期限": "2026-05-14"}, "INVALID_DATE", "办理期限"),
        ({"更新时间": "2026-03-15T08:30"}, "INVALID_DATE", "更新时间"),
        ({"证件号码": f";{ID_2[:17]}1"}, "INVALID_ID_NUMBER", "证件号码 #2"),
        ({"联系电话": "13025866809;0000"}, "INVALID_PHONE", "联系电话 #2"),
        ({"办理状态": "已归档"}, "INVALID_CODE", "办理状态"),
        ({"问题属地": "999999000000"}, "INVALID_CODE", "问题属地"),
        ({"信访人数": "十二"}, "MALFORMED", "信访人数"),
        ({"证件号码": f"{ID_1};;{ID_2}"}, "MALFORMED", "证件号码"),
        ({"_undecodable": ["信访人"]}, "BAD_ENCODING", "信访人"),  # a replayed broken row
    ],
)
def test_a_bad_row_is_a_record_error_with_its_key(
    changes: dict[str, Any], code: str, named: str
) -> None:
    error = failure(row(**changes))

    assert (error.code, error.key) == (code, KEY)
    assert named in error.reason
    assert ID_2[:14] not in error.reason and "13025866809" not in error.reason


def test_a_row_without_its_number_has_no_key() -> None:
    assert (failure(row(信访件编号="")).code, failure(row(信访件编号="")).key) == (
        "MISSING_FIELD", None
    )  # fmt: skip


def test_connector_parse_is_the_row_mapping() -> None:
    connector = PetitionConnector(client=None)  # type: ignore[arg-type]  # parse needs no client

    assert connector.parse(row()).source_key == KEY
