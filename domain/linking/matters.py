"""Matter linking (事项关联): which records across the five systems belong together.

Explicit references come first and are near-certain: a court filing's 调解案号, a mediation
case's 110 接警单编号 and 司法确认案号, a petition's 关联案号. Inferred links follow from
resolved people: two records naming the same person or organisation, close in time, with
compatible categories, in the same or a neighbouring place. Without a shared party, the
same dwelling in the same kind of trouble within weeks still links 110 alerts (家暴 repeats
called in by a neighbour). Every link carries a confidence and its evidence.

Records are blocked by party and by dwelling; within a block only records close in time are
compared, so the cost grows with the records, not with their pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.enums import DisputeCategory, RecordKind
from domain.linking.places import PlaceAgreement, address_parts, canonical_region, compare_places


class LinkKind(StrEnum):
    """How two records are related (关联类型)."""

    SAME_MATTER = "SAME_MATTER"  # 同一事项 (e.g. a 司法确认 of the mediation agreement)
    ESCALATED_TO = "ESCALATED_TO"  # 升级/转入: mediation → lawsuit, case → petition
    REFERRED_FROM = "REFERRED_FROM"  # 来源: a mediation case taken over from a 110 alert
    SAME_PARTIES = "SAME_PARTIES"  # 同一当事人, close in time and kind
    SAME_PLACE = "SAME_PLACE"  # 同一地点 repeats (e.g. repeated 家庭纠纷 alerts at one home)


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What matter linking knows about one record: resolved parties, place, time, references."""

    record_id: int
    kind: RecordKind
    source_key: str
    category: DisputeCategory
    occurred_at: datetime
    region_code: str | None = None
    address: str | None = None
    persons: frozenset[int] = frozenset()
    """Resolved persons among the parties (not the 网格员 who only reported it)."""
    organisations: frozenset[int] = frozenset()
    mediation_case_number: str | None = None
    case_type: str | None = None
    alert_number: str | None = None
    judicial_confirmation_case_number: str | None = None
    cited_case_number: str | None = None


@dataclass(frozen=True, slots=True)
class ProposedLink:
    from_record_id: int
    to_record_id: int
    kind: LinkKind
    confidence: float
    evidence: list[dict[str, Any]]

    @property
    def pair(self) -> frozenset[int]:
        return frozenset((self.from_record_id, self.to_record_id))


CONFIRMATION_CASE_TYPES = frozenset({"民特", "诉前调确"})
_RELATED = (
    frozenset({DisputeCategory.NEIGHBOUR, DisputeCategory.HOUSING_HOMESTEAD,
               DisputeCategory.DAMAGES, DisputeCategory.LAND_FOREST}),
    frozenset({DisputeCategory.LABOUR, DisputeCategory.CONTRACT, DisputeCategory.BUSINESS}),
    frozenset({DisputeCategory.PROPERTY_MGMT, DisputeCategory.CONTRACT,
               DisputeCategory.HOUSING_HOMESTEAD}),
    frozenset({DisputeCategory.MARRIAGE_FAMILY, DisputeCategory.DAMAGES}),
)  # fmt: skip
WINDOW_DAYS = 180
"""Records further apart than this are never linked by inference."""
PLACE_WINDOW_DAYS = 45
NEIGHBOURS_COMPARED = 8
"""Within a block, a record is compared with this many records before it in time."""
INFERRED_THRESHOLD = 0.7
SAME_MATTER_THRESHOLD = 0.95


def normalise_case_number(number: str) -> str:
    """案号 written with full- or half-width brackets and stray spaces compare equal."""
    return number.strip().replace("（", "(").replace("）", ")").replace(" ", "").upper()


def category_agreement(a: DisputeCategory, b: DisputeCategory) -> float:
    """1 for the same category, 0.5 for related ones, 0.3 when one is OTHER, else 0."""
    if a == b:
        return 1.0
    if DisputeCategory.OTHER in (a, b):
        return 0.3
    return 0.5 if any(a in group and b in group for group in _RELATED) else 0.0


def _item(rule: str, **detail: Any) -> dict[str, Any]:
    return {"rule": rule, **detail}


def explicit_links(records: Sequence[RecordFacts]) -> list[ProposedLink]:
    """Links from references one record makes to another's number."""
    by_kind_key: dict[tuple[RecordKind, str], RecordFacts] = {
        (r.kind, normalise_case_number(r.source_key)): r for r in records
    }
    links: list[ProposedLink] = []

    def refer(
        source: RecordFacts, number: str | None, kinds: Iterable[RecordKind], make: Any
    ) -> None:
        if not number:
            return
        for kind in kinds:
            target = by_kind_key.get((kind, normalise_case_number(number)))
            if target is not None and target.record_id != source.record_id:
                links.append(make(source, target, number))
                return

    def confirmation(court: RecordFacts, dispute: RecordFacts, number: str) -> ProposedLink:
        kind = (
            LinkKind.SAME_MATTER
            if court.case_type in CONFIRMATION_CASE_TYPES
            else LinkKind.ESCALATED_TO
        )
        return ProposedLink(
            dispute.record_id,
            court.record_id,
            kind,
            0.99,
            [_item("mediation_case_number", value=number)],
        )

    for r in records:
        if r.kind is RecordKind.COURT_FILING:
            refer(r, r.mediation_case_number, (RecordKind.DISPUTE,), confirmation)
        elif r.kind is RecordKind.DISPUTE:
            refer(
                r,
                r.alert_number,
                (RecordKind.POLICE_ALERT,),
                lambda d, a, n: ProposedLink(
                    d.record_id,
                    a.record_id,
                    LinkKind.REFERRED_FROM,
                    0.99,
                    [_item("alert_number", value=n)],
                ),
            )
            refer(
                r,
                r.judicial_confirmation_case_number,
                (RecordKind.COURT_FILING,),
                lambda d, c, n: ProposedLink(
                    d.record_id,
                    c.record_id,
                    LinkKind.SAME_MATTER,
                    0.99,
                    [_item("judicial_confirmation", value=n)],
                ),
            )
        elif r.kind is RecordKind.PETITION:
            refer(
                r,
                r.cited_case_number,
                (RecordKind.COURT_FILING, RecordKind.DISPUTE),
                lambda p, c, n: ProposedLink(
                    c.record_id,
                    p.record_id,
                    LinkKind.ESCALATED_TO,
                    0.99,
                    [_item("cited_case_number", value=n)],
                ),
            )
    return links


