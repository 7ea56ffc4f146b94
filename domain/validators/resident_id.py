"""Resident ID numbers (居民身份证号码): GB 11643-1999, ISO 7064 MOD 11-2."""

from __future__ import annotations

from datetime import date
from typing import Final

from domain.validators.divisions import PROVINCE_CODES
from domain.validators.errors import _ID, InvalidIdentifier, _clean, _is_digits

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
