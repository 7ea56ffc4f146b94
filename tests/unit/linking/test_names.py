"""Name comparison: homophones, traditional characters, look-alikes, polite forms."""

from __future__ import annotations

from domain.linking.names import NameAgreement, compare_names, name_key, name_keys


def agreement(a: str, b: str) -> NameAgreement:
    return compare_names(name_key(a), name_key(b))


def test_traditional_characters_are_the_same_name() -> None:
    assert agreement("陳偉", "陈伟") is NameAgreement.EXACT


def test_homophones_agree_by_pinyin() -> None:
    assert agreement("张伟", "张玮") is NameAgreement.HOMOPHONE
    assert agreement("刘丽华", "刘莉华") is NameAgreement.HOMOPHONE


def test_a_look_alike_character_is_one_character_off() -> None:
    assert agreement("王小明", "玉小明") is NameAgreement.ONE_CHARACTER


def test_a_polite_form_agrees_only_on_the_surname() -> None:
    assert agreement("王先生", "王建国") is NameAgreement.SURNAME_ONLY
    assert agreement("李女士", "王芳") is NameAgreement.NONE


def test_unrelated_names_do_not_agree() -> None:
    assert agreement("张伟", "李娜") is NameAgreement.NONE
    assert agreement("张伟", "张伟明") is NameAgreement.NONE


def test_blocking_keys_bring_variants_together() -> None:
    # given a name and its three kinds of variant
    keys = set(name_key("王小明").blocking_keys())
    for variant in ("王晓明", "玉小明", "王小朋"):
        # then each shares at least one blocking key with it
        assert keys & set(name_key(variant).blocking_keys()), variant
    assert name_key("王先生").blocking_keys() == []


def test_a_batch_of_names_is_normalised_as_one_name_at_a_time() -> None:
    names = ["陳建國", "王先生", "张 伟", "", "歐陽修", "陳建國", "李·娜"]
    assert name_keys(names) == [name_key(name) for name in names]


def test_pinyin_is_read_per_character_without_the_phrase_table() -> None:
    # given pypinyin loaded as govhub loads it: no phrase table, no second copies
    from pypinyin.constants import PHRASES_DICT

    assert PHRASES_DICT == {}
    # then a name's readings are each character's own, polyphones as read alone
    assert name_key("张长乐").pinyin == ("zhang", "zhang", "le")
    assert name_key("重庆").pinyin == ("zhong", "qing")
