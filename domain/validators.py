"""Validators for the identifiers the sources send (标识符校验).

Each ``validate_*`` / ``normalize_*`` / ``parse_*`` function takes raw text from a source and
returns the one canonical form the hub stores and matches on, or raises
:class:`InvalidIdentifier`. The functions are pure (stdlib only, no I/O); the one clock read,
``date.today()``, happens only when the caller passes no ``today``.

Messages say which rule failed but never repeat an ID number or a phone number: both are
personal information (个人信息) and messages end up in logs and dead letters. Log
:func:`mask_resident_id` / :func:`mask_phone` when a line must show which one it was.

Standards:

- resident ID number (居民身份证号码): GB 11643-1999, check character ISO 7064 MOD 11-2;
- unified social credit code (统一社会信用代码, USCC): GB 32100-2015, MOD 31 check;
- administrative division code (行政区划代码): GB/T 2260 for 6 digits, extended to 9 and 12
  digits by the statistical division codes (统计用区划代码) of the National Bureau of Statistics;
- case number (案号): 最高人民法院《关于人民法院案件案号的若干规定》(法〔2015〕137号).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final, Literal

from domain.enums import RegionLevel

Rule = Literal[
    "empty", "length", "characters", "check_character", "province", "birth_date", "structure",
    "year", "court_code", "case_type", "sequence", "format", "country_code", "mobile",
    "area_code", "local_number",
]


class IdentifierKind(StrEnum):
    """Which identifier failed validation."""

    RESIDENT_ID = "RESIDENT_ID"  # 居民身份证号码
    USCC = "USCC"  # 统一社会信用代码
    DIVISION_CODE = "DIVISION_CODE"  # 行政区划代码
    CASE_NUMBER = "CASE_NUMBER"  # 案号
    PHONE = "PHONE"  # 电话号码


class InvalidIdentifier(ValueError):
    """An identifier breaks a rule of its standard.

    ``kind`` and ``rule`` are stable codes for callers (a dead letter's reason, a GraphQL
    ``BAD_USER_INPUT`` error); ``str(error)`` is the human message, which never contains the
    identifier itself.
    """

    def __init__(self, kind: IdentifierKind, rule: Rule, message: str) -> None:
        super().__init__(kind, rule, message)  # all in args, so the error pickles intact
        self.kind = kind
        self.rule: Rule = rule
        self.message = message

    def __str__(self) -> str:
        return self.message


_ID: Final = IdentifierKind.RESIDENT_ID
_USCC: Final = IdentifierKind.USCC
_DIV: Final = IdentifierKind.DIVISION_CODE
_CASE: Final = IdentifierKind.CASE_NUMBER
_PHONE: Final = IdentifierKind.PHONE


def _clean(s: str) -> str:
    # NFKC folds full-width digits, letters and brackets (１２Ｘ（）) to ASCII.
    return unicodedata.normalize("NFKC", s).strip()


def _is_digits(s: str) -> bool:
    return s.isascii() and s.isdigit()  # str.isdigit alone accepts ², ٣ and other digits


# ---------------------------------------------------------------- administrative divisions
PROVINCE_CODES: Final = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
})
_PROVINCE_DIRECT_CITY_PART: Final = "90"  # 省直辖县级行政区划, e.g. 419001 济源市


def _six_digit_problem(code: str) -> tuple[Rule, str] | None:
    """Why a 6-digit code breaks GB/T 2260's structure, or None when it does not."""
    if len(code) != 6 or not _is_digits(code):
        return "characters", "must be 6 digits"
    if code[:2] not in PROVINCE_CODES:
        return "province", f"starts with {code[:2]}, which is not a GB/T 2260 province code"
    if code[2:4] == "00" and code[4:] != "00":
        return "structure", "has city part 00, so its county part must be 00 too"
    return None


