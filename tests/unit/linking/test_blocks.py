"""Which earlier mentions a new one is compared with (分块比对), against a plain reading of the
rules: a dictionary of blocks, each a list of its members, walked mention by mention.

The resolver finds the same pairs by sorting its block members; these tests hold it to the
plain reading on random mentions that share names, phones, ID numbers and places often, with
stored persons, stored block sizes, several batches, other windows and a smaller block limit.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from domain.linking import MentionFacts, PersonResolver
from domain.linking import persons as persons_module
from domain.linking.evidence import (
    BLOCKING_KEY_MAX,
    ID_MATCH,
    MATCH_THRESHOLD,
    PreparedMention,
    decide,
    decision_code,
    name_block_keys,
    stored_blocking_keys,
)
from domain.linking.places import PlaceAgreement

LONG = "王" + "小明" * 65  # 131 characters: 131 masked forms, slots past any small integer
NAMES = [
    "王小明",
    "王晓明",
    "王小朋",
    "王先生",
    "張偉",
    "张伟",
    "张玮",
    "李娜",
    "李秀兰",
    "欧阳春花",
    LONG,
    LONG[:3] + "大" + LONG[4:],
    LONG[:128] + "大" + LONG[129:],
]


class _SameHash(str):
    """An ID number whose hash is every other one's: blocks must go by the value itself."""

    def __hash__(self) -> int:
        return 1


IDS = [None, None, "", "A", "B", "C", _SameHash("X"), _SameHash("Z")]
REGIONS = [
    "411202001001",
    "411202001002",
    "411202001",
    "411202",
    "411203001001",
    "411202001001000",
    None,
]
ADDRESSES = ["湖滨区车站街道建设路12号", "建设路13号", "交口乡王庄村4组17号", None]


def _mentions(rng: random.Random, first_id: int, count: int, **facts: object) -> list[MentionFacts]:
    return [
        MentionFacts(
            mention_id=first_id + i,
            name=rng.choice(NAMES),
            record_id=rng.choice([None, rng.randrange(count)]),
            id_index=rng.choice(IDS),
            phone_index=rng.choice([None, None, "", "P", "Q", "R", "S"]),
            birth_date=rng.choice([None, None, date(1980, 1, 1), date(1990, 1, 1)]),
            region_code=rng.choice(REGIONS),
            address=rng.choice(ADDRESSES),
            **facts,  # type: ignore[arg-type]
        )
        for i in range(count)
    ]


