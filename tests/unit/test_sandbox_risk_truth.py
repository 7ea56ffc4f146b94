"""The sandbox's risk ground truth: escalation storylines are graded, decoys are not."""

from __future__ import annotations

from collections import defaultdict

from domain.enums import RiskLevel, SourceSystem
from sandbox.truth import truth_document
from sandbox.world import generate_world

WORLD = generate_world(seed=5, scale=1500)


def _levels_by_storyline() -> dict[str, set[str]]:
    document = truth_document(WORLD)
    storyline = {r["matter"]: r["storyline"] for r in document["records"]}
    graded = {r["matter"]: r["level"] for r in document["risk"]}
    levels: dict[str, set[str]] = defaultdict(set)
    for matter, name in storyline.items():
        levels[name].add(graded.get(matter, RiskLevel.NONE.value))
    return levels


def test_the_truth_lists_each_graded_matter_with_when_it_became_visible() -> None:
    document = truth_document(WORLD)
    assert document["risk"], "a world of 1500 records has graded matters"
    matters = {r["matter"] for r in document["records"]}
    for entry in document["risk"]:
        assert entry["matter"] in matters
        assert entry["level"] in {"RED", "YELLOW"}
        assert entry["visibleAt"] <= document["now"]
        assert entry["why"]


def test_escalations_are_red_and_decoys_are_not_graded() -> None:
    levels = _levels_by_storyline()
    assert levels["threat_escalation"] == {"RED"}
    assert levels["self_harm_petition"] == {"RED"}
    assert levels["domestic_repeat"] == {"RED"}
    assert levels["negated_threat"] == {"NONE"}
    assert levels["benign_repeat"] == {"NONE"}
    assert levels["neighbour_quarrel"] == {"NONE"}
    assert levels["mediation_to_lawsuit"] <= {"YELLOW", "NONE"}
    assert levels["grid_to_court"] <= {"YELLOW", "NONE"} and "YELLOW" in levels["grid_to_court"]


def test_the_decoys_carry_the_words_a_substring_search_would_fire_on() -> None:
    decoys = [
        record.payload["JYAQ"]
        for record in WORLD.records[SourceSystem.POLICE_110]
        if WORLD.truth[(record.system, record.key)].storyline == "negated_threat"
    ]
    assert decoys and all(any(w in text for w in ("报复", "刀", "扬言")) for text in decoys)
