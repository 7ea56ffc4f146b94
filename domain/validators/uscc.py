"""Unified social credit codes (统一社会信用代码): GB 32100-2015, MOD 31."""

from __future__ import annotations

from typing import Final

from domain.validators.divisions import _six_digit_problem
from domain.validators.errors import _USCC, InvalidIdentifier, _clean

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
