"""Records a write-back creates (回写生成的记录): the loop closed inside the target system.

An accepted 网上立案 (court), 委派调解 (mediation) or 交办 (grid) is not only a ledger entry:
the department now holds a record of its own — a 案号 at the court, a 调解案件 at the committee,
a 网格事件 at the grid — served by the system's ordinary read API (the next sync brings it
back to the hub). Each carries the reference the writer stamped (court ``externalRef`` = the
``Idempotency-Key``, mediation ``externalRef``, grid ``bizNo``), which is how the hub attaches
the record to the matter that caused it.

A created record takes its structural fields (court name and 代字, committee, grid and
coordinates) from a clean record of the same system, so it reads like any other; its content
comes from the write. Its status is the department's 受理/立案 (court 已立案, mediation 受理,
grid ``02`` 已受理); its number is a running number above those the world generator uses
(``9001…``), so it never collides with a generated key. Duplicates applied by a careless
writer create a second record each: the hub would then see both, as a real department would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.model import SourceRecord
from sandbox.systems.common import BEIJING, SystemContext

FIRST_NUMBER = 9001
"""Created records are numbered from here: the generator's running numbers stay far below."""

COURT_TYPE_CODES = {"民初": "民初", "民特": "民特", "诉前调解": "民诉前调", "诉前调确": "诉前调确"}
_COURT_NUMBER = re.compile(r"^\((\d{4})\)(.+?)(民初|民特|民诉前调|诉前调确)\d+号$")

COURT_CAUSES = {
    "MARRIAGE_FAMILY": "离婚纠纷",
    "NEIGHBOUR": "相邻关系纠纷",
    "CONTRACT": "买卖合同纠纷",
    "BUSINESS": "合伙协议纠纷",
    "DAMAGES": "生命权、身体权、健康权纠纷",
    "LABOUR": "追索劳动报酬纠纷",
    "TRAFFIC": "机动车交通事故责任纠纷",
    "PROPERTY_MGMT": "物业服务合同纠纷",
    "LAND_FOREST": "土地承包经营权纠纷",
    "MEDICAL": "医疗损害责任纠纷",
}
"""案由 of a filing by the hub's category when the filing names none (else 其他合同纠纷)."""

GRID_EVENT_TYPES = {
    "MARRIAGE_FAMILY": "JF01",
    "NEIGHBOUR": "JF02",
    "PROPERTY_MGMT": "JF03",
    "LABOUR": "JF04",
    "LAND_FOREST": "JF05",
    "HOUSING_HOMESTEAD": "JF06",
    "CONSUMER": "JF07",
}

COURT_ROLES = {
    "APPLICANT": "申请人",
    "RESPONDENT": "被申请人",
    "PLAINTIFF": "原告",
    "DEFENDANT": "被告",
    "THIRD_PARTY": "第三人",
}
MEDIATION_ROLES = {
    "APPLICANT": "申请人",
    "PLAINTIFF": "申请人",
    "RESPONDENT": "被申请人",
    "DEFENDANT": "被申请人",
}
"""govhub's role names in the committee's words; a role already in its words (申请人, 被申请人)
is kept, and any other role is a 申请人."""


