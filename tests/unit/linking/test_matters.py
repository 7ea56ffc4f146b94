"""Matter linking: explicit references first, then shared people close in time and place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.enums import DisputeCategory, RecordKind
from domain.linking import LinkKind, RecordFacts, link_matters

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NEIGHBOUR = DisputeCategory.NEIGHBOUR


def record(rid: int, kind: RecordKind, key: str, days: float = 0, **facts: object) -> RecordFacts:
    facts.setdefault("category", NEIGHBOUR)
    return RecordFacts(rid, kind, key, occurred_at=T0 + timedelta(days=days), **facts)  # type: ignore[arg-type]


def kinds(links: list) -> dict[frozenset[int], LinkKind]:  # type: ignore[type-arg]
    return {link.pair: link.kind for link in links}


def test_explicit_references_link_with_their_kind_and_direction() -> None:
    alert = record(1, RecordKind.POLICE_ALERT, "J4112022026031500012")
    mediation = record(
        2, RecordKind.DISPUTE, "TJ411202001202600012", 3, alert_number="J4112022026031500012"
    )
    confirmation = record(
        3,
        RecordKind.COURT_FILING,
        "(2026)豫1202民特3号",
        30,
        mediation_case_number="TJ411202001202600012",
        case_type="民特",
    )
    lawsuit = record(
        4,
        RecordKind.COURT_FILING,
        "(2026)豫1202民初9号",
        40,
        mediation_case_number="TJ411202001202600012",
        case_type="民初",
    )
    petition = record(
        5, RecordKind.PETITION, "XF41120220260501", 90, cited_case_number="（2026）豫1202民初9号"
    )
    links = link_matters([alert, mediation, confirmation, lawsuit, petition])
    found = {(link.from_record_id, link.to_record_id): link.kind for link in links}
    assert found == {
        (2, 1): LinkKind.REFERRED_FROM,
        (2, 3): LinkKind.SAME_MATTER,
        (2, 4): LinkKind.ESCALATED_TO,
        (4, 5): LinkKind.ESCALATED_TO,
    }
    assert all(link.confidence >= 0.99 and link.evidence for link in links)


def test_shared_people_close_in_time_and_place_are_linked() -> None:
    alert = record(
        1,
        RecordKind.POLICE_ALERT,
        "J1",
        0,
        persons=frozenset({7}),
        region_code="411202",
        address="湖滨区车站街道建设路12号",
    )
    grid = record(
        2,
        RecordKind.GRID_EVENT,
        "WG1",
        2,
        persons=frozenset({7, 8}),
        region_code="411202001001",
        address="三门峡市湖滨区建设路12号院",
    )
    [link] = link_matters([alert, grid])
    assert link.kind in {LinkKind.SAME_MATTER, LinkKind.SAME_PARTIES}
    assert (link.from_record_id, link.to_record_id) == (1, 2)
    rules = {e["rule"] for e in link.evidence}
    assert {"shared_persons", "time", "category", "place"} <= rules


def test_a_shared_person_far_apart_in_time_or_topic_is_not_a_link() -> None:
    base = record(1, RecordKind.DISPUTE, "TJ1", 0, persons=frozenset({7}), region_code="411202")
    late = record(2, RecordKind.DISPUTE, "TJ2", 400, persons=frozenset({7}), region_code="411202")
    other_topic = record(
        3,
        RecordKind.DISPUTE,
        "TJ3",
        5,
        persons=frozenset({7}),
        region_code="411202",
        category=DisputeCategory.TRAFFIC,
    )
    assert link_matters([base, late, other_topic]) == []


def test_repeated_alerts_at_one_home_link_without_a_shared_caller() -> None:
    home = "湖滨区车站街道建设路12号"
    alerts = [
        record(
            i,
            RecordKind.POLICE_ALERT,
            f"J{i}",
            10 * i,
            region_code="411202",
            address=home,
            persons=frozenset({100 + i}),
            category=DisputeCategory.MARRIAGE_FAMILY,
        )
        for i in range(1, 4)
    ]
    links = link_matters(alerts)
    assert {link.kind for link in links} == {LinkKind.SAME_PLACE}
    assert len(links) >= 2
