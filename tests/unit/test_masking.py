"""ID numbers and phones are masked in the shapes people write them (domain/masking.py);
numbers that only look alike (times, keys, card-like groups, UUIDs) are left alone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.masking import _mask_shapes, mask_text
from domain.validators import normalize_phone


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("0086-138-1234-5678", "0086-138****5678"),
        ("138-1234-5678", "138****5678"),
        ("138  1234  5678", "138****5678"),
        ("138 - 1234 - 5678", "138****5678"),
        ("(0398) 281 2345", "(0398)-****2345"),
        ("028-8612-3456", "028-****3456"),
        ("010-88886666", "010-****6666"),
        ("0398-2812345", "0398-****2345"),
        ("0398  281  2345", "0398-****2345"),
        ("+86 10 8888 6666", "+86 10-****6666"),
        ("+86-398-2812345", "+86-398-****2345"),
        ("0086 28 8612 3456", "0086 28-****3456"),
    ],
)
def test_phones_are_masked_with_country_code_and_separators(written: str, masked: str) -> None:
    # given a number the phone validator takes as a phone
    normalize_phone(written)
    # when it is quoted in free text, then no more than its ends are left
    assert mask_text(f"电话{written}。") == f"电话{masked}。"


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("１３８１２３４５６７８", "138****5678"),
        ("１３８　１２３４　５６７８", "138****5678"),
        ("＋８６　１３８１２３４５６７８", "+86 138****5678"),
        ("（０３９８）２８１２３４５", "(0398)-****2345"),
        ("４１１２８２１９８８１２３０７４０４", "4112**********7404"),
    ],
)
def test_full_width_digits_are_masked_as_their_ascii_forms(written: str, masked: str) -> None:
    # given an identifier typed with full-width digits (the validators fold them)
    # when it is quoted in a sentence, then it is masked and the rest of the sentence is kept
    assert mask_text(f"（当事人）{written}，已联系") == f"（当事人）{masked}，已联系"


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("0398-2812345 0398-2812346", "0398-****2345 0398-****2346"),
        ("0398-2812345 13812345678", "0398-****2345 138****5678"),
        ("13812345678 028-8612-3456", "138****5678 028-****3456"),
    ],
)
def test_phones_listed_one_after_another_are_each_masked(written: str, masked: str) -> None:
    assert mask_text(f"联系电话：{written}") == f"联系电话：{masked}"


def test_a_15_digit_id_number_from_before_1999_is_masked() -> None:
    assert mask_text("身份证410105491231002") == "身份证4101********002"


def test_an_id_number_right_after_letters_is_masked_when_its_check_character_is_right() -> None:
    # a real ID number carries its MOD 11-2 check character; a record key's digits rarely do
    assert mask_text("ID411282198812307403") == "ID4112**********7403"
    assert mask_text("备注:ID41128219881230740X核实") == "备注:ID41128219881230740X核实"


def test_an_id_number_right_after_chinese_text_is_masked() -> None:
    assert mask_text("身份证411282198812307404") == "身份证4112**********7404"
    assert mask_text("ID:411282198812307404;") == "ID:4112**********7404;"


@pytest.mark.parametrize(
    "key",
    ["J411202202605010012", "XF411202202605010012", "TJ411202202605010012", "M410105491231002"],
)
def test_record_keys_of_letters_and_digits_stay_as_they_are(key: str) -> None:
    # given a source's record key: letters, then as many digits as an ID number has
    # then it is quoted whole, in a log line or an audit variable
    assert mask_text(f"sourceKey={key}") == f"sourceKey={key}"


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-03 13:45:12",
        "2026-12-03T05:45:12.123456+08:00",
        "(2026)豫1202民初1号",
        "(2025)川0112民初5号",
        "411202-2026-000017",
        "411202-2026-000001",
        "MS-0003",
        "金额 12345678.00 元",
        "¥1,234,567.89",
        "113.6253123,34.7466123",
        "104.0398212,30.6594621",
        "时间段 0900-1200-1330",
        "卡号 0571 8888 6666 0000",
        "卡号 6222 0571 8888 6666",
        "123e4567-e89b-0312-4567-426614174000",
        "9f3c0312-4567-8901-a716-446655440000",
    ],
)
def test_dates_amounts_places_keys_and_numbers_stay_as_they_are(text: str) -> None:
    assert mask_text(text) == text


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789０１２３４５６７８９ -()（）+＋Xx86居民ID", max_size=40))
def test_the_check_for_four_digits_in_a_row_changes_no_answer(
    text: str,
) -> None:
    # mask_text skips the shapes when no four digits stand together: they must agree
    assert mask_text(text) == _mask_shapes(text)
