"""Masking personal identifiers in free text (脱敏): anything shaped like a resident ID number,
a mobile or a landline number. Used for logs, audit variables, stored staff notes and error
messages that quote a source.

What is masked, with full-width digits, brackets, plus and dash (１３８, （０３９８）, ＋８６)
and the ideographic space read as their ASCII forms, as the validators fold them:

- an 18-character ID number (17 digits and a check digit or X), also right after letters
  (``ID411282…``) when its check character is right — a record key ``J4112022026…``, whose
  digits rarely carry one, is left as it is — and a 15-digit one issued before 1999, not
  inside a run of letters and digits;
- a mobile written whole or in 3-4-4 groups (``138 1234 5678``), with the country code
  (``+86``, ``0086``, ``86``) or without;
- a landline: an area code the validators accept (010, 02x, 0[3-9]xx), bracketed or not, and a
  local number starting 2–9 whole or in two groups (``(0398) 281 2345``, ``028-8612-3456``),
  or after the country code without the trunk 0 (``+86 10 8888 6666``).

Groups are separated by a dash, by spaces (any number) or by both. Not masked: other
groupings the validators would still accept (``1381 234 5678``, ``0398 28 12 345``), and
runs that only look alike: times (``0900-1200-1330``), card-like groups of four
(``0571 8888 6666 0000``), UUIDs, dates, amounts, coordinates, 案号 and matter numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from domain.validators import resident_id_check_char

# The characters of a number people type full-width, and the ASCII the validators fold them
# to (NFKC), one for one: a match in the folded text is at the same place in the original.
_FOLD = str.maketrans("０１２３４５６７８９＋－（）　Ｘｘ", "0123456789+-() Xx")
_SEPARATOR = r"(?:[ \t]*-[ \t]*|[ \t]+)?"
_COUNTRY = rf"(?:(?:\+|00)?86{_SEPARATOR})"
# Not inside a key of letters and digits (J411202202605010012 is a record's key).
_ALONE_BEFORE = r"(?<![0-9A-Za-z])"
_RESIDENT_ID = re.compile(r"(?<![0-9])([0-9]{4})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9])")
# 6-digit division, birth date as YYMMDD, 3-digit sequence: 15 digits, no check character
_LEGACY_ID = re.compile(
    rf"{_ALONE_BEFORE}([1-8][0-9]{{3}})[0-9]{{4}}(?:0[1-9]|1[0-2])(?:[0-2][0-9]|3[01])"
    r"([0-9]{3})(?![0-9])"
)
_MOBILE = re.compile(
    rf"(?<![0-9])({_COUNTRY}?1[3-9][0-9]){_SEPARATOR}[0-9]{{4}}{_SEPARATOR}([0-9]{{4}})(?![0-9])"
)
# Four or more groups of four digits (a card number's shape, ``6222 0571 8888 6666``) are
# read as one and left as they are; a landline is not a middle group of a UUID or a
# hyphenated key (``…a716-0312-4567-…``) nor a coordinate's decimals (``104.0398212``).
_LANDLINE = re.compile(
    r"(?<![0-9])(?P<groups>[0-9]{4}(?:[ \t]+[0-9]{4}){3,})(?![0-9])"
    r"|(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)(?<![0-9]\.)"
    r"(?P<area>\(?(?:010|02[0-9]|0[3-9][0-9]{2})\)?"
    rf"|{_COUNTRY}\(?(?:10|2[0-9]|[3-9][0-9]{{2}})\)?)"
    rf"{_SEPARATOR}[2-9][0-9]{{2,3}}{_SEPARATOR}(?P<last>[0-9]{{4}})(?![0-9])"
)


_FOUR_DIGITS = re.compile("[0-9０-９]{4}")
"""Every shape masked here holds four digits in a row (full-width ones fold to them): a
text without such a run has nothing to mask."""


def mask_text(text: str) -> str:
    """Mask ID-number-, mobile- and landline-shaped substrings in free text."""
    if _FOUR_DIGITS.search(text) is None:
        return text
    return _mask_shapes(text)


def _mask_shapes(text: str) -> str:
    text = _masked(_RESIDENT_ID, _resident_id_masked, text)
    text = _masked(_LEGACY_ID, lambda m: f"{m[1]}********{m[2]}", text)
    text = _masked(_MOBILE, lambda m: f"{m[1]}****{m[2]}", text)
    return _masked(_LANDLINE, _landline_masked, text)


def _resident_id_masked(match: re.Match[str]) -> str:
    number, start = match[0], match.start()
    after_letter = start > 0 and match.string[start - 1].isascii() and (
        match.string[start - 1].isalpha()
    )
    if after_letter and resident_id_check_char(number[:17]) != number[17].upper():
        return number  # a key of letters and digits (J4112022026…), not an ID number
    return f"{match[1]}**********{match[2][-4:]}"


def _landline_masked(match: re.Match[str]) -> str:
    if match["groups"]:
        return match[0]
    return f"{match['area']}-****{match['last']}"


def _masked(pattern: re.Pattern[str], mask: Callable[[re.Match[str]], str], text: str) -> str:
    """``pattern.sub(mask, text)`` matched on the folded text: the masked number is written
    in ASCII, everything around it as it was (a note's full-width punctuation kept)."""
    if text.isascii():
        return pattern.sub(mask, text)
    folded = text.translate(_FOLD)
    pieces: list[str] = []
    end = 0
    for match in pattern.finditer(folded):
        pieces += (text[end : match.start()], mask(match))
        end = match.end()
    return "".join(pieces) + text[end:] if pieces else text
