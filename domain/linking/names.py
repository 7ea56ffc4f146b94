"""Comparing Chinese personal names the way clerks get them wrong (姓名比对).

Three kinds of noise reach us: a homophone (同音字, 张伟/张玮), a traditional character (繁体,
陳/陈) and a look-alike or typing slip (形近字, 王/玉). A name is normalised once into a
:class:`NameKey` — simplified characters and per-character pinyin — and two keys are compared
into a :class:`NameAgreement`. A 110 caller logged as "王先生" carries only a surname.
"""

from __future__ import annotations

import functools
import operator
import os
import re
from collections.abc import Hashable, Sequence
from enum import StrEnum
from typing import NamedTuple, TypeVar

import opencc

from domain.bounded import bounded_key

# Read by pypinyin on import: a name needs each character's reading only, not pypinyin's table
# of phrases (190,000 entries: 0.1 s and ~45 MB of every process) nor second copies of its
# tables (kept for custom dictionaries, which govhub does not load). Readings are the same.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
from pypinyin import lazy_pinyin  # after the settings above

_T2S = opencc.OpenCC("t2s")
_new_tuple = tuple.__new__
_POLITE_SUFFIXES = ("先生", "女士", "小姐", "师傅", "老师", "阿姨", "大爷")
_POLITE = re.compile(r"^(?P<surname>[\u4e00-\u9fff]{1,2})(" + "|".join(_POLITE_SUFFIXES) + ")$")
_NOISE = re.compile(r"[\s·•.\-_,，。()（）]")


class NameAgreement(StrEnum):
    """How strongly two names agree, strongest first."""

    EXACT = "EXACT"  # the same characters once traditional ones are simplified
    HOMOPHONE = "HOMOPHONE"  # 同音字: same pinyin, different characters
    ONE_CHARACTER = "ONE_CHARACTER"  # 形近字 / a slip: one character differs
    SURNAME_ONLY = "SURNAME_ONLY"  # "王先生" against "王建国"
    NONE = "NONE"


NAME_WEIGHT: dict[NameAgreement, float] = {
    NameAgreement.EXACT: 1.0,
    NameAgreement.HOMOPHONE: 0.85,
    NameAgreement.ONE_CHARACTER: 0.7,
    NameAgreement.SURNAME_ONLY: 0.45,
    NameAgreement.NONE: 0.0,
}


BLOCK_NAME_MAX = 186
"""The longest name part of a blocking key: with ``@`` and a scope of at most 12 characters
(a village's code) the stored key fits its column (``person_blocking_keys.key``, 200)."""


class NameKey(NamedTuple):
    """A name ready for comparison and blocking; made by :meth:`of` (a tuple: a million
    mentions make a few hundred thousand, and a frozen dataclass cost twice as much to make).
    The fields after ``surname_only`` follow from the first three."""

    simplified: str
    pinyin: tuple[str, ...]
    surname_only: bool
    """True for a polite form (王先生): only ``simplified`` (the surname) is known."""
    pinyin_key: str | None
    """The block of every name that sounds the same (``py:wang|xiao|ming``), for a name of
    two characters or more; made with the key, which is cached and shared by every mention
    of the name, as are the blocking keys."""
    mask_keys: tuple[str, ...]
    """One block per character masked (``mk:王_明``), for a name of three characters or more."""

    @classmethod
    def of(cls, simplified: str, pinyin: tuple[str, ...], surname_only: bool) -> NameKey:
        blocked = not surname_only and len(simplified) >= 2
        pinyin_key = bounded_key("py:" + "|".join(pinyin), BLOCK_NAME_MAX) if blocked else None
        masks = (
            tuple(
                [
                    bounded_key(f"mk:{simplified[:i]}_{simplified[i + 1 :]}", BLOCK_NAME_MAX)
                    for i in range(len(simplified))
                ]
            )
            if blocked and len(simplified) >= 3
            else ()
        )
        return _new_tuple(cls, (simplified, pinyin, surname_only, pinyin_key, masks))

    @property
    def surname_pinyin(self) -> str:
        return self.pinyin[0] if self.pinyin else ""

    def blocking_keys(self) -> list[str]:
        """Keys that put names differing by a homophone, a 繁体 or one character together.

        The full pinyin catches homophones and traditional forms; each "one character masked"
        form (王_伟, _小伟, 王小_) catches a single look-alike or slip at that position. A
        two-character name has no masked forms: one character off there is half the name and
        joins only with a shared phone, whose own block brings the two together (``_伟`` would
        otherwise hold every 某伟 of a county, and cost most of the comparisons).
        """
        return [] if self.pinyin_key is None else [self.pinyin_key, *self.mask_keys]