def validate_division_code(s: str) -> str:
    """Check a 6-digit (county and above), 9-digit (township) or 12-digit (village) code.

    A township's first six digits may be a city without districts (不设区的地级市, e.g.
    东莞 441900003), but never a province.
    """
    code = _clean(s)
    if not _is_digits(code):
        raise InvalidIdentifier(_DIV, "characters", "division code must contain only digits")
    if len(code) not in (6, 9, 12):
        raise InvalidIdentifier(
            _DIV, "length",
            f"division code must have 6, 9 or 12 digits, got {len(code)}",
        )
    problem = _six_digit_problem(code[:6])
    if problem is not None:
        raise InvalidIdentifier(_DIV, problem[0], f"division code {problem[1]}")
    if len(code) >= 9 and code[2:4] == "00":
        raise InvalidIdentifier(
            _DIV, "structure", "a township code must lie under a city or county, not a province"
        )
    if len(code) >= 9 and code[6:9] == "000":
        raise InvalidIdentifier(_DIV, "structure", "township part (digits 7–9) must not be 000")
    if len(code) == 12 and code[9:] == "000":
        raise InvalidIdentifier(_DIV, "structure", "village part (digits 10–12) must not be 000")
    return code


def _level(code: str) -> RegionLevel:
    """The level of an already validated code."""
    if len(code) == 12:
        return RegionLevel.VILLAGE
    if len(code) == 9:
        return RegionLevel.TOWNSHIP
    if code[2:] == "0000":
        return RegionLevel.PROVINCE
    return RegionLevel.CITY if code[4:] == "00" else RegionLevel.COUNTY


def division_level(code: str) -> RegionLevel:
    """The level of a division code (行政区划层级)."""
    return _level(validate_division_code(code))


def parent_division(code: str) -> str | None:
    """The code one level up, or None for a province.

    A county directly under its province (city part 90, e.g. 419001) has the province as
    parent; a district of a municipality has the municipality's 市辖区 (110101 → 110100).
    """
    code = validate_division_code(code)
    level = _level(code)
    if level is RegionLevel.PROVINCE:
        return None
    if level in (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP):
        return code[:-3]
    if level is RegionLevel.COUNTY and code[2:4] != _PROVINCE_DIRECT_CITY_PART:
        return code[:4] + "00"
    return code[:2] + "0000"


def division_prefix(code: str) -> str:
    """The prefix every code beneath ``code`` (and ``code`` itself) starts with.

    410000 → "41", 411200 → "4112"; county, township and village codes are their own prefix.
    """
    code = validate_division_code(code)
    level = _level(code)
    if level is RegionLevel.PROVINCE:
        return code[:2]
    return code[:4] if level is RegionLevel.CITY else code


# ---------------------------------------------------------------- resident ID numbers
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS: Final = "10X98765432"
# Residence permits for Taiwan residents (台湾居民居住证) use GB 11643 numbers starting 83;
# those for Hong Kong and Macao residents start 81 / 82, already province codes.
_ID_PROVINCES: Final = PROVINCE_CODES | {"83"}
_EARLIEST_BIRTH: Final = date(1900, 1, 1)


