"""Tests for domain.validators: each rule of each standard, plus properties over random input.

Check characters are computed here by independent reference formulas (the recursive form of
ISO 7064 MOD 11-2, and 3^i mod 31 weights for GB 32100) rather than by the functions under
test, so a wrong weight table in the module cannot agree with itself.
"""

from __future__ import annotations

import pickle
import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.enums import RegionLevel
from domain.validators import (
    CASE_TYPE_CODES,
    COURT_PROVINCE_ABBREVIATIONS,
    PROVINCE_CODES,
    USCC_CHARSET,
    CaseNumber,
    IdentifierKind,
    InvalidIdentifier,
    birth_date_from_resident_id,
    division_level,
    division_of_prefix,
    division_prefix,
    mask_phone,
    mask_resident_id,
    normalize_phone,
    parent_division,
    parse_case_number,
    resident_id_check_char,
    uscc_check_char,
    validate_division_code,
    validate_resident_id,
    validate_uscc,
)

TODAY = date(2025, 6, 30)
PROPERTY = settings(max_examples=200, deadline=None)
SAMPLE_ID = "11010519491231002X"  # the well-known sample from GB 11643
SAMPLE_USCC = "91350100M000100Y43"  # the worked example from GB 32100
LONG_DIGIT_RUN = re.compile(r"[0-9]{5,}")


def id_check(first17: str) -> str:
    """ISO 7064 MOD 11-2 in its recursive form, independent of the module's weight table."""
    remainder = 0
    for digit in first17:
        remainder = (remainder + int(digit)) * 2 % 11
    value = (12 - remainder) % 11
    return "X" if value == 10 else str(value)


def with_id_check(first17: str) -> str:
    return first17 + id_check(first17)


def make_id(area: str, born: date, sequence: str) -> str:
    return with_id_check(f"{area}{born:%Y%m%d}{sequence}")


def uscc_check(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_CHARSET[(31 - total % 31) % 31]


def make_uscc(first17: str) -> str:
    return first17 + uscc_check(first17)


def assert_no_pii(error: InvalidIdentifier) -> None:
    assert not LONG_DIGIT_RUN.search(str(error))
    assert not LONG_DIGIT_RUN.search(repr(error))


# ---------------------------------------------------------------- the error type
def test_invalid_identifier_is_a_value_error_that_survives_pickling() -> None:
    error = InvalidIdentifier(IdentifierKind.PHONE, "empty", "phone number is empty")

    copy: InvalidIdentifier = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert issubclass(InvalidIdentifier, ValueError)
    assert (copy.kind, copy.rule, str(copy)) == (IdentifierKind.PHONE, "empty", str(error))


# ---------------------------------------------------------------- resident ID numbers
def test_reference_check_formula_agrees_with_the_published_sample() -> None:
    assert id_check(SAMPLE_ID[:17]) == "X"
    assert resident_id_check_char(SAMPLE_ID[:17]) == "X"


def test_published_sample_is_valid() -> None:
    assert validate_resident_id(SAMPLE_ID, today=TODAY) == SAMPLE_ID


def test_lower_case_x_whitespace_and_full_width_digits_are_normalised() -> None:
    assert validate_resident_id(" 11010519491231002x\t", today=TODAY) == SAMPLE_ID
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in SAMPLE_ID)  # １１０…Ｘ
    assert validate_resident_id(full_width, today=TODAY) == SAMPLE_ID


def test_legacy_15_digit_number_becomes_18_characters() -> None:
    assert validate_resident_id("110105491231002", today=TODAY) == SAMPLE_ID
    legacy = "411202" + "850704" + "123"
    assert validate_resident_id(legacy, today=TODAY) == make_id("411202", date(1985, 7, 4), "123")


def test_birth_date_is_read_from_18_and_15_digit_numbers() -> None:
    assert birth_date_from_resident_id(SAMPLE_ID, today=TODAY) == date(1949, 12, 31)
    assert birth_date_from_resident_id("110105491231002", today=TODAY) == date(1949, 12, 31)


