"""Payload builders for the two case-file systems: people's mediation cases (人民调解案件)
and court cases (法院案件). Field names, codes and formats: sandbox/README.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import SourceSystem
from sandbox import formats
from sandbox.codes import (
    COURT_CASE_TYPE_CODES,
    COURT_CAUSES,
    COURT_CONFIRMATION_OUTCOME,
    COURT_LITIGATION_OUTCOMES,
    COURT_PRE_MEDIATION_OUTCOMES,
    MEDIATION_OUTCOMES,
    MEDIATION_STATES,
    MEDIATION_TOPIC_TYPES,
    MEDIATION_TYPES,
)
from sandbox.forge import Forge, Matter
from sandbox.model import SourceRecord
from sandbox.noise import mention_id, mention_name, mention_phone, render_address
from sandbox.people import Address, Organisation, Party
from sandbox.regions import County


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A court's judicial confirmation (司法确认) of a mediation agreement."""

    case_no: str
    case_type: str
    applied: datetime
    confirmed: datetime


def court_case_no(f: Forge, county: County, case_type: str, year: int) -> str:
    """A 案号: ``(2026)豫1202民初123号`` — year, 法院代字, 类型代字, running number."""
    code = COURT_CASE_TYPE_CODES[case_type]
    return f.keys.next(SourceSystem.COURT, f"{county.court_code}{year}{code}",
                       lambda n: f"({year}){county.court_code}{code}{n}号")


def _party_rows(f: Forge, parties: Sequence[tuple[Party, str]], names: tuple[str, str, str],
                name_noise: float, id_blank: float, phone_blank: float) -> list[dict[str, Any]]:
    name_key, id_key, phone_key = names
    return [{name_key: party.name if isinstance(party, Organisation)
             else mention_name(f.rng, party.name, name_noise),
             id_key: mention_id(f.rng, party, id_blank),
             phone_key: mention_phone(f.rng, party, 0.3, phone_blank), "role": role,
             "partyType": "法人" if isinstance(party, Organisation) else "自然人"}
            for party, role in parties]


def mediation_case(f: Forge, matter: Matter, applicants: Sequence[Party],
                   respondents: Sequence[Party], topic: str, occurred: datetime, place: Address,
                   *, outcome: str, description: str, amount: float, alert_no: str | None = None,
                   confirm_as: str | None = None, accepted: datetime | None = None,
                   ) -> tuple[SourceRecord, Confirmation | None]:
    """One 人民调解案件 at the committee of the township where the dispute arose.

    With ``confirm_as`` (民特 or 诉前调确) a successful agreement goes to the county court for
    judicial confirmation; the returned :class:`Confirmation` carries the court's 案号.
    """
    rng = f.rng
    township = place.village.township
    accepted = accepted or f.later(occurred, 2, 24 * 5)
    year = formats.beijing(accepted).year
    key = f.keys.next(SourceSystem.MEDIATION, f"TJ{township.code}{year}",
                      lambda n: f"TJ{township.code}{year}{n:05d}")
    history = [(MEDIATION_STATES[0], accepted)]
    working = f.later(accepted, 4, 24 * 5)
    if working < f.latest:
        history.append((MEDIATION_STATES[1], working))
        closed = f.later(working, 24, 24 * 30)
        if closed < f.latest and outcome in MEDIATION_OUTCOMES:
            history.append((MEDIATION_OUTCOMES[outcome], closed))
    status, last = history[-1]
    agreement = None
    if status == MEDIATION_OUTCOMES["success"]:
        agreement = {"agreementNo": f"XY{key[2:]}",
                     "amount": round(amount * rng.uniform(0.3, 1), 2),
                     "signedDate": formats.mediation_date(last)}
    judicial, confirmation = None, None
    if confirm_as is not None and agreement is not None:
        confirmation = _plan_confirmation(f, township.county, last, confirm_as)
    if confirmation is not None:
        done = confirmation.confirmed < f.latest
        judicial = {"state": "已确认" if done else "已申请",
                    "applyDate": formats.mediation_date(confirmation.applied),
                    "confirmDate": formats.mediation_date(confirmation.confirmed) if done else None,
                    "courtCaseNo": confirmation.case_no}
        last = confirmation.confirmed if done else confirmation.applied
    updated = formats.truncate(last)
    type_code = MEDIATION_TOPIC_TYPES[topic]
    group = f"等{len(applicants)}人" if len(applicants) > 1 else ""
    parties = [*((p, "申请人") for p in applicants), *((p, "被申请人") for p in respondents)]
    payload = {
        "caseNo": key,
        "caseName": (f"{applicants[0].name}{group}与{respondents[0].name}"
                     f"{MEDIATION_TYPES[type_code]}"),
        "disputeType": type_code, "description": description,
        "occurDate": formats.mediation_date(occurred),
        "acceptDate": formats.mediation_date(accepted), "orgName": township.committee,
        "orgCode": township.committee_uscc, "mediatorName": rng.choice(township.mediators),
        "regionCode": place.village.code, "address": render_address(rng, place, (0, 2)),
        "parties": _party_rows(f, parties, ("name", "idNo", "mobile"), 0.03, 0.05, 0.05),
        "status": status,
        "statusHistory": [{"status": s, "time": formats.mediation_stamp(t)} for s, t in history],
        "agreement": agreement, "judicialConfirmation": judicial, "alertNo": alert_no,
        "amountInvolved": round(amount, 2), "updatedAt": formats.mediation_stamp(updated),
    }
    return f.emit(SourceSystem.MEDIATION, key, payload, updated, matter, parties), confirmation


