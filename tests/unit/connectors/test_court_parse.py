"""Mapping one court case (法院案件) onto a ParsedRecord, and every way one is refused."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from connectors.court import CourtConnector
from connectors.errors import RecordError
from connectors.http import SourceClient
from connectors.mappings.court import category_of_cause
from connectors.values import scrub_text
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem
from domain.validators import resident_id_check_char, uscc_check_char

ID17 = "41128219530331320"
RESIDENT_ID = ID17 + resident_id_check_char(ID17)
USCC17 = "91411282MA4K2P7Q0"
USCC = USCC17 + uscc_check_char(USCC17)
CASE: dict[str, Any] = {
    "caseNo": "（2024）豫1282民初0001号", "cause": "追索劳动报酬纠纷", "court": "灵宝市人民法院",
    "courtCode": "豫1282", "caseType": "民初", "filingDate": "2024-12-08", "judge": "苑建",
    "status": "已结案", "outcome": "调解结案",
    "parties": [
        {"name": "石雪月", "idNumber": RESIDENT_ID, "phone": "18277993028", "role": "原告",
         "partyType": "自然人"},
        {"name": "某建筑公司", "idNumber": USCC, "phone": "", "role": "被告", "partyType": "法人"},
    ],
    "mediationCaseNo": "TJ411282001202400003", "regionCode": "411282", "amount": 26635.06,
    "modifiedAt": "2025-02-13T02:57:40.032+08:00",
}  # fmt: skip


def parse(raw: Any) -> Any:
    connector = CourtConnector(SourceClient(SourceSystem.COURT, httpx.AsyncClient()))
    return connector.parse(raw)


def with_(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(CASE), **changes}


def test_a_case_maps_onto_the_unified_record() -> None:
    record = parse(CASE)

    assert record.source_key == "（2024）豫1282民初0001号"  # the source's own key, as sent
    assert (record.category, record.status, record.source_status) == (
        DisputeCategory.LABOUR, CaseStatus.RESOLVED, "已结案/调解结案",
    )  # fmt: skip
    assert record.source_updated_at == datetime(2025, 2, 12, 18, 57, 40, 32000, tzinfo=UTC)
    assert record.fields == {
        "case_number": "(2024)豫1282民初1号", "cause": "追索劳动报酬纠纷",
        "court": "灵宝市人民法院", "court_code": "豫1282", "case_type": "民初",
        "filed_on": date(2024, 12, 8), "judge": "苑建", "outcome": "调解结案",
        "mediation_case_number": "TJ411282001202400003",
    }  # fmt: skip
    plaintiff, defendant = record.parties
    assert (plaintiff.role, plaintiff.id_number) == (PartyRole.PLAINTIFF, RESIDENT_ID)
    assert (defendant.role, defendant.is_organisation, defendant.uscc) == (
        PartyRole.DEFENDANT, True, USCC,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "outcome", "expected"),
    [("已立案", "", CaseStatus.ACCEPTED), ("审理中", "", CaseStatus.IN_PROGRESS),
     ("已结案", "判决", CaseStatus.CLOSED), ("已结案", "判决（已生效）", CaseStatus.CLOSED),
     ("已结案", "准许撤诉", CaseStatus.WITHDRAWN), ("已结案", "调解不成", CaseStatus.FAILED),
     ("已结案", "确认调解协议有效", CaseStatus.RESOLVED), ("已结案", "", CaseStatus.CLOSED)],
)  # fmt: skip
def test_status_and_outcome_follow_the_table(
    status: str, outcome: str, expected: CaseStatus
) -> None:
    assert parse(with_(status=status, outcome=outcome)).status is expected


@pytest.mark.parametrize(
    ("cause", "category"),
    [("离婚纠纷", DisputeCategory.MARRIAGE_FAMILY), ("民间借贷纠纷", DisputeCategory.CONTRACT),
     ("机动车交通事故责任纠纷", DisputeCategory.TRAFFIC),
     ("申请司法确认调解协议", DisputeCategory.OTHER),
     ("劳务合同纠纷", DisputeCategory.LABOUR), ("名誉权纠纷", DisputeCategory.DAMAGES),
     ("股东资格确认纠纷", DisputeCategory.OTHER)],
)  # fmt: skip
def test_causes_map_by_table_then_keyword(cause: str, category: DisputeCategory) -> None:
    assert category_of_cause(cause) is category


def test_pre_suit_mediation_parties_are_applicants_and_respondents() -> None:
    parties = [
        {"name": "张伟", "idNumber": "", "phone": "", "role": "申请人"},
        {"name": "王芳", "idNumber": "", "phone": "", "role": "被申请人"},
    ]

    record = parse(with_(caseType="诉前调解", caseNo="(2026)豫1282民诉前调5号", parties=parties))

    assert [p.role for p in record.parties] == [PartyRole.APPLICANT, PartyRole.RESPONDENT]
    assert record.fields["case_number"] == "(2026)豫1282民诉前调5号"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"cause": ""}, "MISSING_FIELD"),
        ({"modifiedAt": None}, "MISSING_FIELD"),
        ({"filingDate": "2024-02-30"}, "INVALID_DATE"),
        ({"modifiedAt": "2025-02-30T02:57:40.032+08:00"}, "INVALID_DATE"),
        ({"caseType": "刑初"}, "INVALID_CODE"),
        ({"status": "已归档"}, "INVALID_CODE"),
        ({"parties": [{"name": "张伟", "idNumber": "", "phone": "", "role": "证人"}]},
         "INVALID_CODE"),
        ({"parties": [{"name": "张伟", "idNumber": ID17 + "0", "phone": "", "role": "原告"}]},
         "INVALID_ID_NUMBER"),
        ({"parties": [{"name": "张伟", "idNumber": "", "phone": "999", "role": "原告"}]},
         "INVALID_PHONE"),
        ({"regionCode": "4112"}, "INVALID_CODE"),
        ({"cause": "追索\udcff\udcfe劳动报酬纠纷"}, "BAD_ENCODING"),
    ],
)  # fmt: skip
def test_a_bad_case_is_refused_with_its_code(change: dict[str, Any], code: str) -> None:
    with pytest.raises(RecordError) as refused:
        parse(scrub_text(with_(**change)))

    assert refused.value.code == code and refused.value.key == CASE["caseNo"]
    assert ID17 not in refused.value.reason


def test_an_invalid_case_number_is_refused() -> None:
    with pytest.raises(RecordError) as refused:
        parse(with_(caseNo="(2024)豫1282民吃1号"))

    assert refused.value.code == "INVALID_CASE_NUMBER"