class _Plain:
    """The blocking rules read plainly: node numbers as the resolver gives them (a stored
    person's anchor first, then its mentions), blocks as lists keyed by their stored form."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.known: list[PreparedMention | None] = []
        self.ids: dict[str, int] = {}
        self.phones: dict[str, list[int]] = {}
        self.names: dict[str, list[int]] = {}
        self.anchors: set[int] = set()
        self.unseen: dict[str, int] = {}

    def add_existing(self, mentions: Sequence[MentionFacts]) -> None:
        for facts in mentions:
            if facts.person_id not in self.anchors:
                self.anchors.add(facts.person_id)  # type: ignore[arg-type]
                self.known.append(None)
            self._meet(len(self.known), PreparedMention.of(facts), pair=False)

    def block_sizes(self, sizes: dict[str, int]) -> None:
        for key, size in sizes.items():
            self.unseen[key] = max(0, size - len(self.names.get(key, ())))

    def resolve(self, mentions: Sequence[MentionFacts]) -> dict[float, list[int]]:
        found: dict[float, list[int]] = {ID_MATCH: []}
        for facts in mentions:
            node = len(self.known)
            for other, score, code in self._meet(node, PreparedMention.of(facts), pair=True):
                found.setdefault(score, []).extend((node, other, code))
        return found

    def _meet(
        self, node: int, mention: PreparedMention, *, pair: bool
    ) -> list[tuple[int, float, int]]:
        self.known.append(mention)
        met: list[tuple[int, float, int]] = []
        if mention.id_index is not None:
            last = self.ids.get(mention.id_index)
            if last is not None and pair:
                met.append((last, ID_MATCH, decision_code(None, PlaceAgreement.UNKNOWN)))
            self.ids[mention.id_index] = node
        others: list[int] = []
        if mention.phone_index is not None:
            block = self.phones.setdefault(mention.phone_index, [])
            others += block[-self.window :] if block else []
            block.append(node)
        for key in name_block_keys(mention.name, mention.region):
            block = self.names.setdefault(key, [])
            size = len(block) + self.unseen.get(key, 0)
            if block and size <= persons_module.MAX_NAME_BLOCK:
                others += block[-self.window :]
            block.append(node)
        if not pair:
            return met
        for other in dict.fromkeys(others):
            theirs = self.known[other]
            assert theirs is not None
            if mention.id_index is not None and theirs.id_index is not None:
                continue
            decided = decide(mention, theirs)
            if decided is not None and decided[0] >= MATCH_THRESHOLD:
                met.append((other, decided[0], decision_code(decided[1], decided[2])))
        return met


class _Showing(PersonResolver):
    """A resolver that keeps the pairs each batch found."""

    found: list[dict[float, list[int]]]

    def _candidate_pairs(self, members: Any) -> dict[float, array[int]]:
        buckets = super()._candidate_pairs(members)
        self.found = [*getattr(self, "found", []), {s: list(p) for s, p in buckets.items()}]
        return buckets


@pytest.mark.parametrize("window", [1, 3, 8, 20])
@pytest.mark.parametrize("seed", range(6))
def test_a_batch_meets_the_mentions_the_plain_rules_name(window: int, seed: int) -> None:
    rng = random.Random(seed)
    batches = [_mentions(rng, 1000 * (b + 1), rng.randrange(1, 160)) for b in range(3)]
    resolver, plain = _Showing(window), _Plain(window)
    for batch in batches:
        resolver.resolve(batch)
        assert resolver.found[-1] == plain.resolve(batch)


@pytest.mark.parametrize("seed", range(6))
def test_stored_persons_and_block_sizes_are_met_as_the_plain_rules_say(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a smaller block limit, so that blocks reach it
    monkeypatch.setattr(persons_module, "MAX_NAME_BLOCK", 12)
    rng = random.Random(seed)
    stored = [_stored(m, rng.randrange(1, 12)) for m in _mentions(rng, 1, 60)]
    sizes = _sizes(rng, stored[:20], 20)
    resolver, plain = _Showing(), _Plain(persons_module.BLOCK_WINDOW)
    # when stored persons and the sizes of their blocks are given, then two batches
    resolver.add_existing(stored)
    plain.add_existing(stored)
    resolver.block_sizes(sizes)
    plain.block_sizes(sizes)
    for first_id in (1000, 2000):
        batch = _mentions(rng, first_id, rng.randrange(1, 80))
        resolver.resolve(batch)
        # then each batch meets what the plain rules name, in the same order
        assert resolver.found[-1] == plain.resolve(batch)


def test_the_plain_rules_are_exercised() -> None:
    # the random mentions above do fill windows, repeat ID numbers and join pairs by name
    rng = random.Random(0)
    found = _Plain(3).resolve(_mentions(rng, 1, 150))
    assert len(found[ID_MATCH]) > 3 * 10 and len(found) > 3


@pytest.mark.parametrize("seed", range(8))
def test_any_order_of_stored_persons_batches_and_sizes_is_met_as_the_plain_rules_say(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a smaller block limit, and stored persons, batches (some empty) and block sizes
    # given in a random order
    monkeypatch.setattr(persons_module, "MAX_NAME_BLOCK", 8)
    rng = random.Random(seed)
    window = rng.choice([1, 2, 5])
    resolver, plain = _Showing(window), _Plain(window)
    next_id = 1
    for _ in range(8):
        step = rng.choice(["stored", "batch", "batch", "sizes"])
        mentions = _mentions(rng, next_id, rng.randrange(0, 40))
        next_id += 100
        if step == "stored":
            stored = [_stored(m, rng.randrange(1, 6)) for m in mentions]
            resolver.add_existing(stored)
            plain.add_existing(stored)
        elif step == "sizes":
            sizes = _sizes(rng, mentions, 12)
            resolver.block_sizes(sizes)
            plain.block_sizes(sizes)
        else:
            resolver.resolve(mentions)
            # then each batch meets what the plain rules name, in the same order
            assert resolver.found[-1] == plain.resolve(mentions)


def _stored(mention: MentionFacts, person: int) -> MentionFacts:
    return replace(mention, person_id=person)


def _sizes(rng: random.Random, mentions: list[MentionFacts], most: int) -> dict[str, int]:
    """Stored sizes, below ``most``, of the name blocks of ``mentions``."""
    return {
        key: rng.randrange(0, most)
        for m in mentions
        for key in stored_blocking_keys(m.name, m.region_code)
    }


def test_a_window_of_no_earlier_member_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        PersonResolver(0)


def test_a_long_names_keys_fit_their_column_and_keep_their_scope() -> None:
    # given a name of 131 characters, and one that differs from it in its last character only
    village = "330102001001"
    other = LONG[:-1] + "亮"
    keys, other_keys = stored_blocking_keys(LONG, village), stored_blocking_keys(other, village)
    # then every key fits the column, with its scope (county or village) still last
    assert keys and all(len(key) <= BLOCKING_KEY_MAX for key in keys)
    assert {key.rpartition("@")[2] for key in keys} == {"330102", village}
    # and keys stay equal only where the whole keys were: the same name, never the other one
    assert keys == stored_blocking_keys(LONG, village)
    assert keys[0] != other_keys[0] and keys[0][:100] == other_keys[0][:100]
    # while a name of usual length keeps its plain key
    assert stored_blocking_keys("王小明", village)[0] == "py:wang|xiao|ming@330102"