def _plan_confirmation(f: Forge, county: County, agreed: datetime,
                       case_type: str) -> Confirmation | None:
    applied = f.later(agreed, 24, 24 * 10)
    if applied >= f.latest:
        return None
    confirmed = f.later(applied, 24 * 2, 24 * 15)
    year = formats.beijing(applied).year
    return Confirmation(court_case_no(f, county, case_type, year), case_type, applied, confirmed)


def court_case(f: Forge, matter: Matter, plaintiffs: Sequence[Party],
               defendants: Sequence[Party], topic: str, filed: datetime, county: County, *,
               case_type: str = "民初", case_no: str | None = None,
               mediation_case_no: str | None = None, amount: float = 0.0,
               decided: datetime | None = None, outcome: str | None = None) -> SourceRecord:
    """One 法院案件. 民特/诉前调确 list every side as 申请人; 民初 has 原告/被告.

    ``outcome`` fixes the 结案方式 should the case close before the world's present (else one
    typical of its type is drawn)."""
    rng = f.rng
    year = formats.beijing(filed).year
    case_no = case_no or court_case_no(f, county, case_type, year)
    confirming = case_type in ("民特", "诉前调确")
    if confirming:
        parties = [(p, "申请人") for p in (*plaintiffs, *defendants)]
    elif case_type == "诉前调解":
        parties = [*((p, "申请人") for p in plaintiffs), *((p, "被申请人") for p in defendants)]
    else:
        parties = [*((p, "原告") for p in plaintiffs), *((p, "被告") for p in defendants)]
    moment, status, closed_as = filed, "已立案", ""
    hearing = f.later(filed, 24 * 3, 24 * 30)
    if not confirming and hearing < f.latest:
        moment, status = hearing, "审理中"
    closing = decided or f.later(moment, 24 * 10, 24 * 120)
    if closing < f.latest:
        moment, status = closing, "已结案"
        closed_as = outcome or (COURT_CONFIRMATION_OUTCOME if confirming else
                     rng.choice(COURT_PRE_MEDIATION_OUTCOMES) if case_type == "诉前调解" else
                     rng.choice(COURT_LITIGATION_OUTCOMES))
    updated = formats.truncate(f.millis(moment), millis=True)
    payload = {
        "caseNo": case_no, "cause": COURT_CAUSES["confirmation" if confirming else topic],
        "court": county.court, "courtCode": county.court_code, "caseType": case_type,
        "filingDate": formats.court_date(filed),
        "judge": rng.choice(f.factory.pools.surnames) + rng.choice(f.factory.pools.male_given),
        "status": status, "outcome": closed_as,
        "parties": _party_rows(f, parties, ("name", "idNumber", "phone"), 0.01, 0.02, 0.1),
        "mediationCaseNo": mediation_case_no, "regionCode": county.code,
        "amount": round(amount, 2), "modifiedAt": formats.court_stamp(updated),
    }
    return f.emit(SourceSystem.COURT, case_no, payload, updated, matter, parties)

