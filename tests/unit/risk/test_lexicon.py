"""Lexicon matching: words found whole (jieba), negated words not counted."""

from __future__ import annotations

import pytest

from domain.risk import lexicon, load_risk_rules
from domain.risk.lexicon import matcher_for

SHIPPED = load_risk_rules().lexicon
MATCHER = matcher_for(SHIPPED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("报警人称丈夫王某扬言要打她，请求民警到场", [("扬言", "threat")]),
        ("报警人称其丈夫酒后持菜刀追砍", [("菜刀", "weapon")]),
        ("他说没钱，要跳楼", [("跳楼", "self_harm")]),
        ("对方称要报复", [("报复", "revenge")]),
        ("他不想活了", [("不想活", "self_harm")]),
        # a negator before a condition, not before the threat: 不给钱就砍死他
        ("不给钱就砍死他", [("砍死", "killing")]),
        ("如不解决将跳楼", [("跳楼", "self_harm")]),
        ("他扬言要和对方同归于尽", [("扬言", "threat"), ("同归于尽", "killing")]),
        ("称再不给钱就喝农药", [("喝农药", "self_harm")]),
        ("再不还钱我就找他算账", [("找他算账", "revenge")]),
        ("他说要你的命", [("要你的命", "killing")]),
    ],
)
def test_words_that_signal_danger_are_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(hit.word, hit.word_class) for hit in MATCHER.find(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "他说不会跳楼",
        "当事人表示没有报复的想法",
        "经查并未携带刀具",
        "当事人否认曾扬言报复",
        "双方情绪平稳，无报复倾向",
        "民警到场后双方不再争吵，未发现威胁行为",
        "从未说过要自杀",
        # negators jieba keeps whole, and words that mostly mean something else
        "民警到场，现场未见刀具，双方情绪稳定",
        "当事人未曾威胁他人",
        "他没带刀",
        "绝无报复之意",
        "无人扬言报复",
        "排除自杀可能",
        "他保证再不会报复对方",
        "双方因货款对账算账发生争执",
        "邻居装修噪音吵得要命",
        "",
    ],
)
def test_negated_or_absent_words_are_not_counted(text: str) -> None:
    assert MATCHER.find(text) == []


def test_a_negation_stays_in_its_clause() -> None:
    # the negator belongs to the first clause; the second clause's threat counts
    hits = MATCHER.find("他没有喝酒，但扬言要报复")
    assert [hit.word for hit in hits] == ["扬言", "报复"]


def test_a_word_inside_another_word_is_not_a_match() -> None:
    # substring matching would fire on 刀 in 刀削面 and on 枪 in 抢枪手 alike
    assert MATCHER.find("双方在刀削面馆因座位发生口角") == []


def test_the_same_lexicon_loaded_again_reuses_its_matcher() -> None:
    again = load_risk_rules().lexicon  # a new object, as each sync worker loads its rules file
    assert again is not SHIPPED
    assert matcher_for(again) is MATCHER


def test_a_lexicon_with_other_words_gets_a_matcher_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lexicon, "_MATCHERS", dict(lexicon._MATCHERS))  # the new one not kept
    monkeypatch.setattr(lexicon, "_BY_WORDS", dict(lexicon._BY_WORDS))
    shipped = SHIPPED
    classes = {**shipped.classes, "threat": (*shipped.classes["threat"], "要你好看")}
    other = matcher_for(shipped.model_copy(update={"classes": classes}))
    assert other is not MATCHER
    assert [hit.word for hit in other.find("他说要你好看")] == ["要你好看"]
    assert MATCHER.find("他说要你好看") == []
