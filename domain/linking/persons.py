"""Person resolution (人员归一): cluster party mentions into persons, incrementally.

A :class:`PersonResolver` holds an index of mentions already assigned to persons. Resolving
a batch of new mentions compares each only with the mentions that share a blocking key
(ID number, phone, or a name key within one county — see :mod:`domain.linking.names`), and
only with the most recent ``window`` members of a block, so cost grows near-linearly with the
number of mentions and never all-pairs. Candidate pairs are scored
(:func:`~domain.linking.evidence.score_pair`) and joined strongest first by a guarded
union-find: two different ID numbers, two different birth dates or two existing persons
never merge. Resolving everything from scratch is the same call on an empty resolver.

Existing persons are fixed: a batch may attach new mentions to one of them or start new
persons, but never merges or splits existing ones; that is a full run's (or staff's) job.
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from domain.linking.clusters import GuardedUnionFind
from domain.linking.evidence import (
    ID_MATCH,
    MATCH_THRESHOLD,
    Evidence,
    MentionFacts,
    PreparedMention,
    county_name_keys,
    decide,
    decision_code,
    evidence_of_code,
    new_person_evidence,
    staff_evidence,
)
from domain.linking.names import name_key
from domain.linking.places import PlaceAgreement, address_parts, canonical_region


@dataclass(frozen=True, slots=True)
class NewPerson:
    """A person this run found who is not stored yet; ``number`` is unique within a resolver."""

    number: int


PersonKey = int | NewPerson
"""An existing person's id, or a new person to create."""


class PersonMatch(NamedTuple):
    """A mention's assignment with the confidence and evidence behind it (a tuple: a full
    run makes one per mention)."""

    mention_id: int
    person: PersonKey
    confidence: float
    evidence: Evidence


BLOCK_WINDOW = 8
"""A mention is compared with at most this many earlier members of each of its blocks."""
MAX_NAME_BLOCK = 400
"""A name block this large (a very common name in one county) adds no pairs by name alone."""


