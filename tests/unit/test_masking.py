"""ID numbers and phones are masked however they are written, as the validators accept them."""

from __future__ import annotations

import pytest

from domain.masking import mask_text
from domain.validators import normalize_phone


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+8613812345678", "+86138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("0086-138-1234-5678", "0086-138****5678"),
        ("138-1234-5678", "138****5678"),
        ("(0398) 281 2345", "(0398)-****2345"),
        ("028-8612-3456", "028-****3456"),
    ],
)
def test_phones_are_masked_with_country_code_and_separators(written: str, masked: str) -> None:
    # given a number the phone validator takes as a phone
    normalize_phone(written)
    # when it is quoted in free text, then no more than its ends are left
    assert mask_text(f"电话{written}。") == f"电话{masked}。"


def test_a_15_digit_id_number_from_before_1999_is_masked() -> None:
    assert mask_text("身份证410105491231002") == "身份证4101********002"


@pytest.mark.parametrize(
    "text", ["2026-12-03 13:45:12", "(2026)豫1202民初1号", "411202-2026-000017", "MS-0003"]
)
def test_dates_case_and_matter_numbers_stay_as_they_are(text: str) -> None:
    assert mask_text(text) == text