def resident_id_check_char(first17: str) -> str:
    """The MOD 11-2 check character (校验码) for the first 17 digits of a resident ID."""
    if len(first17) != 17 or not _is_digits(first17):
        raise InvalidIdentifier(_ID, "characters", "a check character needs exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _upgrade_legacy_id(number: str) -> str:
    """Turn a 15-digit pre-1999 number (born 19YY) into its 18-character form."""
    if not _is_digits(number):
        raise InvalidIdentifier(_ID, "characters", "a 15-digit resident ID must be all digits")
    first17 = number[:6] + "19" + number[6:]
    return first17 + resident_id_check_char(first17)


def _validated_id(s: str, today: date | None) -> tuple[str, date]:
    number = _clean(s).upper()
    if len(number) == 15:
        number = _upgrade_legacy_id(number)
    if len(number) != 18:
        raise InvalidIdentifier(
            _ID, "length",
            f"resident ID must have 18 characters (or 15 digits if issued before 1999), "
            f"got {len(number)}",
        )
    if not _is_digits(number[:17]):
        raise InvalidIdentifier(
            _ID, "characters", "resident ID: the first 17 characters must be digits"
        )
    if number[17] != "X" and not _is_digits(number[17]):
        raise InvalidIdentifier(
            _ID, "characters", "resident ID: the last character must be a digit or X"
        )
    if resident_id_check_char(number[:17]) != number[17]:
        raise InvalidIdentifier(_ID, "check_character", "resident ID check character mismatch")
    if number[:2] not in _ID_PROVINCES:
        raise InvalidIdentifier(
            _ID, "province", "resident ID: the first two digits are not a province code"
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidIdentifier(
            _ID, "birth_date", "resident ID: birth date (characters 7–14) is not a calendar date"
        ) from exc
    if born < _EARLIEST_BIRTH:
        raise InvalidIdentifier(_ID, "birth_date", "resident ID: birth date is before 1900")
    if born > (today if today is not None else date.today()):
        raise InvalidIdentifier(_ID, "birth_date", "resident ID: birth date is in the future")
    return number, born


def validate_resident_id(s: str, *, today: date | None = None) -> str:
    """The 18-character form of a resident ID (upper-case X); 15-digit numbers are upgraded.

    ``today`` (default: the system date) bounds the birth date.
    """
    return _validated_id(s, today)[0]


def birth_date_from_resident_id(s: str, *, today: date | None = None) -> date:
    """The birth date encoded in a resident ID, after validating it."""
    return _validated_id(s, today)[1]


def mask_resident_id(s: str) -> str:
    """First 4 and last 4 characters, the rest starred: 4112**********1234.

    Never raises, so it can label invalid input in logs; text shorter than 15 characters
    is starred in full, since keeping 8 of it would reveal most of it.
    """
    number = _clean(s).upper()
    if len(number) < 15:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# ---------------------------------------------------------------- unified social credit codes
USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_USCC_VALUES: Final = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_NATIONAL_REGISTRATION: Final = "100000"  # bodies registered at national level (e.g. ministries)


def uscc_check_char(first17: str) -> str:
    """The MOD 31 check character for the first 17 characters of a USCC (upper-case)."""
    if len(first17) != 17 or any(c not in _USCC_VALUES for c in first17):
        raise InvalidIdentifier(
            _USCC, "characters", "a check character needs exactly 17 characters of the USCC set"
        )
    total = sum(_USCC_VALUES[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(s: str) -> str:
    """The upper-case form of a unified social credit code (统一社会信用代码)."""
    code = _clean(s).upper()
    if len(code) != 18:
        raise InvalidIdentifier(_USCC, "length", f"USCC must have 18 characters, got {len(code)}")
    outside = "".join(sorted({c for c in code if c not in _USCC_VALUES}))
    if outside:
        raise InvalidIdentifier(
            _USCC, "characters",
            f"USCC contains {outside!r}, outside the GB 32100 set (digits and capitals "
            f"except I, O, S, V, Z)",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidIdentifier(_USCC, "check_character", "USCC check character mismatch")
    division = code[2:8]
    problem = None if division == _NATIONAL_REGISTRATION else _six_digit_problem(division)
    if problem is not None:
        raise InvalidIdentifier(
            _USCC, problem[0], f"USCC registration division (characters 3–8) {problem[1]}"
        )
    return code


# ---------------------------------------------------------------- case numbers (案号)
CASE_TYPE_CODES: Final[dict[str, str]] = {
    "民初": "民事一审", "民终": "民事二审", "民申": "民事申请再审审查",
    "民抗": "民事抗诉再审审查", "民监": "民事依职权再审审查", "民再": "民事再审",
    "民撤": "第三人撤销之诉", "民特": "民事特别程序", "民催": "公示催告",
    "民督": "申请支付令（督促程序）", "民破": "破产", "民算": "强制清算",
    "民辖": "民事管辖", "民辖终": "民事管辖上诉", "民他": "其他民事",
    "民诉前调": "诉前调解", "诉前调确": "诉前调解司法确认", "诉前调书": "诉前调解出具调解书",
    "刑初": "刑事一审", "刑终": "刑事二审", "刑申": "刑事申诉审查", "刑再": "刑事再审",
    "刑核": "刑事复核", "刑更": "刑罚与执行变更", "刑医": "强制医疗",
    "行初": "行政一审", "行终": "行政二审", "行申": "行政申请再审审查", "行再": "行政再审",
    "行审": "非诉行政行为申请执行审查",
    "执": "首次执行", "执恢": "恢复执行", "执保": "财产保全执行", "执异": "执行异议",
    "执复": "执行复议", "执监": "执行监督", "执协": "执行协调", "执他": "其他执行",
    "财保": "非诉财产保全审查", "司救": "司法救助", "司惩": "司法制裁审查",
}
# High courts use the abbreviation alone, intermediate courts add 2 digits, basic courts 4;
# 兵 is the Xinjiang Production and Construction Corps (新疆生产建设兵团) courts.
COURT_PROVINCE_ABBREVIATIONS: Final = (
    "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新兵"
)
SUPREME_COURT_CODE: Final = "最高法"
_BRACKETS: Final = str.maketrans({"〔": "(", "〕": ")", "【": "(", "】": ")", "[": "(", "]": ")"})
_COURT: Final = re.compile(rf"{SUPREME_COURT_CODE}|[{COURT_PROVINCE_ABBREVIATIONS}]([0-9]*)")
_HAN: Final = re.compile(r"[\u4e00-\u9fff]*")


@dataclass(frozen=True, slots=True)
class CaseNumber:
    """A parsed case number (案号).

    ``legacy`` marks the pre-2016 form "(2014)成民初字第123号", whose court part is the
    court's own free-text abbreviation (empty for the Supreme People's Court).
    """

    year: int
    court_code: str
    type_code: str
    sequence: int
    legacy: bool = False

    @property
    def normalized(self) -> str:
        """The canonical text with ASCII brackets, e.g. "(2024)豫1202民初123号"."""
        marker = "字第" if self.legacy else ""
        return f"({self.year}){self.court_code}{self.type_code}{marker}{self.sequence}号"


def _sequence(digits: str) -> int:
    if not digits or not _is_digits(digits):
        raise InvalidIdentifier(
            _CASE, "sequence", "case number: 号 must follow the sequence digits"
        )
    if int(digits) == 0:
        raise InvalidIdentifier(_CASE, "sequence", "case number: sequence must be at least 1")
    return int(digits)


def _parse_modern(year: int, body: str) -> CaseNumber:
    court = _COURT.match(body)
    if court is None:
        raise InvalidIdentifier(
            _CASE, "court_code",
            "case number: court code must be 最高法 or a province abbreviation such as 豫",
        )
    if court.group(1) is not None and len(court.group(1)) not in (0, 2, 4):
        raise InvalidIdentifier(
            _CASE, "court_code",
            f"case number: court code needs 2 (intermediate) or 4 (basic court) digits after "
            f"the abbreviation, got {len(court.group(1))}",
        )
    rest = body[court.end():]
    type_code = rest.rstrip("0123456789")
    if not type_code:
        raise InvalidIdentifier(
            _CASE, "case_type", "case number: the case type (e.g. 民初) is missing"
        )
    if type_code not in CASE_TYPE_CODES:
        raise InvalidIdentifier(_CASE, "case_type", f"case number: unknown case type {type_code!r}")
    return CaseNumber(year, court.group(), type_code, _sequence(rest[len(type_code):]))


def _parse_legacy(year: int, body: str) -> CaseNumber:
    prefix, _, digits = body.partition("字第")
    if not _HAN.fullmatch(prefix):
        raise InvalidIdentifier(
            _CASE, "format", "case number: text before 字第 must be Chinese characters only"
        )
    # The court part is free text, so the type is the longest known code the text ends with.
    start = next((i for i in range(len(prefix)) if prefix[i:] in CASE_TYPE_CODES), None)
    if start is None:
        raise InvalidIdentifier(
            _CASE, "case_type", f"case number: no known case type at the end of {prefix!r}"
        )
    return CaseNumber(year, prefix[:start], prefix[start:], _sequence(digits), legacy=True)


def parse_case_number(s: str, *, today: date | None = None) -> CaseNumber:
    """Parse a case number; the year must lie in 1949..next year (``today`` for tests).

    Full-width and other brackets （）〔〕【】 become (), whitespace inside is dropped and
    leading zeros of the sequence are removed.
    """
    text = "".join(_clean(s).translate(_BRACKETS).split())
    head = re.match(r"\(([0-9]{4})\)", text)
    if head is None:
        raise InvalidIdentifier(
            _CASE, "format", "case number must start with a 4-digit year in brackets, e.g. (2024)"
        )
    year = int(head.group(1))
    latest = (today if today is not None else date.today()).year + 1
    if not 1949 <= year <= latest:
        raise InvalidIdentifier(
            _CASE, "year", f"case number year {year} is outside 1949–{latest}"
        )
    if not text.endswith("号"):
        raise InvalidIdentifier(_CASE, "format", "case number must end with 号")
    body = text[head.end():-1]
    return _parse_legacy(year, body) if "字第" in body else _parse_modern(year, body)


# ---------------------------------------------------------------- phone numbers
_MOBILE: Final = re.compile(r"1[3-9][0-9]{9}")
_AREA_CODE: Final = re.compile(r"010|02[0-9]|0[3-9][0-9]{2}")  # 3 digits only for 010, 02x
_EXTENSION: Final = re.compile(r"(?:转|分机|ext\.?|x|#)[0-9]{1,6}$", re.IGNORECASE)
_SEPARATORS: Final = re.compile(r"[\s\-()]")


def _national_digits(text: str) -> tuple[str, bool]:
    """Separators removed and +86 / 0086 / 86 stripped; also whether a country code was."""
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+") and not digits.startswith("+86"):
        raise InvalidIdentifier(
            _PHONE, "country_code", "only mainland China (+86) numbers are accepted"
        )
    digits = digits.removeprefix("+")
    if not _is_digits(digits):
        raise InvalidIdentifier(
            _PHONE, "characters",
            "phone number may contain only digits, spaces, dashes, brackets and a leading +86",
        )
    # A domestic number starts with 0 or 1, so a leading 86 is always the country code.
    for prefix in ("0086", "86"):
        if digits.startswith(prefix):
            return digits[len(prefix):], True
    return digits, False


def _landline(national: str) -> str:
    area = _AREA_CODE.match(national)
    if area is None:
        raise InvalidIdentifier(
            _PHONE, "area_code",
            "landline area code must be 010, 02x or a 4-digit code 03xx–09xx",
        )
    local = national[area.end():]
    lengths = (8,) if len(area.group()) == 3 else (7, 8)
    if len(local) not in lengths:
        raise InvalidIdentifier(
            _PHONE, "local_number",
            f"landline local number after a {len(area.group())}-digit area code must have "
            f"{' or '.join(map(str, lengths))} digits, got {len(local)}",
        )
    if local[0] in "01":
        raise InvalidIdentifier(
            _PHONE, "local_number", "landline local number cannot start with 0 or 1"
        )
    return f"{area.group()}-{local}"


def _phone(text: str) -> str:
    """Normalise one number, extension already removed."""
    national, international = _national_digits(text)
    if _MOBILE.fullmatch(national):
        return national
    # "+86 10 …" is Beijing's 010 without its trunk 0, not a mobile.
    if national.startswith("1") and not (international and national.startswith("10")):
        problem = "start 13–19" if len(national) == 11 else f"have 11 digits, not {len(national)}"
        raise InvalidIdentifier(_PHONE, "mobile", f"mobile number must {problem}")
    if international and not national.startswith("0"):
        national = "0" + national  # the trunk prefix 0 is dropped after +86
    return _landline(national)


def normalize_phone(s: str) -> str:
    """A mainland mobile as 11 digits ("13812345678") or a landline as "0398-2812345".

    Extensions ("转123", "-123", "ext 123") are dropped: sources record them inconsistently,
    and the normalised value is what the blind index matches on. A trailing dash group
    counts as an extension only when the text before it is a complete landline, so
    "028-8612-3456" stays one number.
    """
    text = _EXTENSION.sub("", "".join(_clean(s).split())).rstrip("-")
    if not text:
        raise InvalidIdentifier(_PHONE, "empty", "phone number is empty")
    head, dash, extension = text.rpartition("-")
    if dash and _is_digits(extension) and len(extension) <= 6:
        try:
            landline = _phone(head)
        except InvalidIdentifier:
            landline = ""  # the text before the dash is no number of its own
        if "-" in landline:  # only landlines have extensions
            return landline
    return _phone(text)


def mask_phone(s: str) -> str:
    """"138****5678" for a mobile, "0398-***2345" for a landline (area code and last 4 kept).

    Never raises: text that is not a valid phone number is starred in full.
    """
    try:
        phone = normalize_phone(s)
    except InvalidIdentifier:
        return "*" * len(_clean(s))
    area, _, local = phone.rpartition("-")
    if area:
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return f"{phone[:3]}****{phone[-4:]}"
