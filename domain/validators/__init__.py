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

from domain.validators.case_numbers import (
    CASE_TYPE_CODES,
    COURT_PROVINCE_ABBREVIATIONS,
    SUPREME_COURT_CODE,
    CaseNumber,
    parse_case_number,
)
from domain.validators.divisions import (
    PROVINCE_CODES,
    division_level,
    division_of_prefix,
    division_prefix,
    parent_division,
    validate_division_code,
)
from domain.validators.errors import IdentifierKind, InvalidIdentifier, Rule
from domain.validators.phones import mask_phone, normalize_phone
from domain.validators.resident_id import (
    birth_date_from_resident_id,
    mask_resident_id,
    resident_id_check_char,
    validate_resident_id,
)
from domain.validators.uscc import USCC_CHARSET, uscc_check_char, validate_uscc

__all__ = [
    "CASE_TYPE_CODES",
    "COURT_PROVINCE_ABBREVIATIONS",
    "PROVINCE_CODES",
    "SUPREME_COURT_CODE",
    "USCC_CHARSET",
    "CaseNumber",
    "IdentifierKind",
    "InvalidIdentifier",
    "Rule",
    "birth_date_from_resident_id",
    "division_level",
    "division_of_prefix",
    "division_prefix",
    "mask_phone",
    "mask_resident_id",
    "normalize_phone",
    "parent_division",
    "parse_case_number",
    "resident_id_check_char",
    "uscc_check_char",
    "validate_division_code",
    "validate_resident_id",
    "validate_uscc",
]