class RecordMaker:
    """Turns one applied write into a new record of ``ctx``'s system."""

    def __init__(self, ctx: SystemContext) -> None:
        self.ctx = ctx
        self.created = 0

    def _template(self, body: dict[str, Any]) -> dict[str, Any]:
        """The payload of a clean record of this system, of the write's county when it has
        one (so a court case carries that county court's name and 代字), else the first."""
        county = str(body.get("regionCode") or "")[:6]
        clean = [
            record.payload
            for key, record in sorted(self.ctx.store.latest.items())
            if not record.deleted and key not in self.ctx.malformed
        ]
        local = [p for p in clean if str(p.get("regionCode") or "").startswith(county)]
        return dict((local or clean or [{}])[0]) if county else dict(clean[0] if clean else {})

    def _store(self, key: str, build: Callable[[datetime], dict[str, Any]]) -> SourceRecord:
        # later than anything held, so every system's incremental read picks it up next
        at = self.ctx.stamp_after(self.ctx.store.newest_update())
        record = SourceRecord(system=self.ctx.system, key=key, updated_at=at, payload=build(at))
        self.ctx.store.put(record)
        return record

    def _number(self) -> int:
        self.created += 1
        return FIRST_NUMBER + self.created - 1

    def court_case(self, filing: dict[str, Any], reference: str) -> SourceRecord:
        """网上立案 accepted: a case 已立案 under a new 案号, ``externalRef`` = the key."""
        template = self._template(filing)
        case_type = str(filing.get("caseType") or "")
        case_type = case_type if case_type in COURT_TYPE_CODES else "民初"
        match = _COURT_NUMBER.match(str(template.get("caseNo") or ""))
        court_code = match.group(2) if match else "豫1202"
        year = self.ctx.clock.now().astimezone(BEIJING).year
        key = f"({year}){court_code}{COURT_TYPE_CODES[case_type]}{self._number()}号"

        def build(at: datetime) -> dict[str, Any]:
            local = at.astimezone(BEIJING)
            return {
                **template,
                "caseNo": key,
                "caseType": case_type,
                "cause": str(
                    filing.get("cause")
                    or COURT_CAUSES.get(str(filing.get("category") or ""), "其他合同纠纷")
                ),
                "filingDate": local.strftime("%Y-%m-%d"),
                "judge": "",
                "status": "已立案",
                "outcome": "",
                "mediationCaseNo": None,
                "amount": 0.0,
                "regionCode": _region(filing, template, (6,)),
                "parties": [
                    _party(p, COURT_ROLES, "申请人", ("name", "idNumber", "phone"))
                    for p in _parties(filing)
                ],
                "modifiedAt": local.isoformat(timespec="milliseconds"),
                "externalRef": reference,
                "externalCaseNo": filing.get("externalCaseNo"),
            }

        return self._store(key, build)

    def mediation_case(self, referral: dict[str, Any], external_ref: str) -> SourceRecord:
        """委派调解 accepted: a case 受理 at the committee, ``externalRef`` stamped."""
        template = self._template(referral)
        prefix = str(template.get("caseNo") or "TJ411202001")[:11]
        number = self._number()
        year = self.ctx.clock.now().astimezone(BEIJING).year
        key = f"{prefix}{year}{number + 80000:05d}"

        def build(at: datetime) -> dict[str, Any]:
            local = at.astimezone(BEIJING)
            day = local.strftime("%Y/%m/%d")
            summary = str(referral.get("summary") or "")
            stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return {
                **template,
                "caseNo": key,
                "caseName": str(referral.get("caseName") or summary[:30]),
                "description": summary,
                "disputeType": str(referral.get("disputeType") or "99"),
                "occurDate": day,
                "acceptDate": day,
                "regionCode": _region(referral, template, (9, 12)),
                "parties": [
                    _party(p, MEDIATION_ROLES, "申请人", ("name", "idNo", "mobile"))
                    for p in _parties(referral)
                ],
                "status": "受理",
                "statusHistory": [{"status": "受理", "time": stamp}],
                "agreement": None,
                "judicialConfirmation": None,
                "alertNo": None,
                "amountInvolved": 0.0,
                "updatedAt": stamp,
                "externalRef": external_ref,
            }

        return self._store(key, build)

    def grid_event(self, assignment: dict[str, Any], biz_no: str) -> SourceRecord:
        """交办 accepted: an event 已受理 at the grid, ``bizNo`` stamped."""
        template = self._template(assignment)
        number = self._number()
        county = str(template.get("eventNo") or "WG411202")[2:8]
        day = self.ctx.clock.now().astimezone(BEIJING)
        key = f"WG{county}{day:%Y%m%d}{number + 90000:05d}"

        def build(at: datetime) -> dict[str, Any]:
            local = at.astimezone(BEIJING)
            return {
                **template,
                "eventNo": key,
                "title": str(assignment.get("title") or "交办事项"),
                "content": str(assignment.get("content") or ""),
                "eventType": GRID_EVENT_TYPES.get(str(assignment.get("category") or ""), "JF99"),
                "parties": [],
                "regionCode": _region(assignment, template, (9, 12)),
                "status": "02",
                "occurTime": local.isoformat(timespec="seconds"),
                "updateTime": int(at.timestamp() * 1000),
                "bizNo": biz_no,
                "sourceEventNo": assignment.get("eventNo"),
            }

        return self._store(key, build)


def _region(body: dict[str, Any], template: dict[str, Any], levels: tuple[int, ...]) -> Any:
    """The write's region cut to the deepest level the system keeps (the court its county,
    mediation and grid a township or village); the template's when the write names none."""
    region = str(body.get("regionCode") or "")
    for length in sorted(levels, reverse=True):
        if len(region) >= length and region[:length].isdigit():
            return region[:length]
    return template.get("regionCode")


def _parties(body: dict[str, Any]) -> list[dict[str, Any]]:
    parties = body.get("parties")
    return (
        [p for p in parties if isinstance(p, dict) and p.get("name")]
        if isinstance(parties, list)
        else []
    )


def _party(
    party: dict[str, Any], roles: dict[str, str], default_role: str, names: tuple[str, str, str]
) -> dict[str, Any]:
    """A party in the target's field names (name, ID number, phone), role in its words:
    govhub's name for it translated by ``roles``, a role already in the target's own words
    (one of ``roles``' values) kept, anything else ``default_role``."""
    name_key, id_key, phone_key = names
    role = str(party.get("role") or "")
    return {
        name_key: str(party.get("name")),
        id_key: str(party.get("idCard") or ""),
        phone_key: str(party.get("phone") or ""),
        "role": role if role in roles.values() else roles.get(role, default_role),
        "partyType": "自然人",
    }
