"""The jieba tokenizer's dictionary cache: the same table as jieba's own, read back cheaply."""

from __future__ import annotations

import tempfile
from pathlib import Path

import jieba
import pytest

from domain.risk import segmenter

TEXT = "他说如果不给钱就跳楼，邻居没有砍死他的想法。"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    return tmp_path


def _not_loaded_again(self: jieba.Tokenizer, dictionary: str | None = None) -> None:
    raise AssertionError("the dictionary was loaded by jieba, not read from the cache")


def _jieba_own() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def test_the_cached_dictionary_is_jiebas_own_and_cuts_the_same(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a first tokenizer, which loads the dictionary and writes the cache
    segmenter.tokenizer()
    assert len(list(cache_dir.glob("govhub-jieba-*.freq"))) == 1
    # when a second one is made while jieba's own load is out of reach
    with monkeypatch.context() as patched:
        patched.setattr(jieba.Tokenizer, "initialize", _not_loaded_again)
        cached = segmenter.tokenizer()
    # then it holds jieba's own table and cuts a text as jieba does, lexicon words added
    own = _jieba_own()
    assert (cached.FREQ, cached.total) == (own.FREQ, own.total)
    for tokenizer in (cached, own):
        tokenizer.add_word("跳楼", freq=200000)
    assert cached.lcut(TEXT) == own.lcut(TEXT)


def test_a_broken_cache_is_not_read(cache_dir: Path) -> None:
    # given a cache file cut short
    segmenter.tokenizer()
    [cache] = cache_dir.glob("govhub-jieba-*.freq")
    cache.write_bytes(cache.read_bytes()[:1000])
    # when a tokenizer is made, then it loads jieba's dictionary as usual (and writes it anew)
    tokenizer = segmenter.tokenizer()
    own = _jieba_own()
    assert (tokenizer.FREQ, tokenizer.total) == (own.FREQ, own.total)
    assert cache.stat().st_size > 1000
