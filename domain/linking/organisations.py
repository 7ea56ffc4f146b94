"""Organisation resolution (单位归一): by unified social credit code, then by name.

A USCC (统一社会信用代码) names one organisation for good. Without one, the normalised name
decides — simplified characters, half-width brackets, no spaces, ``有限责任公司`` written as
``有限公司`` — within one county: two companies registered in different counties may share a
name, and a USCC carries its county (characters 3–8). A name never joins two codes, and a
name that two codes hold in one county (two companies registered under one name, or a branch
and its head office) is ambiguous: a mention with that name and no code joins neither.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import opencc

from domain.linking.persons import NewPerson

_T2S = opencc.OpenCC("t2s")
_SPACES = re.compile(r"\s+")
_ORG_SUFFIXES = (
    "公司",
    "有限公司",
    "委员会",
    "合作社",
    "厂",
    "店",
    "中心",
    "集团",
    "事务所",
    "医院",
    "学校",
    "局",
    "银行",
    "物业",
    "工作室",
    "商行",
    "经营部",
    "门市部",
)


@functools.lru_cache(maxsize=65536)
def normalise_organisation_name(name: str) -> str:
    """The name as compared (cached: every resolution pass reads the stored names again)."""
    text: str = _T2S.convert(_SPACES.sub("", name))
    text = text.replace("（", "(").replace("）", ")")
    return text.replace("有限责任公司", "有限公司").upper()


ORGANISATION_KEY_MAX = 256
"""The longest name key stored (``organisations.name_key``)."""


def organisation_name_key(name: str) -> str:
    """What an organisation's name is looked up by: the name as compared, cut to
    :data:`ORGANISATION_KEY_MAX` (upper-casing can lengthen a name: ``ﬃ`` is ``FFI``)."""
    return normalise_organisation_name(name)[:ORGANISATION_KEY_MAX]


def looks_like_organisation(name: str) -> bool:
    """A party name that is an organisation's (used when a source does not say)."""
    text = _SPACES.sub("", name)
    return len(text) >= 4 and text.endswith(_ORG_SUFFIXES)


@dataclass(frozen=True, slots=True)
class OrganisationFacts:
    mention_id: int
    name: str
    uscc: str | None = None
    region_code: str | None = None
    organisation_id: int | None = None
    staff_decided: bool = False

    @property
    def county(self) -> str | None:
        if self.uscc and len(self.uscc) == 18:
            return self.uscc[2:8]
        return self.region_code[:6] if self.region_code else None


@dataclass(frozen=True, slots=True)
class KnownOrganisation:
    organisation_id: int
    name: str
    uscc: str | None


@dataclass(frozen=True, slots=True)
class OrganisationMatch:
    mention_id: int
    organisation: int | NewPerson
    confidence: float
    evidence: list[dict[str, Any]]


def resolve_organisations(
    mentions: Sequence[OrganisationFacts], known: Iterable[KnownOrganisation] = ()
) -> list[OrganisationMatch]:
    """Assign each mention to a known or a new organisation (new ones numbered from 1)."""
    by_code: dict[str, int | NewPerson] = {}
    by_name: dict[tuple[str, str | None], int | NewPerson] = {}
    codes_of: dict[int | NewPerson, str] = {}
    codes_by_name: dict[tuple[str, str | None], set[str]] = {}
    for org in known:
        county = org.uscc[2:8] if org.uscc else None
        name = (normalise_organisation_name(org.name), county)
        if org.uscc:
            by_code[org.uscc] = org.organisation_id
            codes_of[org.organisation_id] = org.uscc
            codes_by_name.setdefault(name, set()).add(org.uscc)
        by_name.setdefault(name, org.organisation_id)
    for m in mentions:
        if m.uscc:
            codes_by_name.setdefault((normalise_organisation_name(m.name), m.county), set()).add(
                m.uscc
            )
    counter = 0
    # codes first, so that a name seen with a code joins it rather than starting its own
    ordered = sorted(mentions, key=lambda m: m.uscc is None)
    matches: dict[int, OrganisationMatch] = {}
    for m in ordered:
        name = (normalise_organisation_name(m.name), m.county)
        if m.staff_decided and m.organisation_id is not None:
            evidence = [{"field": "staff_decision", "agreement": "CONFIRMED", "weight": 1.0}]
            matches[m.mention_id] = OrganisationMatch(
                m.mention_id, m.organisation_id, 1.0, evidence
            )
            continue
        target: int | NewPerson | None = None
        if m.uscc:
            target = by_code.get(m.uscc)
            named = by_name.get(name)
            if target is None and named is not None and named not in codes_of:
                target = named  # the same name, so far without a code: this is its code
            confidence, field = 0.99, "uscc"
        elif len(codes_by_name.get(name, ())) > 1:
            target, confidence, field = None, 1.0, "new_organisation"  # ambiguous name
        else:
            target, confidence, field = by_name.get(name), 0.85, "name"
        if target is None:
            counter += 1
            target = NewPerson(counter)
            confidence, field = 1.0, "new_organisation"
        if m.uscc:
            by_code.setdefault(m.uscc, target)
            codes_of.setdefault(target, m.uscc)
        by_name.setdefault(name, target)
        evidence = [{"field": field, "agreement": "EXACT", "weight": 1.0}]
        matches[m.mention_id] = OrganisationMatch(m.mention_id, target, confidence, evidence)
    return [matches[m.mention_id] for m in mentions]
