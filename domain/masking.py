"""Masking personal identifiers in free text (脱敏): anything shaped like a resident ID number,
a mobile or a landline number. Used for logs and for error messages that quote a source."""

from __future__ import annotations

import re

_RESIDENT_ID = re.compile(r"(?<![0-9])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9]\d)\d{4}(\d{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(0\d{2,3})-?\d{3,4}(\d{4})(?![0-9])")


def mask_text(text: str) -> str:
    """Mask ID-number-, mobile- and landline-shaped substrings in free text."""
    text = _RESIDENT_ID.sub(lambda m: f"{m[1]}**********{m[2][-4:]}", text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[2]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}-****{m[2]}", text)
