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
from itertools import repeat
from typing import NamedTuple, TypeVar

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
from domain.linking.names import NameKey, name_keys
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
        # Blocks by kind: an ID number needs only its latest mention (one chain links them
        # all), a phone or a name its recent ones. A name block is keyed by a number made
        # from its stored form (姓名分块键, see _block_number): a million mentions make a
        # million keys, and a 64-bit int is a third of the string (two keys sharing a
        # number only share a block).
        self._id_last: dict[str, int] = {}
        self._phones: dict[str, list[int]] = {}
        self._names: dict[int, list[int]] = {}
        self._anchors: dict[int, int] = {}  # an existing person's anchor node
        self._unseen: dict[int, int] = {}  # stored name block members not indexed here
        self._scopes: dict[str | None, tuple[int, int | None]] = {}  # by division code
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

    def _scope(self, region: str | None) -> tuple[int, int | None]:
        """The county and village (:func:`block_scopes`) of a division code, hashed."""
        scope = self._scopes.get(region)
        if scope is None:
            county, village = block_scopes(region)
            scope = (hash(county), None if village is None else hash(village))
            self._scopes[region] = scope
        return scope

    def _name_blocks(self, name: NameKey, region: str | None) -> list[int]:
        """:func:`name_block_keys` as :func:`_block_number` numbers them."""
        if name.pinyin_key is None:
            return []
        county, village = self._scope(region)
        blocks = [hash(name.pinyin_key) ^ county]
        if village is not None:
            blocks.extend(hash(mask) ^ village for mask in name.mask_keys)
        return blocks

    def _index(self, node: int, mention: PreparedMention) -> None:
        if mention.id_index:
            self._id_last[mention.id_index] = node
        if mention.phone_index:
            self._phones.setdefault(mention.phone_index, []).append(node)
        for block in self._name_blocks(mention.name, mention.region):
            self._names.setdefault(block, []).append(node)

    def add_existing(self, mentions: Iterable[MentionFacts]) -> None:
        """Index mentions already assigned (``person_id`` set); they will not move."""
        uf = self._uf
        for facts in mentions:
            if facts.person_id is None:
                raise ValueError("add_existing needs mentions with a person_id")
            prepared = PreparedMention.of(facts)
            anchor = uf.find(self._anchor(facts.person_id))
            node = uf.add(facts.id_index or None, facts.birth_date)
            self._mentions.append(prepared)
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
            block = _block_number(key)
            self._unseen[block] = max(0, size - len(self._names.get(block, ())))

    def resolve(self, mentions: Sequence[MentionFacts]) -> list[PersonMatch]:
        """Assign each new mention to an existing or a new person, in input order."""
        with no_cycle_collection():
            return self._resolve(mentions)

    def _resolve(self, mentions: Sequence[MentionFacts]) -> list[PersonMatch]:
        uf = self._uf
        first = len(uf)  # this batch's mentions are the nodes from here on, in input order
        ids = [f.id_index or None for f in mentions]  # an empty index is none
        uf.extend(ids, [f.birth_date for f in mentions])
        prepared_all = list(  # PreparedMention.of, column by column
            map(
                _new_tuple,  # PreparedMention(...) without its Python-level __new__
                repeat(PreparedMention),
                zip(
                    mentions,
                    name_keys([f.name for f in mentions]),
                    _each_distinct(canonical_region, [f.region_code for f in mentions]),
                    _each_distinct(address_parts, [f.address for f in mentions]),
                    [f.record_id for f in mentions],
                    ids,
                    [f.phone_index or None for f in mentions],
                    [f.birth_date for f in mentions],
                    strict=True,
                ),
            )
        )
        self._mentions.extend(prepared_all)
        buckets = self._candidate_pairs(first, prepared_all)
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

    def _candidate_pairs(self, first: int, batch: list[PreparedMention]) -> dict[float, array[int]]:
        """Index the batch (nodes ``first``…) and score it against its blocks: the pairs
        worth joining by score, each a packed run of (node, other node,
        :func:`decision_code`) in the order found (a tuple and a float a pair would be
        ~100 bytes, these are 24)."""
        known = self._mentions
        id_last, phones, names = self._id_last, self._phones, self._names
        unseen, window, scopes = self._unseen, self._window, self._scopes
        buckets: dict[float, array[int]] = {}
        by_id = buckets[ID_MATCH] = array("q")
        id_code = decision_code(None, PlaceAgreement.UNKNOWN)
        for node, prepared in enumerate(batch, first):
            _, name, region, _, _, id_index, phone, _ = prepared
            if id_index is not None:
                last = id_last.get(id_index)
                id_last[id_index] = node
                if last is not None:
                    by_id.extend((node, last, id_code))
            others: list[int] | None = None
            if phone is not None:
                block = phones.get(phone)
                if block is None:
                    phones[phone] = [node]
                else:
                    others = block[-window:]
                    block.append(node)
            pinyin_key = name.pinyin_key
            if pinyin_key is not None:
                scope = scopes.get(region)
                if scope is None:
                    scope = self._scope(region)
                county, village = scope
                keys = [hash(pinyin_key) ^ county]  # _name_blocks, written out
                if village is not None and name.mask_keys:
                    keys += [hash(mask) ^ village for mask in name.mask_keys]
                several = others is not None
                for key in keys:
                    block = names.get(key)
                    if block is None:
                        names[key] = [node]
                        continue
                    size = len(block)
                    if unseen:
                        size += unseen.get(key, 0)
                    if size <= MAX_NAME_BLOCK:
                        if others is None:
                            others = block[-window:]
                        else:
                            others += block[-window:]
                            several = True
                    block.append(node)
                if several:
                    others = list(dict.fromkeys(others))  # type: ignore[arg-type]  # one name sits in several blocks
            if others is None:
                continue
            for other in others:
                theirs = known[other]
                if id_index is not None and theirs.id_index is not None:  # type: ignore[union-attr]
                    continue  # both have an ID number: their own block decides
                decided = decide(prepared, theirs)  # type: ignore[arg-type]
                if decided is not None and decided[0] >= MATCH_THRESHOLD:
                    score, agreement, place = decided
                    pairs = buckets.get(score)
                    if pairs is None:
                        pairs = buckets[score] = array("q")
                    pairs.extend((node, other, decision_code(agreement, place)))
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
    results = {value: function(value) for value in dict.fromkeys(values)}
    return list(map(results.__getitem__, values))


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