def _blocks(records: Sequence[RecordFacts]) -> dict[tuple[str, object], list[RecordFacts]]:
    blocks: dict[tuple[str, object], list[RecordFacts]] = {}
    for r in records:
        for person in r.persons:
            blocks.setdefault(("person", person), []).append(r)
        for org in r.organisations:
            blocks.setdefault(("organisation", org), []).append(r)
        house = address_parts(r.address).house_key
        region = canonical_region(r.region_code)
        if house is not None and region is not None and r.kind is RecordKind.POLICE_ALERT:
            blocks.setdefault(("house", (region[:6], house)), []).append(r)
    return blocks


def score_records(a: RecordFacts, b: RecordFacts) -> ProposedLink | None:
    """An inferred link between two records, or None when the evidence is too thin."""
    gap = abs((a.occurred_at - b.occurred_at).total_seconds()) / 86400
    category = category_agreement(a.category, b.category)
    place = compare_places(a.region_code, a.address, b.region_code, b.address)
    if gap > WINDOW_DAYS or category == 0.0 or place is PlaceAgreement.CONFLICT:
        return None
    persons, orgs = a.persons & b.persons, a.organisations & b.organisations
    evidence = [_item("time", days=round(gap, 1)), _item("category", agreement=category)]
    if place > PlaceAgreement.UNKNOWN:
        evidence.append(_item("place", agreement=place.name))
    score = 0.0
    if persons:
        score += 0.45 + 0.15 * min(len(persons) - 1, 2)
        evidence.append(_item("shared_persons", count=len(persons)))
    if orgs:
        score += 0.35
        evidence.append(_item("shared_organisations", count=len(orgs)))
    score += {
        PlaceAgreement.SAME_HOUSE: 0.2,
        PlaceAgreement.NEIGHBOUR: 0.15,
        PlaceAgreement.VILLAGE: 0.1,
        PlaceAgreement.TOWNSHIP: 0.05,
    }.get(place, 0.0)
    score += 0.2 if gap <= 14 else 0.1 if gap <= 45 else 0.0 if gap <= 120 else -0.1
    score += 0.15 if category == 1.0 else 0.05 if category == 0.5 else -0.05
    earlier, later = (
        (a, b) if (a.occurred_at, a.record_id) <= (b.occurred_at, b.record_id) else (b, a)
    )
    if not persons and not orgs:
        same_place = (
            place is PlaceAgreement.SAME_HOUSE and category == 1.0 and gap <= PLACE_WINDOW_DAYS
        )
        if not same_place:
            return None
        return ProposedLink(
            earlier.record_id,
            later.record_id,
            LinkKind.SAME_PLACE,
            round(min(0.5 + score / 2, 0.8), 3),
            evidence,
        )
    if score < INFERRED_THRESHOLD:
        return None
    kind = LinkKind.SAME_MATTER if score >= SAME_MATTER_THRESHOLD else LinkKind.SAME_PARTIES
    return ProposedLink(
        earlier.record_id, later.record_id, kind, round(min(score, 0.98), 3), evidence
    )


def inferred_links(records: Sequence[RecordFacts]) -> list[ProposedLink]:
    found: dict[frozenset[int], ProposedLink] = {}
    for block in _blocks(records).values():
        block.sort(key=lambda r: (r.occurred_at, r.record_id))
        for i, record in enumerate(block):
            for other in block[max(0, i - NEIGHBOURS_COMPARED) : i]:
                pair = frozenset((record.record_id, other.record_id))
                if pair in found:
                    continue
                link = score_records(other, record)
                if link is not None:
                    found[pair] = link
    return list(found.values())


def link_matters(records: Sequence[RecordFacts]) -> list[ProposedLink]:
    """Every link among ``records``: explicit ones, then inferred ones for pairs not yet linked.

    One link per pair of records; an explicit reference wins over an inference.
    """
    links: dict[frozenset[int], ProposedLink] = {}
    for link in explicit_links(records):
        known = links.get(link.pair)
        if known is None:
            links[link.pair] = link
        elif known.kind is not LinkKind.SAME_MATTER and link.kind is LinkKind.SAME_MATTER:
            links[link.pair] = ProposedLink(
                link.from_record_id,
                link.to_record_id,
                link.kind,
                link.confidence,
                known.evidence + link.evidence,
            )
    for link in inferred_links(records):
        links.setdefault(link.pair, link)
    return list(links.values())
