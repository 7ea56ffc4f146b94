"""Mapping one mediation case (人民调解案件) or tombstone, and every way one is refused."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.errors import RecordError
from connectors.http import SourceClient
from connectors.mediation import MediationConnector
from connectors.values import scrub_text
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem
from domain.validators import resident_id_check_char, uscc_check_char

ID17 = "51012919880521868"
RESIDENT_ID = ID17 + resident_id_check_char(ID17)
USCC17 = "91510129MA62K7Q0X"
USCC = USCC17 + uscc_check_char(USCC17)
CASE: dict[str, Any] = {
    "caseNo": "TJ510129004202600012", "caseName": "覃英爱与某物业公司物业纠纷",
    "disputeType": "14", "description": "物业费争议", "occurDate": "2026/03/14",
    "acceptDate": "2026/03/15", "orgName": "新场镇人民调解委员会",
    "orgCode": "Y1510129MAQ49Y3Y73", "mediatorName": "周军英", "regionCode": "510129004002",
    "address": "大邑县新场镇杨寨村10组192号",
    "parties": [
        {"name": "覃英爱", "idNo": RESIDENT_ID, "mobile": "15849102028", "role": "申请人",
         "partyType": "自然人"},
        {"name": "某物业公司", "idNo": USCC, "mobile": "", "role": "被申请人", "partyType": "法人"},
    ],
    "status": "调解成功",
    "statusHistory": [{"status": "受理", "time": "2026-03-15T01:00:00Z"}],
    "agreement": {"agreementNo": "XY510129004202600012", "amount": 5000.0,
                  "signedDate": "2026/03/20"},
    "judicialConfirmation": {"state": "已确认", "applyDate": "2026/03/22",
                             "confirmDate": "2026/03/30", "courtCaseNo": "（2026）川0129民特3号"},
    "alertNo": "J510129202603140012", "amountInvolved": 6792.31,
    "updatedAt": "2026-03-30T02:00:00Z",
}  # fmt: skip


def parse(raw: Any) -> Any:
    connector = MediationConnector(SourceClient(SourceSystem.MEDIATION, httpx.AsyncClient()))
    return connector.parse(raw)


def with_(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(CASE), **changes}


def test_a_case_maps_onto_the_unified_record() -> None:
    record = parse(CASE)

    assert (record.category, record.status, record.source_status, record.source_category) == (
        DisputeCategory.PROPERTY_MGMT, CaseStatus.RESOLVED, "调解成功", "14",
    )  # fmt: skip
    assert record.source_updated_at == datetime(2026, 3, 30, 2, tzinfo=UTC)
    assert record.occurred_at == datetime(2026, 3, 13, 16, tzinfo=UTC)  # 00:00 Beijing
    assert record.fields == {
        "mediation_org": "新场镇人民调解委员会", "mediation_org_code": "Y1510129MAQ49Y3Y73",
        "mediator": "周军英", "agreement_number": "XY510129004202600012",
        "agreement_signed_on": date(2026, 3, 20), "judicial_confirmation_status": "已确认",
        "judicial_confirmation_applied_on": date(2026, 3, 22),
        "judicial_confirmation_confirmed_on": date(2026, 3, 30),
        "judicial_confirmation_case_number": "(2026)川0129民特3号",
        "amount_involved": Decimal("6792.31"), "party_count": 2,
        "alert_number": "J510129202603140012", "accepted_on": date(2026, 3, 15),
    }  # fmt: skip
    applicant, respondent = record.parties
    assert (applicant.role, applicant.id_number, applicant.phone) == (
        PartyRole.APPLICANT, RESIDENT_ID, "15849102028",
    )  # fmt: skip
    assert (respondent.role, respondent.is_organisation, respondent.uscc) == (
        PartyRole.RESPONDENT, True, USCC,
    )  # fmt: skip


def test_a_case_without_agreement_or_confirmation_leaves_them_empty() -> None:
    record = parse(with_(status="调解失败", agreement=None, judicialConfirmation=None))

    assert record.status is CaseStatus.FAILED
    assert record.fields["agreement_number"] is None
    assert record.fields["judicial_confirmation_case_number"] is None


@pytest.mark.parametrize(
    ("type_code", "category"),
    [("01", DisputeCategory.MARRIAGE_FAMILY), ("08", DisputeCategory.LAND_ACQUISITION),
     ("13", DisputeCategory.TRAFFIC), ("99", DisputeCategory.OTHER)],
)  # fmt: skip
def test_dispute_types_map_one_to_one(type_code: str, category: DisputeCategory) -> None:
    assert parse(with_(disputeType=type_code)).category is category


def test_a_tombstone_marks_the_case_deleted() -> None:
    tombstone = {"caseNo": "TJ510129004202600012", "deleted": True,
                 "updatedAt": "2026-04-01T00:00:00Z"}  # fmt: skip

    record = parse(tombstone)

    assert record.deleted and record.source_key == "TJ510129004202600012"
    assert record.source_updated_at == datetime(2026, 4, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"caseName": None}, "MISSING_FIELD"),
        ({"updatedAt": ""}, "MISSING_FIELD"),
        ({"occurDate": "2026/02/30"}, "INVALID_DATE"),
        ({"agreement": {"agreementNo": "XY1", "signedDate": "2026/13/01"}}, "INVALID_DATE"),
        ({"disputeType": "42"}, "INVALID_CODE"),
        ({"status": "已受理"}, "INVALID_CODE"),
        ({"parties": [{"name": "张伟", "idNo": "", "mobile": "", "role": "证人"}]},
         "INVALID_CODE"),
        ({"parties": [{"name": "张伟", "idNo": ID17 + "0", "mobile": "", "role": "申请人"}]},
         "INVALID_ID_NUMBER"),
        ({"parties": [{"name": "某公司", "idNo": "91510129MA62K7Q0XZ", "mobile": "",
                       "role": "被申请人", "partyType": "法人"}]}, "INVALID_ID_NUMBER"),
        ({"parties": [{"name": "张伟", "idNo": "", "mobile": "1234", "role": "申请人"}]},
         "INVALID_PHONE"),
        ({"judicialConfirmation": {"state": "已申请", "courtCaseNo": "川0129民特3号"}},
         "INVALID_CASE_NUMBER"),
        ({"description": "双方\udcff\udcfe发生"}, "BAD_ENCODING"),
    ],
)  # fmt: skip
def test_a_bad_case_is_refused_with_its_code(change: dict[str, Any], code: str) -> None:
    with pytest.raises(RecordError) as refused:
        parse(scrub_text(with_(**change)))

    assert refused.value.code == code and refused.value.key == "TJ510129004202600012"
    assert ID17 not in refused.value.reason