def test_birth_date_today_is_accepted() -> None:
    number = make_id("411202", TODAY, "001")
    assert birth_date_from_resident_id(number, today=TODAY) == TODAY


def test_residence_permit_for_taiwan_residents_is_accepted() -> None:
    permit = make_id("830000", date(1990, 1, 1), "001")
    assert validate_resident_id(permit, today=TODAY) == permit


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        pytest.param(SAMPLE_ID[:17], "length", id="17 characters"),
        pytest.param(SAMPLE_ID + "1", "length", id="19 characters"),
        pytest.param("", "length", id="empty"),
        pytest.param("1101051949A231002X", "characters", id="letter among the first 17"),
        pytest.param("11010519491231002Y", "characters", id="check character not digit or X"),
        pytest.param("11010549123100A", "characters", id="15 characters, not all digits"),
        pytest.param("110105194912310021", "check_character", id="wrong check character"),
        pytest.param("110105194912310X2X", "characters", id="X inside the number"),
        pytest.param(make_id("991202", date(1980, 1, 1), "001"), "province", id="province 99"),
        pytest.param(make_id("101202", date(1980, 1, 1), "001"), "province", id="province 10"),
        pytest.param(with_id_check("41120220230230001"), "birth_date", id="30 February"),
        pytest.param(with_id_check("41120219801301001"), "birth_date", id="month 13"),
        pytest.param(with_id_check("41120219800100001"), "birth_date", id="day 00"),
        pytest.param(make_id("411202", date(1899, 12, 31), "001"), "birth_date",
                     id="born before 1900"),
        pytest.param(make_id("411202", TODAY + timedelta(days=1), "001"), "birth_date",
                     id="born tomorrow"),
    ],
)
def test_invalid_resident_id_names_the_broken_rule_without_echoing_it(
    number: str, rule: str
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_resident_id(number, today=TODAY)

    assert caught.value.kind is IdentifierKind.RESIDENT_ID
    assert caught.value.rule == rule
    assert_no_pii(caught.value)


def test_letter_in_resident_id_is_reported_as_such() -> None:
    with pytest.raises(InvalidIdentifier, match="first 17 characters must be digits"):
        validate_resident_id("1101051949A231002X", today=TODAY)


def test_future_birth_date_is_judged_against_the_system_date_by_default() -> None:
    tomorrow = make_id("411202", date.today() + timedelta(days=1), "001")

    with pytest.raises(InvalidIdentifier, match="in the future"):
        validate_resident_id(tomorrow)
    born_today = make_id("411202", date.today(), "001")
    assert validate_resident_id(born_today) == born_today


def test_check_character_function_rejects_anything_but_17_digits() -> None:
    for bad in ("1234567890123456", "123456789012345678", "1234567890123456X"):
        with pytest.raises(InvalidIdentifier):
            resident_id_check_char(bad)


def test_mask_resident_id_keeps_first_and_last_four() -> None:
    assert mask_resident_id(SAMPLE_ID) == "1101**********002X"
    assert mask_resident_id(" 11010519491231002x ") == "1101**********002X"
    assert mask_resident_id("110105491231002") == "1101*******1002"
    assert mask_resident_id("4112021980") == "**********"  # too short to show 8 of it


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
areas = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
sequences = st.text(alphabet="0123456789", min_size=3, max_size=3)
resident_ids = st.builds(make_id, areas, birth_dates, sequences)


@PROPERTY
@given(area=areas, born=birth_dates, sequence=sequences)
def test_any_well_formed_resident_id_validates(area: str, born: date, sequence: str) -> None:
    number = make_id(area, born, sequence)

    assert validate_resident_id(number.lower(), today=TODAY) == number
    assert birth_date_from_resident_id(number, today=TODAY) == born
    assert resident_id_check_char(number[:17]) == number[17]


@PROPERTY
@given(
    area=areas,
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    sequence=sequences,
)
def test_any_legacy_number_upgrades_to_the_18_character_form(
    area: str, born: date, sequence: str
) -> None:
    legacy = f"{area}{born:%y%m%d}{sequence}"

    assert validate_resident_id(legacy, today=TODAY) == make_id(area, born, sequence)


@PROPERTY
@given(number=resident_ids, data=st.data())
def test_any_single_character_change_of_a_resident_id_fails(
    number: str, data: st.DataObject
) -> None:
    position = data.draw(st.integers(min_value=0, max_value=17))
    replacement = data.draw(st.sampled_from([c for c in "0123456789X" if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1:]

    with pytest.raises(InvalidIdentifier):
        validate_resident_id(changed, today=TODAY)


@PROPERTY
@given(number=resident_ids)
def test_masked_resident_id_hides_the_birth_date_and_sequence(number: str) -> None:
    masked = mask_resident_id(number)

    assert masked == number[:4] + "*" * 10 + number[14:]


# ---------------------------------------------------------------- unified social credit codes
def test_reference_uscc_formula_agrees_with_the_published_sample() -> None:
    assert uscc_check(SAMPLE_USCC[:17]) == SAMPLE_USCC[17]
    assert uscc_check_char(SAMPLE_USCC[:17]) == SAMPLE_USCC[17]


def test_uscc_is_upper_cased_and_stripped() -> None:
    assert validate_uscc(f"  {SAMPLE_USCC.lower()} ") == SAMPLE_USCC


def test_uscc_of_a_body_registered_at_national_level_is_accepted() -> None:
    ministry = make_uscc("11100000000013127")  # division part 100000: 国家级登记
    assert validate_uscc(ministry) == ministry


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        pytest.param(SAMPLE_USCC[:17], "length", id="17 characters"),
        pytest.param(SAMPLE_USCC + "0", "length", id="19 characters"),
        *(
            pytest.param(SAMPLE_USCC[:17] + letter, "characters", id=f"{letter} as check")
            for letter in "IOSVZ"
        ),
        *(
            pytest.param(SAMPLE_USCC[:9] + letter + SAMPLE_USCC[10:], "characters",
                         id=f"{letter} in the body")
            for letter in "IOSVZ"
        ),
        pytest.param("91350100M000100Y4-", "characters", id="punctuation"),
        pytest.param(SAMPLE_USCC[:17] + "4", "check_character", id="wrong check character"),
        pytest.param(make_uscc("91990100M000100Y4"), "province", id="division province 99"),
        pytest.param(make_uscc("91350001M000100Y4"), "structure", id="division 350001"),
        pytest.param(make_uscc("9135AB00M000100Y4"), "characters", id="letters in division"),
    ],
)
def test_invalid_uscc_names_the_broken_rule(code: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_uscc(code)

    assert caught.value.kind is IdentifierKind.USCC
    assert caught.value.rule == rule


def test_uscc_check_character_function_rejects_letters_outside_the_set() -> None:
    with pytest.raises(InvalidIdentifier):
        uscc_check_char("91350100I000100Y4")
    with pytest.raises(InvalidIdentifier):
        uscc_check_char("91350100M000100Y")


@st.composite
def six_digit_divisions(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    city = draw(st.integers(min_value=0, max_value=99))
    county = draw(st.integers(min_value=0, max_value=99)) if city else 0
    return f"{province}{city:02d}{county:02d}"


usccs = st.builds(
    lambda head, division, body: make_uscc(head + division + body),
    st.text(alphabet=USCC_CHARSET, min_size=2, max_size=2),
    six_digit_divisions(),
    st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9),
)


@PROPERTY
@given(code=usccs)
def test_any_well_formed_uscc_validates(code: str) -> None:
    assert validate_uscc(code.lower()) == code
    assert uscc_check_char(code[:17]) == code[17]


@PROPERTY
@given(code=usccs, data=st.data())
def test_any_single_character_change_of_a_uscc_fails(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=17))
    alphabet = USCC_CHARSET + "IOSVZ"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != code[position]]))
    changed = code[:position] + replacement + code[position + 1:]

    with pytest.raises(InvalidIdentifier):
        validate_uscc(changed)


