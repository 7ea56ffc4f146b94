"""Masking personal identifiers in free text (脱敏): anything shaped like a resident ID number,
a mobile or a landline number. Used for logs and for error messages that quote a source.

Shapes are those the validators accept (``domain.validators``), not only the canonical ones:
a 15-digit ID number issued before 1999, and phones written with spaces, dashes, a bracketed
area code or the country code (``+86 138-1234-5678``, ``(0398) 281 2345``), as people type them.
"""

from __future__ import annotations

import re

_SEPARATOR = r"[ \-]?"
_COUNTRY = rf"(?:(?:\+|00)?86{_SEPARATOR})?"
_RESIDENT_ID = re.compile(r"(?<![0-9])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9])")
# 6-digit division, birth date as YYMMDD, 3-digit sequence: 15 digits, no check character
_LEGACY_ID = re.compile(
    r"(?<![0-9])([1-8]\d{3})\d{4}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])(\d{3})(?![0-9])"
)
_MOBILE = re.compile(
    rf"(?<![0-9])({_COUNTRY}1[3-9]\d){_SEPARATOR}\d{{4}}{_SEPARATOR}(\d{{4}})(?![0-9])"
)
_LANDLINE = re.compile(
    rf"(?<![0-9])(\(?0\d{{2,3}}\)?){_SEPARATOR}\d{{3,4}}{_SEPARATOR}(\d{{4}})(?![0-9])"
)


def mask_text(text: str) -> str:
    """Mask ID-number-, mobile- and landline-shaped substrings in free text."""
    text = _RESIDENT_ID.sub(lambda m: f"{m[1]}**********{m[2][-4:]}", text)
    text = _LEGACY_ID.sub(lambda m: f"{m[1]}********{m[2]}", text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[2]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}-****{m[2]}", text)
