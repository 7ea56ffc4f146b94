"""Sandbox payloads → linking facts, without connectors or a database (test support).

Maps each system's payload the way sandbox/README.md documents it, so that resolution and
linking can be measured on a generated world in memory. The ID number stands in for its own
blind index here: the domain only ever compares indexes for equality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.mappings import by_longest_prefix
from connectors.mappings.court import category_of_cause
from connectors.mappings.grid import CATEGORY_BY_EVENT_TYPE
from connectors.mappings.mediation import CATEGORY_BY_DISPUTE_TYPE
from connectors.mappings.petition import CATEGORY_BY_CLASS
from connectors.mappings.police import CATEGORY_BY_CODE_PREFIX
from domain.enums import DisputeCategory, SourceSystem
from domain.kinds import KIND_OF_SOURCE
from domain.linking import MentionFacts, OrganisationFacts, RecordFacts
from domain.linking.organisations import looks_like_organisation
from domain.validators import InvalidIdentifier, birth_date_from_resident_id
from sandbox.formats import BEIJING
from sandbox.model import World


@dataclass
class Party:
    name: str
    id_number: str = ""
    phone: str = ""
    organisation: bool = False
    reporter: bool = False


@dataclass
class WorldFacts:
    persons: list[MentionFacts] = field(default_factory=list)
    organisations: list[OrganisationFacts] = field(default_factory=list)
    records: list[RecordFacts] = field(default_factory=list)
    """Records without their resolved parties; see :func:`with_parties`."""
    mention_record: dict[int, int] = field(default_factory=dict)
    mention_reporter: set[int] = field(default_factory=set)
    truth_person: dict[int, str] = field(default_factory=dict)
    truth_matter: dict[int, str] = field(default_factory=dict)


def _birth(id_number: str) -> date | None:
    try:
        return birth_date_from_resident_id(id_number, today=date(2026, 11, 1))
    except InvalidIdentifier:
        return None


def _day(text: str, pattern: str) -> datetime:
    return datetime.strptime(text, pattern).replace(tzinfo=BEIJING)


def _cn_day(text: str) -> datetime:
    y, m, d = (int(x) for x in re.findall(r"\d+", text))
    return datetime(y, m, d, tzinfo=BEIJING)


def _parse(system: SourceSystem, p: dict[str, Any]) -> tuple[dict[str, Any], list[Party]]:
    if system is SourceSystem.POLICE_110:
        category = by_longest_prefix(CATEGORY_BY_CODE_PREFIX, p["JQXLDM"]) or DisputeCategory.OTHER
        facts = {
            "category": category,
            "occurred_at": _day(p["BJSJ"], "%Y-%m-%d %H:%M:%S"),
            "region_code": p["XZQHDM"],
            "address": p["FSDZ"],
        }
        return facts, [Party(p["BJRXM"], p["BJRSFZH"], p["BJRDH"])]
    if system is SourceSystem.GRID:
        facts = {
            "category": CATEGORY_BY_EVENT_TYPE[p["eventType"]],
            "occurred_at": datetime.fromisoformat(p["occurTime"]),
            "region_code": p["regionCode"],
            "address": p["address"],
        }
        parties = [Party(p["reporterName"], "", p["reporterPhone"], reporter=True)]
        for q in p["parties"]:
            org = q["idCard"].startswith("9") or looks_like_organisation(q["name"])
            parties.append(Party(q["name"], q["idCard"], q["phone"], organisation=org))
        return facts, parties
    if system is SourceSystem.MEDIATION:
        judicial = p.get("judicialConfirmation") or {}
        facts = {
            "category": CATEGORY_BY_DISPUTE_TYPE[p["disputeType"]],
            "occurred_at": _day(p["occurDate"], "%Y/%m/%d"),
            "region_code": p["regionCode"],
            "address": p["address"],
            "alert_number": p.get("alertNo"),
            "judicial_confirmation_case_number": judicial.get("courtCaseNo"),
        }
        return facts, [
            Party(q["name"], q["idNo"], q["mobile"], q["partyType"] == "法人") for q in p["parties"]
        ]
    if system is SourceSystem.PETITION:
        names = p["信访人"].split("、")
        ids = p["证件号码"].split(";")
        phones = p["联系电话"].split(";")
        facts = {
            "category": CATEGORY_BY_CLASS.get(p["内容分类"], DisputeCategory.OTHER),
            "occurred_at": _cn_day(p["信访日期"]),
            "region_code": p["问题属地"],
            "cited_case_number": p["关联案号"] or None,
        }
        return facts, [Party(n, i, t) for n, i, t in zip(names, ids, phones, strict=True)]
    facts = {
        "category": category_of_cause(p["cause"]),
        "occurred_at": _day(p["filingDate"], "%Y-%m-%d"),
        "region_code": p["regionCode"],
        "mediation_case_number": p.get("mediationCaseNo"),
        "case_type": p["caseType"],
    }
    return facts, [
        Party(q["name"], q["idNumber"], q["phone"], q["partyType"] == "法人") for q in p["parties"]
    ]


def world_facts(world: World) -> WorldFacts:
    out = WorldFacts()
    record_id = mention_id = 0
    for system in SourceSystem:
        for source in world.records[system]:
            if source.deleted:
                continue
            record_id += 1
            facts, parties = _parse(system, source.payload)
            truth = world.truth[(system, source.key)]
            out.truth_matter[record_id] = truth.matter_id
            out.records.append(
                RecordFacts(
                    record_id=record_id, kind=KIND_OF_SOURCE[system], source_key=source.key, **facts
                )
            )
            first = next((q for q in parties if not q.reporter), None)
            for party, true_party in zip(parties, truth.parties, strict=True):
                mention_id += 1
                out.mention_record[mention_id] = record_id
                out.truth_person[mention_id] = true_party.person_id
                if party.reporter:
                    out.mention_reporter.add(mention_id)
                if party.organisation:
                    out.organisations.append(
                        OrganisationFacts(
                            mention_id,
                            party.name,
                            party.id_number or None,
                            facts.get("region_code"),
                        )
                    )
                    continue
                out.persons.append(
                    MentionFacts(
                        mention_id,
                        party.name,
                        None if party.reporter else record_id,
                        party.id_number or None,
                        party.phone or None,
                        _birth(party.id_number) if party.id_number else None,
                        facts.get("region_code"),
                        facts.get("address") if party is first else None,
                    )
                )
    return out