# ---------------------------------------------------------------- administrative divisions
@pytest.mark.parametrize(
    ("code", "level", "parent", "prefix"),
    [
        ("410000", RegionLevel.PROVINCE, None, "41"),
        ("411200", RegionLevel.CITY, "410000", "4112"),
        ("411202", RegionLevel.COUNTY, "411200", "411202"),
        ("419001", RegionLevel.COUNTY, "410000", "419001"),  # 济源市, directly under 河南
        ("110100", RegionLevel.CITY, "110000", "1101"),
        ("110101", RegionLevel.COUNTY, "110100", "110101"),  # 东城区 under 北京市市辖区
        ("411202001", RegionLevel.TOWNSHIP, "411202", "411202001"),
        ("441900003", RegionLevel.TOWNSHIP, "441900", "441900003"),  # 东莞 has no counties
        ("411202001201", RegionLevel.VILLAGE, "411202001", "411202001201"),
    ],
)
def test_division_level_parent_and_prefix(
    code: str, level: RegionLevel, parent: str | None, prefix: str
) -> None:
    assert validate_division_code(f" {code} ") == code
    assert division_level(code) is level
    assert parent_division(code) == parent
    assert division_prefix(code) == prefix
    assert division_of_prefix(prefix) == code  # a jurisdiction's prefix back to its region


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        pytest.param("41120A", "characters", id="letter"),
        pytest.param("41120200A", "characters", id="letter in township part"),
        pytest.param("411202001 01", "characters", id="space in village part"),
        pytest.param("41120", "length", id="5 digits"),
        pytest.param("4112021", "length", id="7 digits"),
        pytest.param("4112020010", "length", id="10 digits"),
        pytest.param("991200", "province", id="province 99"),
        pytest.param("470000", "province", id="province 47 unassigned"),
        pytest.param("100000", "province", id="national 100000 is no division"),
        pytest.param("410001", "structure", id="city 00 with county 01"),
        pytest.param("410000001", "structure", id="township directly under a province"),
        pytest.param("411202000", "structure", id="township part 000"),
        pytest.param("411202001000", "structure", id="village part 000"),
        pytest.param("411202000001", "structure", id="village under township 000"),
    ],
)
def test_invalid_division_code_names_the_broken_rule(code: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_division_code(code)

    assert caught.value.kind is IdentifierKind.DIVISION_CODE
    assert caught.value.rule == rule


def test_division_helpers_reject_invalid_codes() -> None:
    for helper in (division_level, parent_division, division_prefix):
        with pytest.raises(InvalidIdentifier):
            helper("410001")
    for prefix in ("", "4", "411", "41120", "99"):  # no division code has these as its prefix
        with pytest.raises(InvalidIdentifier):
            division_of_prefix(prefix)


@st.composite
def division_codes(draw: st.DrawFn) -> str:
    code = draw(six_digit_divisions())
    depth = draw(st.integers(min_value=0, max_value=2)) if code[2:4] != "00" else 0
    for _ in range(depth):
        code += f"{draw(st.integers(min_value=1, max_value=999)):03d}"
    return code


@PROPERTY
@given(code=division_codes())
def test_every_code_lies_within_the_prefix_of_each_ancestor(code: str) -> None:
    ancestors: list[str] = []
    parent = parent_division(code)
    while parent is not None:
        ancestors.append(parent)
        parent = parent_division(parent)

    assert validate_division_code(code) == code
    assert len(ancestors) <= 4
    assert division_level(ancestors[-1] if ancestors else code) is RegionLevel.PROVINCE
    assert all(code.startswith(division_prefix(a)) for a in ancestors)


# ---------------------------------------------------------------- case numbers (案号)
REQUIRED_CASE_TYPES = (
    "民初", "民终", "民特", "民诉前调", "诉前调确", "诉前调书", "民申", "民再",
    "执", "执恢", "执保", "刑初", "刑终", "行初", "行终",
)


@pytest.mark.parametrize("type_code", REQUIRED_CASE_TYPES)
def test_required_case_types_parse(type_code: str) -> None:
    parsed = parse_case_number(f"(2024)豫1202{type_code}123号", today=TODAY)

    assert parsed == CaseNumber(2024, "豫1202", type_code, 123, legacy=False)
    assert CASE_TYPE_CODES[type_code]  # each has a Chinese description


@pytest.mark.parametrize("court", [*COURT_PROVINCE_ABBREVIATIONS, "豫12", "沪72", "最高法"])
def test_each_court_code_form_parses(court: str) -> None:
    assert parse_case_number(f"(2024){court}民终7号", today=TODAY).court_code == court


@pytest.mark.parametrize(
    "text",
    [
        "（2024）豫1202民初123号",
        "〔2024〕豫1202民初123号",
        "【2024】豫1202民初123号",
        " (2024) 豫1202 民初 0123 号 ",
        "（２０２４）豫１２０２民初１２３号",
    ],
)
def test_brackets_spaces_and_leading_zeros_are_normalised(text: str) -> None:
    assert parse_case_number(text, today=TODAY).normalized == "(2024)豫1202民初123号"


@pytest.mark.parametrize(
    ("text", "court", "type_code", "sequence"),
    [
        ("(2012)曲中法执字第66号", "曲中法", "执", 66),
        ("（2014）成民初字第123号", "成", "民初", 123),
        ("(2014)京执恢字第5号", "京", "执恢", 5),
        ("(2014)民申字第5号", "", "民申", 5),  # the Supreme People's Court wrote no court part
    ],
)
def test_pre_2016_case_numbers_parse_as_legacy(
    text: str, court: str, type_code: str, sequence: int
) -> None:
    parsed = parse_case_number(text, today=TODAY)

    assert parsed == CaseNumber(parsed.year, court, type_code, sequence, legacy=True)
    assert parsed.normalized == text.replace("（", "(").replace("）", ")")


def test_case_number_year_may_be_next_year_but_not_later() -> None:
    assert parse_case_number("(2026)豫民初1号", today=TODAY).year == 2026
    assert parse_case_number("(1949)豫民初1号", today=TODAY).year == 1949
    next_year = date.today().year + 1
    assert parse_case_number(f"({next_year})豫民初1号").year == next_year
    with pytest.raises(InvalidIdentifier, match="outside"):
        parse_case_number(f"({next_year + 1})豫民初1号")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        pytest.param("2024豫1202民初123号", "format", id="no year brackets"),
        pytest.param("(24)豫1202民初123号", "format", id="2-digit year"),
        pytest.param("(1948)豫1202民初123号", "year", id="before 1949"),
        pytest.param("(2027)豫1202民初123号", "year", id="two years ahead"),
        pytest.param("(2024)豫1202民初123", "format", id="missing 号"),
        pytest.param("(2024)豫1202民审123号", "case_type", id="unknown type"),
        pytest.param("(2024)最高法123号", "case_type", id="missing type"),
        pytest.param("(2024)豫1202123号", "court_code", id="type missing, digits run on"),
        pytest.param("(2024)成1202民初123号", "court_code", id="not a province abbreviation"),
        pytest.param("(2024)1202民初123号", "court_code", id="no court"),
        pytest.param("(2024)豫123民初1号", "court_code", id="3 court digits"),
        pytest.param("(2024)豫120212民初1号", "court_code", id="6 court digits"),
        pytest.param("(2024)豫1202民初号", "sequence", id="no sequence"),
        pytest.param("(2024)豫1202民初0号", "sequence", id="sequence 0"),
        pytest.param("(2014)成民一初字第1号", "case_type", id="legacy unknown type"),
        pytest.param("(2014)成12民初字第1号", "format", id="legacy court with digits"),
        pytest.param("(2014)成民初字第号", "sequence", id="legacy without sequence"),
        pytest.param("(2014)成民初字第1a号", "sequence", id="legacy letter in sequence"),
    ],
)
def test_invalid_case_number_names_the_broken_rule(text: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse_case_number(text, today=TODAY)

    assert caught.value.kind is IdentifierKind.CASE_NUMBER
    assert caught.value.rule == rule


# ---------------------------------------------------------------- phone numbers
@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("86-13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("19912345678", "19912345678"),
        ("0398-2812345", "0398-2812345"),
        ("03982812345", "0398-2812345"),
        ("(028)86123456", "028-86123456"),
        ("（028）86123456", "028-86123456"),
        ("028 8612 3456", "028-86123456"),
        ("028-8612-3456", "028-86123456"),  # dash groups of one number, not an extension
        ("010-88888888", "010-88888888"),
        ("0398-2812345转123", "0398-2812345"),
        ("0398-2812345 分机 8", "0398-2812345"),
        ("0398-2812345 ext. 45", "0398-2812345"),
        ("0398-2812345-123", "0398-2812345"),
        ("+86 10 8888 8888", "010-88888888"),
        ("+86 398 2812345", "0398-2812345"),
        ("+86 (0398) 2812345", "0398-2812345"),
    ],
)
def test_phone_numbers_normalise(text: str, normalised: str) -> None:
    assert normalize_phone(text) == normalised


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("  ", "empty", id="blank"),
        pytest.param("138 1234 567a", "characters", id="letter"),
        pytest.param("138.1234.5678", "characters", id="dots"),
        pytest.param("+1 202 555 0100", "country_code", id="foreign"),
        pytest.param("1381234567", "mobile", id="10-digit mobile"),
        pytest.param("138123456789", "mobile", id="12-digit mobile"),
        pytest.param("12812345678", "mobile", id="prefix 12"),
        pytest.param("+86 138 1234 567", "mobile", id="short mobile after +86"),
        pytest.param("13812345678-12", "mobile", id="mobile with extension"),
        pytest.param("2812345", "area_code", id="no area code"),
        pytest.param("3982812345", "area_code", id="area code without 0"),
        pytest.param("0012-2812345", "area_code", id="area code 00"),
        pytest.param("011-28123456", "area_code", id="area code 011"),
        pytest.param("010-2812345", "local_number", id="7 digits after 010"),
        pytest.param("0398-281234", "local_number", id="6-digit local"),
        pytest.param("0398-281234567", "local_number", id="9-digit local"),
        pytest.param("0398-0812345", "local_number", id="local starts 0"),
        pytest.param("0398-1812345", "local_number", id="local starts 1"),
    ],
)
def test_invalid_phone_names_the_broken_rule_without_echoing_it(text: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_phone(text)

    assert caught.value.kind is IdentifierKind.PHONE
    assert caught.value.rule == rule
    assert_no_pii(caught.value)


def test_mask_phone_keeps_the_prefix_and_the_last_four_digits() -> None:
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("0398-2812345转12") == "0398-***2345"
    assert mask_phone("(028)86123456") == "028-****3456"
    assert mask_phone("138123") == "******"  # not a phone number: nothing shown


mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


@PROPERTY
@given(
    mobile=mobiles,
    country=st.sampled_from(["", "+86", "+86 ", "0086", "86-"]),
    separator=st.sampled_from(["", " ", "-"]),
)
def test_any_formatted_mobile_normalises_to_its_11_digits(
    mobile: str, country: str, separator: str
) -> None:
    text = country + separator.join((mobile[:3], mobile[3:7], mobile[7:]))

    assert normalize_phone(text) == mobile
    assert mask_phone(text) == f"{mobile[:3]}****{mobile[7:]}"


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    area = draw(st.sampled_from(["010", "020", "028", "0398", "0755", "0991"]))
    length = 8 if len(area) == 3 else draw(st.sampled_from([7, 8]))
    local = draw(st.sampled_from("23456789")) + draw(
        st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1)
    )
    return area, local


@PROPERTY
@given(
    landline=landlines(),
    layout=st.sampled_from(["{a}-{l}", "({a}){l}", "{a} {l}", "{a}{l}"]),
    extension=st.sampled_from(["", "转1", "-123", " 分机 8"]),
)
def test_any_formatted_landline_normalises_to_area_dash_local(
    landline: tuple[str, str], layout: str, extension: str
) -> None:
    area, local = landline

    assert normalize_phone(layout.format(a=area, l=local) + extension) == f"{area}-{local}"
