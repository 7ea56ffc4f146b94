"""Values any database will store (可入库的值): no NUL, no lone surrogate, bounded size.

PostgreSQL refuses a NUL character in text (and ``\\u0000`` in ``jsonb``), and no driver can
encode a lone surrogate (``\\ud800``) as UTF-8; either fails the whole transaction it is in.
Values a caller controls (headers, operation names, variables, token claims) pass through
here before they are written, so one hostile value cannot fail anybody else's write.
Escaping is visible (``\\u0000`` as six characters) and idempotent.
"""

from __future__ import annotations

import math
import re
from typing import Any

from domain.bounded import bounded_key

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ELLIPSIS = "…"
_MAX_INT = 2**63


def storable_text(value: str, max_length: int | None = None) -> str:
    """``value`` with NUL and lone surrogates written as ``\\uXXXX``, cut to ``max_length``."""
    if value.isascii() and "\x00" not in value:  # no surrogate in ASCII: nothing to write
        text = value
    else:
        text = _UNSTORABLE.sub(lambda m: f"\\u{ord(m[0]):04x}", value)
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1] + ELLIPSIS
    return text


def distinct_text(value: str, max_length: int) -> str:
    """``value`` made storable (:func:`storable_text`) and, when longer than ``max_length``,
    its start and a digest of the whole: two values cut alike stay apart (a key, not prose)."""
    return bounded_key(storable_text(value), max_length)


def optional_text(value: str | None, max_length: int | None = None) -> str | None:
    return None if value is None else storable_text(value, max_length)


def storable_json(
    value: Any, *, max_text: int = 200, max_items: int = 50, max_depth: int = 8
) -> Any:
    """A JSON value every string of which (keys too) is storable and at most ``max_text``
    long, with at most ``max_items`` entries per list or object and ``max_depth`` levels;
    what is cut is marked (``"…"`` as the last entry, ``"…": n`` for the keys left out)."""
    if isinstance(value, str):
        return storable_text(value, max_text)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float):  # JSON has no Infinity or NaN (``1e400`` parses to inf)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, int):  # a 5,000-digit number cannot even be printed by default
        return value if abs(value) < _MAX_INT else ELLIPSIS
    if max_depth <= 0:
        return ELLIPSIS
    limits = {"max_text": max_text, "max_items": max_items, "max_depth": max_depth - 1}
    if isinstance(value, dict):
        items = list(value.items())
        kept = {
            storable_text(str(key), max_text): storable_json(item, **limits)
            for key, item in items[:max_items]
        }
        if len(items) > max_items:
            kept[ELLIPSIS] = len(items) - max_items
        return kept
    if isinstance(value, list | tuple):
        kept_list = [storable_json(item, **limits) for item in value[:max_items]]
        if len(value) > max_items:
            kept_list.append(ELLIPSIS)
        return kept_list
    return storable_text(str(value), max_text)
