"""Person resolution (人员归一): cluster party mentions into persons, incrementally.

A :class:`PersonResolver` holds an index of mentions already assigned to persons. Resolving
a batch of new mentions compares each only with the mentions that share a blocking key
(ID number, phone, or a name key within one county or village — see
:func:`~domain.linking.evidence.name_block_keys`), and only with the most recent ``window``
members of a block, so cost grows near-linearly with the number of mentions and never
all-pairs. Candidate pairs are scored
(:func:`~domain.linking.evidence.score_pair`) and joined strongest first by a guarded
union-find: two different ID numbers, two different birth dates or two existing persons
never merge. Resolving everything from scratch is the same call on an empty resolver.

Existing persons are fixed: a batch may attach new mentions to one of them or start new
persons, but never merges or splits existing ones; that is a full run's (or staff's) job.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import is_not, itemgetter
from typing import NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from domain.heap import no_cycle_collection
from domain.linking.clusters import GuardedUnionFind
from domain.linking.evidence import (
    ID_MATCH,
    MATCH_THRESHOLD,
    Evidence,
    MentionFacts,
    PreparedMention,
    block_scopes,
    decide,
    decision_code,
    evidence_of_code,
    new_person_evidence,
    staff_evidence,
)
from domain.linking.names import NameKey, distinct_name_keys, first_seen
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
        if window < 1:
            raise ValueError(f"a resolver's window is at least 1 earlier member, not {window}")
        self._window = window
        self._uf = GuardedUnionFind()
        self._mentions: list[PreparedMention | None] = []  # by node; None for person anchors
        # Every block member, by kind (see _Members): an ID number's or a phone's block by a
        # number given to each distinct value (_numbered), a name's by a number made from its
        # stored form (姓名分块键, see _block_number: two keys sharing a number only share a
        # block, where the comparison tells them apart).
        self._ids = _Members()
        self._phones = _Members()
        self._names = _Members()
        self._id_numbers: dict[str, int] = {}
        self._phone_numbers: dict[str, int] = {}
        self._anchors: dict[int, int] = {}  # an existing person's anchor node
        self._unseen: dict[int, int] = {}  # stored name block members not indexed here
        self._scopes: dict[str | None, tuple[int, int, bool]] = {}  # by division code
        self._next_new = 0

    @property
    def mention_count(self) -> int:
        return sum(1 for m in self._mentions if m is not None)

    def _anchor(self, person: int) -> int:
        node = self._anchors.get(person)
        if node is None:
            node = self._uf.add(anchor=person)
            self._mentions.append(None)
            self._anchors[person] = node
        return node

    def _scope(self, region: str | None) -> tuple[int, int, bool]:
        """The county and village (:func:`block_scopes`) of a division code, hashed, and
        whether it names a village."""
        scope = self._scopes.get(region)
        if scope is None:
            county, village = block_scopes(region)
            scope = (hash(county), 0 if village is None else hash(village), village is not None)
            self._scopes[region] = scope
        return scope

    def _index(
        self,
        nodes: npt.NDArray[np.int64],
        ids: list[str | None],
        phones: list[str | None],
        names: tuple[list[NameKey], list[int]],
        regions: tuple[list[str | None], list[int]],
    ) -> tuple[_Arrays, _Arrays, _Arrays]:
        """The block members mentions make, as (ID numbers', phones', names') arrays.

        Mention ``i`` is node ``nodes[i]`` (ascending), with the ID number and phone at
        ``i``, the name ``names[0][names[1][i]]`` and the canonical division code
        ``regions[0][regions[1][i]]``. It is a member of its ID number's block, its phone's,
        and its name's within its county and, coded to a village, its masked forms' within
        the village (:func:`~domain.linking.evidence.name_block_keys`, numbered as
        :func:`_block_number` numbers them)."""
        count = len(nodes)
        by_value: list[_Arrays] = []
        for values, numbers in ((ids, self._id_numbers), (phones, self._phone_numbers)):
            given = np.fromiter(map(is_not, values, repeat(None)), np.bool_, count)
            blocks = _numbered(values, numbers)
            by_value.append((blocks, nodes[given], np.zeros(len(blocks), np.int32)))
        # a name's blocks: its pinyin key's (slot 1) in its county, its masks' (2…) in its
        # village; the numbers per distinct name and division code, gathered per mention
        scopes = list(map(self._scope, regions[0]))
        at_code = np.array(regions[1], np.int64)
        county = np.fromiter(map(_FIRST, scopes), np.int64, len(scopes))[at_code]
        village = np.fromiter(map(_SECOND, scopes), np.int64, len(scopes))[at_code]
        in_village = np.fromiter(map(_THIRD, scopes), np.bool_, len(scopes))[at_code]
        hashes = list(map(_block_hashes, names[0]))
        hash_count = np.fromiter(map(len, hashes), np.int64, len(hashes))
        flat = np.fromiter(chain.from_iterable(hashes), np.int64, int(hash_count.sum()))
        at_name = np.array(names[1], np.int64)
        given_count = hash_count[at_name]
        used = np.where(in_village, given_count, np.minimum(given_count, 1))
        owner = np.repeat(np.arange(count), used)
        slot = np.arange(len(owner)) - np.repeat(np.cumsum(used) - used, used)
        at = (np.cumsum(hash_count) - hash_count)[at_name[owner]] + slot
        scope = np.where(slot == 0, county[owner], village[owner])
        return (
            by_value[0],
            by_value[1],
            (flat[at] ^ scope, nodes[owner], (slot + 1).astype(np.int32)),
        )

    def add_existing(self, mentions: Iterable[MentionFacts]) -> None:
        """Index mentions already assigned (``person_id`` set); they will not move."""
        mentions = list(mentions)
        if any(facts.person_id is None for facts in mentions):  # before any is indexed
            raise ValueError("add_existing needs mentions with a person_id")
        uf = self._uf
        nodes: list[int] = []
        batch: list[PreparedMention] = []
        for facts in mentions:
            assert facts.person_id is not None
            prepared = PreparedMention.of(facts)
            anchor = uf.find(self._anchor(facts.person_id))
            node = uf.add(facts.id_index or None, facts.birth_date)
            self._mentions.append(prepared)
            if uf.conflict(node, anchor) is None:
                uf.union(node, anchor)
            else:  # a staff decision against the evidence: keep it, minus the guard values
                uf.attach(node, anchor)
            nodes.append(node)
            batch.append(prepared)
        members = self._index(
            np.array(nodes, np.int64),
            [p.id_index for p in batch],
            [p.phone_index for p in batch],
            first_seen([p.name for p in batch]),
            first_seen([p.region for p in batch]),
        )
        for kind, held in zip((self._ids, self._phones, self._names), members, strict=True):
            kind.add(held)

    def block_sizes(self, sizes: Mapping[str, int]) -> None:
        """Tell the resolver how many stored members each block has when only its most
        recent ones were given to :meth:`add_existing` (the database keeps the blocks), so a
        name block over :data:`MAX_NAME_BLOCK` stays silent as if all were indexed."""
        numbers = {_block_number(key): size for key, size in sizes.items()}
        held, _, _ = self._names.held()
        blocks = np.fromiter(numbers, np.int64, len(numbers))
        indexed = np.searchsorted(held, blocks, "right") - np.searchsorted(held, blocks, "left")
        for block, size, present in zip(numbers, numbers.values(), indexed.tolist(), strict=True):
            self._unseen[block] = max(0, size - present)

    def resolve(self, mentions: Sequence[MentionFacts]) -> list[PersonMatch]:
        """Assign each new mention to an existing or a new person, in input order."""
        with no_cycle_collection():
            return self._resolve(mentions)

    def _resolve(self, mentions: Sequence[MentionFacts]) -> list[PersonMatch]:
        uf = self._uf
        first = len(uf)  # this batch's mentions are the nodes from here on, in input order
        ids = [f.id_index or None for f in mentions]  # an empty index is none
        phones = [f.phone_index or None for f in mentions]
        uf.extend(ids, [f.birth_date for f in mentions])
        keys, key_at = distinct_name_keys([f.name for f in mentions])
        names = list(map(keys.__getitem__, key_at))
        codes, code_at = first_seen([f.region_code for f in mentions])
        regions = list(map(canonical_region, codes))
        prepared_all = list(  # PreparedMention.of, column by column
            map(
                _new_tuple,  # PreparedMention(...) without its Python-level __new__
                repeat(PreparedMention),
                zip(
                    mentions,
                    names,
                    map(regions.__getitem__, code_at),
                    _each_distinct(address_parts, [f.address for f in mentions]),
                    [f.record_id for f in mentions],
                    ids,
                    phones,
                    [f.birth_date for f in mentions],
                    strict=True,
                ),
            )
        )
        self._mentions.extend(prepared_all)
        nodes = np.arange(first, first + len(prepared_all), dtype=np.int64)
        buckets = self._candidate_pairs(
            self._index(nodes, ids, phones, (keys, key_at), (regions, code_at))
        )
        count = len(mentions)
        best_score = array("d", bytes(8 * count))  # per batch node: its strongest joined pair
        best_other = array("q", [-1]) * count
        best_code = array("b", bytes(count))
        union = uf.union
        # strongest first; within one score, in the order found
        for score in sorted(buckets, reverse=True):
            pairs = buckets.pop(score)
            confidence = round(score, 3)
            found = iter(pairs)
            for a, b, code in zip(found, found, found, strict=True):  # a: of this batch
                if union(a, b):
                    at = a - first
                    if best_other[at] < 0:  # the first joined is the strongest
                        best_score[at], best_other[at], best_code[at] = confidence, b, code
                    at = b - first
                    if at >= 0 and best_other[at] < 0:
                        best_score[at], best_other[at], best_code[at] = confidence, a, code
            del pairs, found
        return self._assign(first, prepared_all, best_score, best_other, best_code)

    def _candidate_pairs(
        self, members: tuple[_Arrays, _Arrays, _Arrays]
    ) -> dict[float, array[int]]:
        """Score each mention of a batch against the earlier members of its blocks (its
        ``members`` of ID numbers', phones' and names' blocks, see :meth:`_index`, held from
        then on): the pairs worth joining by score, each a packed run of (node, other node,
        :func:`decision_code`) in the order found (a tuple and a float a pair would be ~100
        bytes, these are 24).

        A mention meets the latest earlier member of its ID number's block, and the
        ``window`` latest of its phone's and of each name block not over
        :data:`MAX_NAME_BLOCK` when it arrives; in that order (its phone's, then its name
        blocks' as :func:`~domain.linking.evidence.name_block_keys` lists them, each oldest
        first), each other mention once, and none when both have an ID number (their own
        block decides). The members are sorted by block (:class:`_Members`), not looked up
        one by one: a million mentions make three million members, and a dictionary of
        lists kept per block cost more than the comparisons.
        """
        window = self._window
        by_id = array("q")
        a, b, _ = self._ids.meet(members[0], 1)
        if len(a):
            runs = np.empty((len(a), 3), np.int64)
            order = np.argsort(a, kind="stable")
            runs[:, 0], runs[:, 1] = a[order], b[order]
            runs[:, 2] = decision_code(None, PlaceAgreement.UNKNOWN)
            by_id.frombytes(runs.tobytes())
        buckets: dict[float, array[int]] = {ID_MATCH: by_id}
        found = [
            self._phones.meet(members[1], window),
            self._names.meet(members[2], window, MAX_NAME_BLOCK, self._unseen),
        ]
        del members
        node, other, rank = (np.concatenate([f[i] for f in found]) for i in range(3))
        del found
        has_id = np.zeros(len(self._mentions), np.bool_)  # the nodes in an ID number's block
        has_id[self._ids.held()[1]] = True
        keep = ~(has_id[node] & has_id[other])
        del has_id
        node, other, rank = node[keep], other[keep], rank[keep]
        order = _ordered(node, rank)  # as met, then each other mention once, where first met
        node, other = node[order], other[order]
        del keep, rank, order
        known = self._mentions
        _, first_met = np.unique(node * len(known) + other, return_index=True)
        first_met.sort()
        met, theirs_met = node[first_met].tolist(), other[first_met].tolist()
        del node, other, first_met
        for at, theirs in zip(met, theirs_met, strict=True):
            decided = decide(known[at], known[theirs])  # (no anchor is a block member)
            if decided is not None and decided[0] >= MATCH_THRESHOLD:
                score, agreement, place = decided
                pairs = buckets.get(score)
                if pairs is None:
                    pairs = buckets[score] = array("q")
                pairs.extend((at, theirs, decision_code(agreement, place)))
        return buckets

    def _assign(
        self,
        first: int,
        batch: list[PreparedMention],
        best_score: array[float],
        best_other: array[int],
        best_code: array[int],
    ) -> list[PersonMatch]:
        """Each batch node's person (a new one for a cluster that has none) and the
        evidence of its strongest joined pair, in input order."""
        known = self._mentions
        persons = self._uf.anchors_of(first, first + len(batch), self._new_person)
        matches: list[PersonMatch] = []
        add = matches.append
        # Evidence comes in a few dozen shapes (agreements, both born, one phone): each list
        # is made once and shared by its matches, as its items are (written out, never
        # changed), instead of a list per mention.
        alone = new_person_evidence()
        shared: dict[tuple[int, bool, bool], Evidence] = {}
        for prepared, person, other, code, confidence in zip(
            batch, persons, best_other, best_code, best_score, strict=True
        ):
            facts = prepared.facts
            if other < 0:
                add(_new_tuple(PersonMatch, (facts.mention_id, person, 1.0, alone)))
                continue
            theirs = known[other].facts  # type: ignore[union-attr]  # anchors are in no pair
            shape = (
                code,
                bool(facts.birth_date and theirs.birth_date),
                bool(facts.phone_index and facts.phone_index == theirs.phone_index),
            )
            evidence = shared.get(shape)
            if evidence is None:
                evidence = shared[shape] = evidence_of_code(facts, theirs, code)
            add(_new_tuple(PersonMatch, (facts.mention_id, person, confidence, evidence)))
        return matches

    def _new_person(self) -> NewPerson:
        self._next_new += 1
        return NewPerson(self._next_new)


_Arrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32]]
"""Block members: block numbers, nodes, and for a name the slot each came from (1 its pinyin
key, 2… its masks)."""


class _Members:
    """The members of one kind of block. Those held are kept sorted by block, then node, so a
    batch finds the earlier members of its blocks by binary search, however many are held."""

    def __init__(self) -> None:
        self._held: _Arrays = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32))
        self._pending: list[_Arrays] = []

    def add(self, members: _Arrays) -> None:
        """Hold members that ask for no pairs (stored mentions), newer than any held."""
        self._pending.append(members)

    def held(self) -> _Arrays:
        """Every member held, sorted by block, then node."""
        if self._pending:
            parts = [self._held, *self._pending]
            blocks, nodes, slots = (np.concatenate([p[i] for p in parts]) for i in range(3))
            order = np.argsort(blocks, kind="stable")  # nodes are added in ascending order
            self._held = (blocks[order], nodes[order], slots[order])
            self._pending = []
        return self._held

    def meet(
        self,
        members: _Arrays,
        window: int,
        limit: int | None = None,
        unseen: Mapping[int, int] | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Pair each of ``members`` (a batch's, newer than any held) with the ``window``
        latest earlier members of its block, held or of the batch (none when the block then
        holds more than ``limit``, counting the ``unseen`` of its stored members), then hold
        them. As (node, other node, rank) arrays, the rank the other's place in the order a
        mention meets them (by slot, then oldest first)."""
        held_blocks, held_nodes, held_slots = self.held()
        order = np.argsort(members[0], kind="stable")  # by block, then node
        blocks, nodes, slots = members[0][order], members[1][order], members[2][order]
        del order, members  # a million mentions' arrays are tens of MB each: freed as soon as done
        count = len(blocks)
        new_block = np.ones(count, np.bool_)
        np.not_equal(blocks[1:], blocks[:-1], out=new_block[1:])
        position = np.arange(count) - np.flatnonzero(new_block)[np.cumsum(new_block) - 1]
        del new_block
        left = held = None  # where each block's held members start, and how many there are
        if len(held_blocks):
            left = np.searchsorted(held_blocks, blocks, "left")
            held = np.searchsorted(held_blocks, blocks, "right") - left
            position += held  # earlier members, held or of the batch
        asking = position > 0
        if limit is not None:
            size = position
            if unseen:
                stored = np.fromiter(unseen, np.int64, len(unseen))
                extra = np.fromiter(unseen.values(), np.int64, len(unseen))
                by_number = np.argsort(stored)
                stored, extra = stored[by_number], extra[by_number]
                at = np.minimum(np.searchsorted(stored, blocks), len(stored) - 1)
                size = position + np.where(stored[at] == blocks, extra[at], 0)
            asking &= size <= limit
            del size
        asked = np.flatnonzero(asking)
        del asking
        node_parts, other_parts, rank_parts = [], [], []
        for back in range(1, window + 1):
            asked = asked[position[asked] >= back]
            if not len(asked):
                break
            other = nodes[np.maximum(asked - back, 0)]  # of the batch, unless held (below)
            if held is not None and left is not None:
                earlier = position[asked] - back
                of_held = earlier < held[asked]
                other[of_held] = held_nodes[left[asked[of_held]] + earlier[of_held]]
            node_parts.append(nodes[asked])
            other_parts.append(other)
            rank = slots[asked].astype(np.int64) * (window + 1)
            rank_parts.append(rank + np.minimum(position[asked], window) - back)
        del asked, position
        if held is None or left is None:
            self._held = (blocks, nodes, slots)
        else:
            after = left + held  # after the held members of each block
            self._held = (
                np.insert(held_blocks, after, blocks),
                np.insert(held_nodes, after, nodes),
                np.insert(held_slots, after, slots),
            )
        if not node_parts:
            empty = np.empty(0, np.int64)
            return empty, empty, empty
        return np.concatenate(node_parts), np.concatenate(other_parts), np.concatenate(rank_parts)


def _ordered(major: npt.NDArray[np.int64], minor: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """The order that sorts by ``major``, then ``minor`` (both not negative), ties kept."""
    if not len(major):
        return np.empty(0, np.intp)
    span = int(minor.max()) + 1
    if int(major.max()) < (1 << 62) // span:  # one number each: one sort, not two
        return np.argsort(major * span + minor, kind="stable")
    return np.lexsort((minor, major))


def _block_hashes(name: NameKey) -> tuple[int, ...]:
    """``hash()`` of a name's pinyin key, then of each of its masks (none for a name not
    blocked): the numbers its blocks are kept by, mixed with their scope's. A string keeps its
    hash once made, so a name's second mention pays nothing."""
    if name.pinyin_key is None:
        return ()
    return (hash(name.pinyin_key), *map(hash, name.mask_keys))


def _numbered(values: list[str | None], numbers: dict[str, int]) -> npt.NDArray[np.int64]:
    """The number of each value given (``numbers`` gives a new one to a value not seen)."""
    number = numbers.setdefault
    return np.array(
        [number(value, len(numbers)) for value in values if value is not None], np.int64
    )


_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)


def _block_number(key: str) -> int:
    """The number :class:`PersonResolver` keeps a stored name key's block by
    (``py:…@330102``: the key's hash mixed with its scope's)."""
    name, _, scope = key.rpartition("@")
    return hash(name) ^ hash(scope)


_T = TypeVar("_T", bound=Hashable)
_R = TypeVar("_R")


def _each_distinct(function: Callable[[_T], _R], values: list[_T]) -> list[_R]:
    """``function`` of each value, called once per distinct value (a batch repeats a few
    thousand division codes and addresses a million times)."""
    distinct, at = first_seen(values)
    results = list(map(function, distinct))
    return list(map(results.__getitem__, at))


_new_tuple = tuple.__new__
"""A named tuple made from a tuple of its fields, without the Python-level ``__new__`` the
class is given (a full run makes two per mention)."""


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
