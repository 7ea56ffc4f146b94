"""Pairwise precision, recall and F1 (成对评估) for clusterings against ground truth.

Two items are a *true pair* when the truth puts them together and a *predicted pair* when the
result does. Precision is correct / predicted pairs, recall correct / true pairs. Counting
goes through the contingency table of (true cluster, predicted cluster), so a cluster of a
thousand items costs a thousand steps, not half a million.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PairwiseScore:
    items: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_score(
    truth: Mapping[Hashable, Hashable], predicted: Mapping[Hashable, Hashable]
) -> PairwiseScore:
    """Score the items both mappings know (item → cluster label)."""
    items = [item for item in truth if item in predicted]
    true_sizes = Counter(truth[i] for i in items)
    predicted_sizes = Counter(predicted[i] for i in items)
    cells = Counter((truth[i], predicted[i]) for i in items)
    return PairwiseScore(
        items=len(items),
        true_pairs=sum(_pairs(n) for n in true_sizes.values()),
        predicted_pairs=sum(_pairs(n) for n in predicted_sizes.values()),
        correct_pairs=sum(_pairs(n) for n in cells.values()),
    )


def connected_components(
    nodes: Iterable[Hashable], edges: Iterable[tuple[Hashable, Hashable]]
) -> dict[Hashable, Hashable]:
    """Each node → a representative of its connected component."""
    parent: dict[Hashable, Hashable] = {node: node for node in nodes}

    def find(node: Hashable) -> Hashable:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        if a in parent and b in parent:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[rb] = ra
    return {node: find(node) for node in parent}
