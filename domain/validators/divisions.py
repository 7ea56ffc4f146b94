"""Administrative division codes (行政区划代码): GB/T 2260, 9- and 12-digit statistical codes."""

from __future__ import annotations

from typing import Final

from domain.enums import RegionLevel
from domain.validators.errors import _DIV, InvalidIdentifier, Rule, _clean, _is_digits

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


def division_of_prefix(prefix: str) -> str:
    """The division code whose :func:`division_prefix` is ``prefix`` (a jurisdiction's prefix
    back to its region): "41" → 410000, "4112" → 411200, a county's or finer code itself.
    ``InvalidIdentifier`` for a prefix no division code has."""
    code = prefix.ljust(6, "0")
    if division_prefix(code) != prefix:
        raise InvalidIdentifier(_DIV, "structure", "not the prefix of a division code")
    return code
