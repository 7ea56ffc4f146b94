"""Union-find with the guards that keep clustering from over-merging (防误合并).

Each cluster remembers the one ID number (blind index), birth date and existing person it
holds; two clusters that disagree on any of them are never joined, however the evidence
chains. Path halving and union by size keep every operation near-constant.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Hashable
from datetime import date


class GuardedUnionFind:
    """Disjoint sets of node numbers; nodes are appended with :meth:`add`."""

    def __init__(self) -> None:
        self._parent = array("q")  # packed: a million nodes, no int object each
        self._size: list[int] = []
        self._id: list[str | None] = []
        self._birth: list[date | None] = []
        self._anchor: list[Hashable | None] = []

    def __len__(self) -> int:
        return len(self._parent)

    def add(
        self,
        id_index: str | None = None,
        birth: date | None = None,
        anchor: Hashable | None = None,
    ) -> int:
        node = len(self._parent)
        self._parent.append(node)
        self._size.append(1)
        self._id.append(id_index)
        self._birth.append(birth)
        self._anchor.append(anchor)
        return node

    def extend(self, id_indexes: list[str | None], births: list[date | None]) -> None:
        """Append one node per (ID number, birth date), numbered on from :func:`len`."""
        start = len(self._parent)
        self._parent.extend(range(start, start + len(id_indexes)))
        self._size.extend([1] * len(id_indexes))
        self._id.extend(id_indexes)
        self._birth.extend(births)
        self._anchor.extend([None] * len(id_indexes))

    def attach(self, node: int, root: int) -> None:
        """Make ``node`` (a fresh singleton) a member of ``root``'s set without checks."""
        self._parent[node] = root
        self._size[root] += 1

    def find(self, node: int) -> int:
        parent = self._parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def anchor(self, node: int) -> Hashable | None:
        return self._anchor[self.find(node)]

    def anchors_of(self, start: int, stop: int, make: Callable[[], Hashable]) -> list[Hashable]:
        """The anchor of the set of each node from ``start`` to ``stop``; a set that has none
        is given ``make()``'s (once)."""
        parent, anchors = self._parent, self._anchor
        found: list[Hashable] = []
        add = found.append
        for node in range(start, stop):
            while parent[node] != node:
                parent[node] = node = parent[parent[node]]
            anchor = anchors[node]
            if anchor is None:
                anchor = anchors[node] = make()
            add(anchor)
        return found

    def conflict(self, a: int, b: int) -> str | None:
        """Why the sets of ``a`` and ``b`` may not be joined, or None when they may."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        if self._id[ra] is not None and self._id[rb] is not None and self._id[ra] != self._id[rb]:
            return "id_number"
        birth_a, birth_b = self._birth[ra], self._birth[rb]
        if birth_a is not None and birth_b is not None and birth_a != birth_b:
            return "birth_date"
        anchor_a, anchor_b = self._anchor[ra], self._anchor[rb]
        if anchor_a is not None and anchor_b is not None and anchor_a != anchor_b:
            return "person"
        return None

    def union(self, a: int, b: int) -> bool:
        """Join the two sets unless a guard forbids it; True when they are (now) one set."""
        # find and conflict written out: resolution calls this once per candidate pair
        parent = self._parent
        while parent[a] != a:
            parent[a] = a = parent[parent[a]]
        while parent[b] != b:
            parent[b] = b = parent[parent[b]]
        if a == b:
            return True
        ids, births, anchors = self._id, self._birth, self._anchor
        id_a, id_b = ids[a], ids[b]
        if id_a is not None and id_b is not None and id_a != id_b:
            return False
        birth_a, birth_b = births[a], births[b]
        if birth_a is not None and birth_b is not None and birth_a != birth_b:
            return False
        anchor_a, anchor_b = anchors[a], anchors[b]
        if anchor_a is not None and anchor_b is not None and anchor_a != anchor_b:
            return False
        size = self._size
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        ids[a] = ids[a] or ids[b]
        births[a] = births[a] or births[b]
        if anchors[a] is None:
            anchors[a] = anchors[b]
        return True