CHAR_PINYIN: dict[str, str] = {}
"""Each character's pinyin as met (a plain dictionary: names use a few thousand characters,
and a bounded cache's bookkeeping cost more than the rest of a name's key); emptied should
junk text bring more than :data:`CHAR_PINYIN_LIMIT`."""
CHAR_PINYIN_LIMIT = 65536


def _pinyin_of(text: str) -> tuple[str, ...]:
    """The pinyin of each character of ``text``."""
    found = tuple(map(CHAR_PINYIN.get, text))
    if None in found:
        if len(CHAR_PINYIN) + len(text) > CHAR_PINYIN_LIMIT:
            CHAR_PINYIN.clear()
        for char in text:
            if char not in CHAR_PINYIN:
                CHAR_PINYIN[char] = lazy_pinyin(char)[0]
        found = tuple(map(CHAR_PINYIN.__getitem__, text))
    return found  # type: ignore[return-value]  # no None is left


NAME_CACHE = 16384
"""Names :func:`name_key` keeps, and addresses ``places.address_parts``: the candidates a
resolution pass reads again are the recent ones. A size that grew with the city made memory
grow with it: a sync of 100,000 records kept 64,000 names and 68,000 addresses, 45 MB held for
good; at this size the extra misses cost 0.3 s of the sync's 65 s of CPU."""


@functools.lru_cache(maxsize=NAME_CACHE)
def name_key(name: str) -> NameKey:
    """Normalise a name as a source wrote it (cached: names repeat a lot)."""
    return _key_of_simplified(_T2S.convert(_NOISE.sub("", name)))


def name_keys(names: Sequence[str]) -> list[NameKey]:
    """:func:`name_key` of each name (see :func:`distinct_name_keys`)."""
    keys, at = distinct_name_keys(names)
    return list(map(keys.__getitem__, at))


def distinct_name_keys(names: Sequence[str]) -> tuple[list[NameKey], list[int]]:
    """:func:`name_key` of each distinct name, in the order first seen, and where each name's
    key is among them: each distinct name is normalised once, all of them simplified by one
    OpenCC call (a call per name costs five times as much)."""
    distinct, at = first_seen(names)
    stripped = [_NOISE.sub("", name) for name in distinct]
    # no line break is left in a name (_NOISE takes \s), and none is in a phrase OpenCC knows
    simplified = _T2S.convert("\n".join(stripped)).split("\n")
    if len(simplified) != len(distinct):  # never seen: convert them one by one
        simplified = [_T2S.convert(text) for text in stripped]
    return list(map(_key_of_simplified, simplified)), at


_H = TypeVar("_H", bound=Hashable)


def first_seen(values: Sequence[_H]) -> tuple[list[_H], list[int]]:
    """The distinct values, in the order first seen, and where each value is among them (one
    look-up a value: a million names from a source are a million objects, and each look-up
    reads one)."""
    position: dict[_H, int] = {}
    at = [position.setdefault(value, len(position)) for value in values]
    return list(position), at


def _key_of_simplified(text: str) -> NameKey:
    # the suffix first: the pattern alone cost 5 µs a name, most of a key's making
    polite = _POLITE.match(text) if text.endswith(_POLITE_SUFFIXES) else None
    if polite is not None and len(text) >= 3:
        text = polite.group("surname")
        return NameKey.of(text, _pinyin_of(text), surname_only=True)
    return NameKey.of(text, _pinyin_of(text), surname_only=False)


_EXACT, _HOMOPHONE, _ONE_CHARACTER = (
    NameAgreement.EXACT,
    NameAgreement.HOMOPHONE,
    NameAgreement.ONE_CHARACTER,
)
_SURNAME_ONLY, _NONE = NameAgreement.SURNAME_ONLY, NameAgreement.NONE
"""Bound once: a member read from its class costs ~90 ns (Python 3.11)."""


def compare_names(a: NameKey, b: NameKey) -> NameAgreement:
    """How two normalised names agree; symmetric."""
    if not a.simplified or not b.simplified:
        return _NONE
    if a.surname_only or b.surname_only:
        short, long_ = (a, b) if a.surname_only else (b, a)
        if long_.surname_only:
            same = short.simplified == long_.simplified
            return _SURNAME_ONLY if same else _NONE
        surname = long_.simplified[: len(short.simplified)]
        same_pinyin = long_.pinyin[: len(short.pinyin)] == short.pinyin
        agrees = surname == short.simplified or same_pinyin
        return _SURNAME_ONLY if agrees else _NONE
    if a.simplified == b.simplified:
        return _EXACT
    if len(a.simplified) != len(b.simplified):
        return _NONE
    if a.pinyin == b.pinyin:
        return _HOMOPHONE
    differing = sum(map(operator.ne, a.simplified, b.simplified))  # lengths are equal
    if differing == 1 and len(a.simplified) >= 2:
        return _ONE_CHARACTER
    return _NONE
