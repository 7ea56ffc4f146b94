"""Pairwise precision and recall, and connected components."""

from __future__ import annotations

from domain.linking import connected_components, pairwise_score


def test_pairwise_scores_count_pairs() -> None:
    truth = {1: "a", 2: "a", 3: "a", 4: "b"}
    predicted = {1: "x", 2: "x", 3: "y", 4: "y"}
    score = pairwise_score(truth, predicted)
    assert (score.true_pairs, score.predicted_pairs, score.correct_pairs) == (3, 2, 1)
    assert score.precision == 0.5 and score.recall == 1 / 3


def test_components_follow_chains() -> None:
    components = connected_components([1, 2, 3, 4], [(1, 2), (2, 3)])
    assert components[1] == components[3] != components[4]
