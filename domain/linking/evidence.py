"""Scoring one pair of person mentions (比对打分): a confidence and the evidence behind it.

Decision rules, strongest first — each is a reason a clerk would accept:

* the same ID number (blind index) → the same person;
* the same phone and a compatible name (at least the surname) → the same person; a shared
  phone under an unrelated name is a family phone, not a match;
* no shared identifier: a close name (exact, homophone, one character off) at the same or
  the neighbouring house, or an exact name in the same village; a full three-character name
  alone within one county only where neither side is placed in another township or village.
* two different phones: only the exact name may still match (people keep two phones; a
  homophone with another phone is a neighbour — a grid worker and a resident — not a typo).

Two different ID numbers, or two different birth dates, are never the same person.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from domain.linking.names import NAME_WEIGHT, NameAgreement, NameKey, compare_names, name_key
from domain.linking.places import (
    AddressParts,
    PlaceAgreement,
    address_parts,
    canonical_region,
    compare_addresses,
    compare_regions,
)

Evidence = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class MentionFacts:
    """What resolution may know about one person mention; identifiers only as blind indexes."""

    mention_id: int
    name: str
    record_id: int | None = None
    """Two parties of one record are two people: mentions of one record never match. Leave
    it None for a mention that may repeat a party of its record (a grid 上报人 who is also
    one of the parties, 随手拍)."""
    id_index: str | None = None
    phone_index: str | None = None
    birth_date: date | None = None
    """From the ID number (出生日期码), read in memory by the caller; never stored here."""
    region_code: str | None = None
    address: str | None = None
    """Where this party lives or the matter happened; give it only when it is this party's
    (a record's address is usually its first party's home, not the other side's)."""
    person_id: int | None = None
    """The person this mention is assigned to now, if any."""
    staff_decided: bool = False


class PreparedMention(NamedTuple):
    """A mention with its name, division code and address normalised for comparison (a
    tuple: a million of them are made per full run). It also carries every fact
    :func:`decide` reads (an empty identifier as None), so comparing two mentions touches
    these two tuples and the shared name and place keys, not the facts themselves."""

    facts: MentionFacts
    name: NameKey
    region: str | None
    place: AddressParts
    record_id: int | None
    id_index: str | None
    phone_index: str | None
    birth_date: date | None

    @classmethod
    def of(cls, facts: MentionFacts) -> PreparedMention:
        return cls(
            facts,
            name_key(facts.name),
            canonical_region(facts.region_code),
            address_parts(facts.address),
            facts.record_id,
            facts.id_index or None,
            facts.phone_index or None,
            facts.birth_date,
        )


def block_scopes(region: str | None) -> tuple[str, str | None]:
    """Where a mention's name blocks lie: its county (``?`` when unknown) and its village, if
    its division code names one."""
    if not region:
        return "?", None
    return region[:6], region[:12] if len(region) >= 12 else None


def name_block_keys(name: NameKey, region: str | None) -> list[str]:
    """A name's blocking keys with their scope (姓名分块键): its pinyin within its county
    (``py:wang|xiao|ming@330102``) and, for a mention coded to a village, each masked form
    within that village (``mk:王_明@330102001001``).

    :func:`decide` accepts a look-alike name (one character off) only with the same phone,
    which has a block of its own, or in the same village or house: a county-wide ``王_明``
    block would hold every 王某明 of the county, and its pairs were two thirds of a million
    mentions' comparisons, all refused. A look-alike placed in one house by its address alone
    (two records coded no finer than a township) is found by its phone or ID number."""
    if name.pinyin_key is None:
        return []
    county, village = block_scopes(region)
    keys = [f"{name.pinyin_key}@{county}"]
    if village is not None:
        keys.extend(f"{mask}@{village}" for mask in name.mask_keys)
    return keys


BLOCKING_KEY_MAX = 200
"""The longest name key stored (``person_blocking_keys.key``): a name's part is at most
:data:`~domain.linking.names.BLOCK_NAME_MAX`, its scope (``@`` and a county's or a village's
code) at most 13 more."""


def stored_blocking_keys(name: str, region_code: str | None) -> list[str]:
    """The name keys a stored person mention is found by (姓名分块键), as the database keeps
    them; its ID number and phone are found by their blind indexes instead."""
    return name_block_keys(name_key(name), canonical_region(region_code))


# The members the comparison of every candidate pair reads, bound once: read from its class, a
# member costs ~90 ns (Python 3.11), several times a name of the module.
_EXACT, _NONE = NameAgreement.EXACT, NameAgreement.NONE
_SURNAME_ONLY, _ONE_CHARACTER = NameAgreement.SURNAME_ONLY, NameAgreement.ONE_CHARACTER
_UNKNOWN, _CONFLICT = PlaceAgreement.UNKNOWN, PlaceAgreement.CONFLICT
_COUNTY, _TOWNSHIP = PlaceAgreement.COUNTY, PlaceAgreement.TOWNSHIP
_VILLAGE = PlaceAgreement.VILLAGE
_NEIGHBOUR, _SAME_HOUSE = PlaceAgreement.NEIGHBOUR, PlaceAgreement.SAME_HOUSE

ID_MATCH = 0.99
_FIELD = "field"


@functools.cache
def _item(field: str, agreement: str, weight: float) -> dict[str, Any]:
    """One evidence item. There are a few dozen distinct ones, so each is made once and
    shared by every match that gives it (a million matches otherwise hold a million copies
    each): evidence is written out as JSON, never changed in place."""
    return {_FIELD: field, "agreement": agreement, "weight": round(weight, 3)}


def score_pair(a: PreparedMention, b: PreparedMention) -> tuple[float, Evidence] | None:
    """The confidence that two mentions name the same person, with evidence; None if not."""
    decided = decide(a, b)
    if decided is None:
        return None
    confidence, names, place = decided
    return confidence, evidence_of(a.facts, b.facts, names, place)


def evidence_of(
    fa: MentionFacts, fb: MentionFacts, names: NameAgreement | None, place: PlaceAgreement
) -> Evidence:
    """The evidence for a pair :func:`decide` joined on these agreements (no name: the ID)."""
    if names is None:
        return [_item("id_number", "EXACT", 1.0)]
    evidence = [_item("name", names.value, NAME_WEIGHT[names])]
    if place is not PlaceAgreement.UNKNOWN:
        evidence.append(_item("place", place.name, place / PlaceAgreement.SAME_HOUSE))
    if fa.birth_date and fb.birth_date:
        evidence.append(_item("birth_date", "EXACT", 1.0))
    if fa.phone_index and fa.phone_index == fb.phone_index:
        evidence.insert(0, _item("phone", "EXACT", 1.0))
    return evidence


_AGREEMENTS: tuple[NameAgreement | None, ...] = (None, *NameAgreement)
_AGREEMENT_NUMBER = {names: number for number, names in enumerate(_AGREEMENTS)}


def decision_code(names: NameAgreement | None, place: PlaceAgreement) -> int:
    """:func:`decide`'s agreements as one small number (to keep one per pair, packed)."""
    return _AGREEMENT_NUMBER[names] * 8 + place + 1


def evidence_of_code(fa: MentionFacts, fb: MentionFacts, code: int) -> Evidence:
    """:func:`evidence_of` for agreements kept as a :func:`decision_code`."""
    return evidence_of(fa, fb, _AGREEMENTS[code >> 3], PlaceAgreement((code & 7) - 1))


def pair_confidence(a: PreparedMention, b: PreparedMention) -> float | None:
    """:func:`score_pair` without building the evidence (the hot loop's question)."""
    decided = decide(a, b)
    return None if decided is None else decided[0]


def decide(
    a: PreparedMention, b: PreparedMention
) -> tuple[float, NameAgreement | None, PlaceAgreement] | None:
    """The confidence and the name and place agreements it rests on (no name: the ID)."""
    # unpacked at once: a field read by name costs as much as the whole unpacking
    _, name_a, region_a, place_a, record, id_a, phone_a, born_a = a
    _, name_b, region_b, place_b, record_b, id_b, phone_b, born_b = b
    if record is not None and record == record_b:
        return None
    if id_a is not None and id_b is not None:
        if id_a != id_b:
            return None
        return ID_MATCH, None, _UNKNOWN
    if born_a is not None and born_b is not None and born_a != born_b:
        return None
    phones_differ = phone_a is not None and phone_b is not None and phone_a != phone_b
    if phones_differ and name_a.simplified != name_b.simplified:
        return None  # two phones leave only the exact name (below): no need to compare
    if name_a is name_b and name_a.simplified and not name_a.surname_only:
        names = _EXACT  # one written name: one cached key
    else:
        names = compare_names(name_a, name_b)
        if names is _NONE:
            return None
    place = _place(region_a, place_a, region_b, place_b)
    if phone_a is not None and phone_a == phone_b:
        return 0.9 + 0.08 * NAME_WEIGHT[names], names, place
    if names is _SURNAME_ONLY or place is _CONFLICT:
        return None
    if phones_differ and names is not _EXACT:
        # 张建伟 and 张建玮 on one street with two phones: two people, not one name misspelt
        return None
    long_name = len(name_a.simplified) >= 3
    if names is _ONE_CHARACTER and not long_name:
        return None  # 王伟/李伟: in a two-character name one character is half the name
    if place >= _NEIGHBOUR:
        bonus = 0.1 if place is _SAME_HOUSE else 0.05
        return 0.6 + 0.2 * NAME_WEIGHT[names] + bonus, names, place
    if place is _VILLAGE and (names is _EXACT or long_name):
        return 0.55 + 0.2 * NAME_WEIGHT[names], names, place
    if names is _EXACT and long_name and place >= _COUNTY:
        # a full three-character name within one county, unless two phones disagree or the
        # codes place them apart (李秀兰 of 七里街道 and 李秀兰 of 太平街道 are two people)
        if phones_differ or _placed_apart(region_a, region_b):
            return None
        return 0.72, names, place
    return None


def _place(
    region_a: str | None, place_a: AddressParts, region_b: str | None, place_b: AddressParts
) -> PlaceAgreement:
    """The finer of what the codes and the addresses say; a county conflict wins."""
    if region_a is not None and region_a == region_b:  # most pairs in a name block
        size = len(region_a)
        region = _SAME_REGION[12 if size >= 12 else 9 if size >= 9 else 6]
    else:
        region = compare_regions(region_a, region_b)
        if region is _CONFLICT:
            return region
    if place_a is _NOWHERE or place_b is _NOWHERE:
        return region
    address = compare_addresses(place_a, place_b)
    return address if address > region else region


_SAME_REGION = {
    12: _VILLAGE,
    9: _TOWNSHIP,
    6: _COUNTY,
}
_NOWHERE = address_parts(None)


def _placed_apart(a: str | None, b: str | None) -> bool:
    """Both codes name a unit finer than the county, and those units differ."""
    if a is None or b is None:
        return False
    level = min(len(a), len(b), 12)
    return level >= 9 and a[:level] != b[:level]


def new_person_evidence() -> Evidence:
    """Evidence for a mention that matched nobody: it starts a person of its own."""
    return [_item("new_person", "NONE", 1.0)]


def staff_evidence() -> Evidence:
    return [_item("staff_decision", "CONFIRMED", 1.0)]


MATCH_THRESHOLD = 0.7
"""Pairs scoring below this are not joined (the rules above never produce less than 0.74)."""
