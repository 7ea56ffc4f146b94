"""Phone numbers (电话号码): mainland mobiles and landlines with area code."""

from __future__ import annotations

import re
from typing import Final

from domain.validators.errors import _PHONE, InvalidIdentifier, _clean, _is_digits

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
