"""The error every validator raises, and helpers shared by the validators."""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Final, Literal

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