class PersonResolver:
    """Resolves batches of mentions against the persons it has seen so far."""

    def __init__(self, window: int = BLOCK_WINDOW) -> None:
        self._window = window
        self._uf = GuardedUnionFind()
        self._mentions: list[PreparedMention | None] = []  # by node; None for person anchors
        self._ids: list[str | None] = []  # by node: its ID number (blind index), if any
        # Blocks by kind: an ID number needs only its latest mention (one chain links them
        # all), a phone or a name its recent ones. A name block is keyed by the hash of its
        # stored form (姓名分块键): a million mentions make a million keys, and a 64-bit
        # int is a third of the string (two keys sharing a hash only share a block).
        self._id_last: dict[str, int] = {}
        self._phones: dict[str, list[int]] = {}
        self._names: dict[int, list[int]] = {}
        self._anchors: dict[PersonKey, int] = {}
        self._unseen: dict[int, int] = {}  # stored name block members not indexed here
        self._next_new = 0

    @property
    def mention_count(self) -> int:
        return sum(1 for m in self._mentions if m is not None)

    def _anchor(self, person: PersonKey) -> int:
        node = self._anchors.get(person)
        if node is None:
            node = self._uf.add(anchor=person)
            self._mentions.append(None)
            self._ids.append(None)
            self._anchors[person] = node
        return node

    def _index(self, node: int, mention: PreparedMention) -> None:
        facts = mention.facts
        if facts.id_index:
            self._id_last[facts.id_index] = node
        if facts.phone_index:
            self._phones.setdefault(facts.phone_index, []).append(node)
        for key in county_name_keys(mention.name, mention.region):
            self._names.setdefault(hash(key), []).append(node)

    def add_existing(self, mentions: Iterable[MentionFacts]) -> None:
        """Index mentions already assigned (``person_id`` set); they will not move."""
        uf = self._uf
        for facts in mentions:
            if facts.person_id is None:
                raise ValueError("add_existing needs mentions with a person_id")
            prepared = PreparedMention.of(facts)
            anchor = uf.find(self._anchor(facts.person_id))
            node = uf.add(facts.id_index, facts.birth_date)
            self._mentions.append(prepared)
            self._ids.append(facts.id_index)
            if uf.conflict(node, anchor) is None:
                uf.union(node, anchor)
            else:  # a staff decision against the evidence: keep it, minus the guard values
                uf.attach(node, anchor)
            self._index(node, prepared)

    def block_sizes(self, sizes: Mapping[str, int]) -> None:
        """Tell the resolver how many stored members each block has when only its most
        recent ones were given to :meth:`add_existing` (the database keeps the blocks), so a
        name block over :data:`MAX_NAME_BLOCK` stays silent as if all were indexed."""
        for key, size in sizes.items():
            block = hash(key)
            self._unseen[block] = max(0, size - len(self._names.get(block, ())))

    def resolve(self, mentions: Sequence[MentionFacts]) -> list[PersonMatch]:
        """Assign each new mention to an existing or a new person, in input order."""
        with _no_cycle_collection():
            return self._resolve(mentions)

    def _resolve(self, mentions: Sequence[MentionFacts]) -> list[PersonMatch]:
        uf = self._uf
        first = len(uf)  # this batch's mentions are the nodes from here on, in input order
        ids = [f.id_index for f in mentions]
        uf.extend(ids, [f.birth_date for f in mentions])
        self._ids.extend(ids)
        prepared_all = list(  # PreparedMention.of, column by column
            map(
                PreparedMention,
                mentions,
                map(name_key, [f.name for f in mentions]),
                map(canonical_region, [f.region_code for f in mentions]),
                map(address_parts, [f.address for f in mentions]),
            )
        )
        self._mentions.extend(prepared_all)
        pairs = self._candidate_pairs(first, prepared_all)
        count = len(mentions)
        best_score = array("d", bytes(8 * count))  # per batch node: its strongest joined pair
        best_other = array("q", [-1]) * count
        best_code = array("b", bytes(count))
        find, union = uf.find, uf.union
        scores, lefts, rights, codes = pairs
        for i in sorted(range(len(scores)), key=scores.__getitem__, reverse=True):
            score, a, b = scores[i], lefts[i], rights[i]
            if find(a) == find(b) or union(a, b):
                at = a - first
                if 0 <= at < count and score > best_score[at]:
                    best_score[at], best_other[at], best_code[at] = score, b, codes[i]
                at = b - first
                if 0 <= at < count and score > best_score[at]:
                    best_score[at], best_other[at], best_code[at] = score, a, codes[i]
        del pairs, scores, lefts, rights, codes
        return self._assign(first, best_score, best_other, best_code)

    def _candidate_pairs(
        self, first: int, batch: list[PreparedMention]
    ) -> tuple[array[float], array[int], array[int], array[int]]:
        """Index the batch (nodes ``first``…) and score it against its blocks: the pairs
        worth joining, in packed arrays (score, node, other node, :func:`decision_code`) in
        the order found (a tuple and a float a pair would be ~100 bytes, these are 25)."""
        known, ids = self._mentions, self._ids
        id_last, phones, names = self._id_last, self._phones, self._names
        unseen, window = self._unseen, self._window
        scores, lefts, rights, codes = array("d"), array("q"), array("q"), array("b")
        add_score, add_left, add_right = scores.append, lefts.append, rights.append
        add_code, by_id = codes.append, decision_code(None, PlaceAgreement.UNKNOWN)
        keys_of: dict[tuple[str, str | None], list[int]] = {}  # name keys repeat: build once
        node = first - 1
        for prepared in batch:
            node += 1
            facts = prepared.facts
            id_index = facts.id_index
            if id_index:
                last = id_last.get(id_index)
                id_last[id_index] = node
                if last is not None:
                    add_score(ID_MATCH), add_left(node), add_right(last), add_code(by_id)
            others: list[int] = []
            phone = facts.phone_index
            if phone:
                block = phones.get(phone)
                if block is None:
                    phones[phone] = [node]
                else:
                    others = block[-window:]
                    block.append(node)
            region = prepared.region
            county = region[:6] if region else None
            keys = keys_of.get((facts.name, county))
            if keys is None:
                keys = keys_of[facts.name, county] = [
                    hash(key) for key in county_name_keys(prepared.name, region)
                ]
            for key in keys:
                block = names.get(key)
                if block is None:
                    names[key] = [node]
                    continue
                if len(block) + unseen.get(key, 0) <= MAX_NAME_BLOCK:
                    others = [*others, *block[-window:]] if others else block[-window:]
                block.append(node)
            if len(others) > 1:
                others = list(dict.fromkeys(others))  # one name sits in several blocks
            for other in others:
                if id_index and ids[other]:
                    continue  # both have an ID number: their own block decides
                decided = decide(prepared, known[other])  # type: ignore[arg-type]
                if decided is not None and decided[0] >= MATCH_THRESHOLD:
                    add_score(decided[0]), add_left(node), add_right(other)
                    add_code(decision_code(decided[1], decided[2]))
        return scores, lefts, rights, codes

    def _assign(
        self, first: int, best_score: array[float], best_other: array[int], best_code: array[int]
    ) -> list[PersonMatch]:
        """Each batch node's person (a new one for a cluster that has none) and the
        evidence of its strongest joined pair, in input order."""
        uf, known = self._uf, self._mentions
        find, anchor_of = uf.find, uf.anchor
        matches: list[PersonMatch] = []
        add = matches.append
        # Evidence comes in a few dozen shapes (agreements, both born, one phone): each list
        # is made once and shared by its matches, as its items are (written out, never
        # changed), instead of a list per mention.
        alone = new_person_evidence()
        shared: dict[tuple[int, bool, bool], Evidence] = {}
        node = first - 1
        for at, other in enumerate(best_other):
            node += 1
            root = find(node)
            person = anchor_of(root)
            if person is None:
                person = self._new_person(root)
            assert isinstance(person, int | NewPerson)
            facts = known[node].facts  # type: ignore[union-attr]  # anchors are in no pair
            if other < 0:
                add(PersonMatch(facts.mention_id, person, 1.0, alone))
                continue
            theirs = known[other].facts  # type: ignore[union-attr]
            code = best_code[at]
            shape = (
                code,
                bool(facts.birth_date and theirs.birth_date),
                bool(facts.phone_index and facts.phone_index == theirs.phone_index),
            )
            evidence = shared.get(shape)
            if evidence is None:
                evidence = shared[shape] = evidence_of_code(facts, theirs, code)
            add(PersonMatch(facts.mention_id, person, round(best_score[at], 3), evidence))
        return matches

    def _new_person(self, root: int) -> NewPerson:
        self._next_new += 1
        person = NewPerson(self._next_new)
        anchor = self._uf.add(anchor=person)
        self._mentions.append(None)
        self._ids.append(None)
        self._uf.union(anchor, root)
        self._anchors[person] = anchor
        return person


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Resolution allocates millions of small acyclic objects and frees none of them: the
    cycle collector would walk the growing heap again and again for nothing (half the time of
    a million mentions). Reference counting still frees what dies."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def staff_match(facts: MentionFacts) -> PersonMatch:
    """The match a staff decision fixed (人工确认): never recomputed."""
    assert facts.person_id is not None
    return PersonMatch(facts.mention_id, facts.person_id, 1.0, staff_evidence())


def resolve_persons(
    mentions: Sequence[MentionFacts], *, window: int = BLOCK_WINDOW
) -> list[PersonMatch]:
    """Resolve from scratch; staff-decided mentions keep their person and anchor the rest."""
    resolver = PersonResolver(window)
    pinned = [m for m in mentions if m.staff_decided and m.person_id is not None]
    resolver.add_existing(pinned)
    free = [m for m in mentions if not (m.staff_decided and m.person_id is not None)]
    return [staff_match(m) for m in pinned] + resolver.resolve(free)
