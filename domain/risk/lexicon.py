"""Finding lexicon words in free text (词表匹配), segmented with jieba, negation aware.

A substring search fires on 没有报复的想法 and on 刀口 alike. Here the text is cut into words
(jieba, with every lexicon word added so it stays whole) and a word counts only when no
negator (不会, 没有, 并未, …) stands before it in the same clause: at most four words back,
with no clause break (punctuation) and no 就/将/否则/但 between, and not itself inside a
condition (如/如果/若 …) — 不给钱就砍死他 and 如不解决将跳楼 count, 他说不会跳楼 does not.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

import jieba

from domain.risk.rules import Lexicon
from domain.risk.segmenter import tokenizer

_LOOKBACK = 4
_REMEMBERED = 65536
"""Texts whose results a matcher keeps (least recently used first out)."""
_CLAUSE_BREAKS = frozenset("，。；！？、,.;!?：:\n（）()")
# A negator before one of these negates a condition, not what follows (不给钱就砍死他).
_CONSEQUENCE = frozenset(
    {"就", "便", "将", "否则", "不然", "但", "但是", "却", "可是", "才", "就要", "就会"}
)
# ... and a negator after one of these is part of a condition (如不解决将跳楼).
# (再 is left out: mostly "again", 他保证再不会报复; 再不给钱就… counts through its 就)
_CONDITIONAL = frozenset({"如", "如果", "若", "假如", "要是", "倘若", "一旦"})

jieba.setLogLevel(logging.WARNING)  # jieba announces its dictionary load at DEBUG


@dataclass(frozen=True, slots=True)
class WordHit:
    word: str
    word_class: str


class LexiconMatcher:
    """Matches one lexicon; build once (a jieba tokenizer with the words added)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._classes: dict[str, str] = {}
        for name, words in lexicon.classes.items():
            for word in words:
                self._classes.setdefault(word, name)
        self._negations = frozenset(lexicon.negations)
        # A word can only be cut out of a text that holds it: a text holding no lexicon word
        # at all (most of them) is not segmented.
        longest_first = sorted(self._classes, key=len, reverse=True)
        self._any_word = (
            re.compile("|".join(map(re.escape, longest_first))) if longest_first else None
        )
        self._tokenizer = tokenizer()
        for word in (*self._classes, *self._negations):
            self._tokenizer.add_word(word, freq=200000)
        # Segmenting is most of a grade's cost, and a text is read again for every record
        # and person whose facts include it: each text is cut once. The recent results are
        # kept by a digest of the text, not the text itself, so what they hold in memory does
        # not grow with the texts (a full sync's peak memory stays flat with its size).
        self._found: dict[bytes, tuple[WordHit, ...]] = {}

    def find(self, text: str) -> list[WordHit]:
        """Lexicon words in ``text`` that no negator cancels, in order of appearance."""
        if not text:
            return []
        key = hashlib.blake2b(text.encode(), digest_size=16).digest()
        hits = self._found.pop(key, None)
        if hits is None:
            hits = self._find(text)
            if len(self._found) >= _REMEMBERED:
                del self._found[next(iter(self._found))]  # the least recently used
        self._found[key] = hits
        return list(hits)

    def _find(self, text: str) -> tuple[WordHit, ...]:
        if self._any_word is None or self._any_word.search(text) is None:
            return ()
        tokens = [t for t in self._tokenizer.lcut(text) if t.strip()]
        hits: list[WordHit] = []
        for index, token in enumerate(tokens):
            word_class = self._classes.get(token)
            if word_class is not None and not self._negated(tokens, index):
                hits.append(WordHit(token, word_class))
        return tuple(hits)

    def _negated(self, tokens: list[str], index: int) -> bool:
        for back in range(index - 1, max(-1, index - 1 - _LOOKBACK), -1):
            token = tokens[back]
            if token in _CLAUSE_BREAKS or token in _CONSEQUENCE:
                return False
            if token in self._negations:
                return not self._in_condition(tokens, back)
        return False

    @staticmethod
    def _in_condition(tokens: list[str], index: int) -> bool:
        for back in range(index - 1, -1, -1):
            if tokens[back] in _CLAUSE_BREAKS:
                return False
            if tokens[back] in _CONDITIONAL:
                return True
        return False


_MATCHERS: dict[int, tuple[Lexicon, LexiconMatcher]] = {}
_BY_WORDS: dict[tuple[object, ...], LexiconMatcher] = {}


def matcher_for(lexicon: Lexicon) -> LexiconMatcher:
    """One matcher per lexicon (the tokenizer's dictionary loads once): found by the lexicon
    object's id, which the cache keeps alive, and, for a lexicon object not seen before, by
    its words, so that the same rules file loaded again (by each ``sync --workers`` process)
    reuses the matcher its process was forked with."""
    cached = _MATCHERS.get(id(lexicon))
    if cached is None:
        words = _words_of(lexicon)
        matcher = _BY_WORDS.get(words)
        if matcher is None:
            matcher = _BY_WORDS[words] = LexiconMatcher(lexicon)
        cached = _MATCHERS[id(lexicon)] = (lexicon, matcher)
    return cached[1]


def _words_of(lexicon: Lexicon) -> tuple[object, ...]:
    """What a matcher is built from: the negators and each class's words, in order."""
    return (
        tuple(lexicon.negations),
        tuple((name, tuple(words)) for name, words in lexicon.classes.items()),
    )
