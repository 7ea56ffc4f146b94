"""JSON text written by orjson, with the standard library where orjson would differ (JSON 文本).

A sync writes JSON for every record several times over: the digest of its content, its
sealed raw payload, the evidence of each party's match, the identity of a fetched item within
a run. The standard library's encoder took four to six times orjson's time for each, and a
sync's CPU is what its rate is made of.

orjson refuses what the standard library writes in two cases, and writes one differently:
an integer beyond 64 bits and a string holding a lone surrogate raise ``JSONEncodeError``;
NaN and the infinities (which a source's JSON may hold: the standard library reads them) come
out as ``null``. In all three the standard library writes the text instead, so the answer is
always the standard library's value.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

_SORTED = (
    orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)  # fmt: skip
"""Keys sorted; a datetime or dataclass written as its text, as the standard library does."""

_WHOLE: Any = object()
"""``floats_in``'s default: the whole value is searched."""

_DIGESTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
"""Keys sorted; a datetime in ISO 8601, a dataclass as an object of its fields."""

_COLUMN = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
"""Keys in their order; a datetime or dataclass refused, as the standard library refuses it."""


def sorted_json(value: Any, *, errors: str = "strict") -> bytes:
    """``value`` as UTF-8 JSON, keys sorted, a value JSON cannot hold written as its text
    (``str``; an enum as its value). ``errors`` is how the standard library's text is encoded
    when a string holds a lone surrogate (``"strict"`` raises ``UnicodeEncodeError``; a digest
    passes ``"surrogatepass"``). Read back with ``json.loads``, it is what the standard
    library's ``dumps(value, sort_keys=True, default=str)`` gives."""
    return _sorted(value, _SORTED, errors)


def digest_json(value: Any, *, errors: str = "strict", floats_in: Any = _WHOLE) -> bytes:
    """``value`` as JSON to be digested, not read back: as :func:`sorted_json`, but a
    datetime, date or time in orjson's ISO 8601 (``str`` for each cost a record three times
    the rest of its JSON). The same value always gives the same text. ``floats_in`` is the
    part of ``value`` a float can be in, when the caller knows (a record's own fields):
    only that is searched for NaN."""
    return _sorted(value, _DIGESTED, errors, floats_in)


def _sorted(value: Any, option: int, errors: str, floats_in: Any = _WHOLE) -> bytes:
    try:
        document = orjson.dumps(value, default=str, option=option)
    except orjson.JSONEncodeError:
        return _standard_sorted(value, errors)
    searched = value if floats_in is _WHOLE else floats_in
    if b"null" in document and holds_non_finite(searched):  # orjson writes NaN as null
        return _standard_sorted(value, errors)
    return document


def column_json(value: Any) -> str:
    """A JSON column's text (the engine's ``json_serializer``): the value the standard
    library's ``json.dumps(value)`` writes, keys in their order, compact UTF-8; a value the
    standard library refuses (a datetime, a set) raises ``TypeError`` as it did."""
    try:
        document = orjson.dumps(value, option=_COLUMN)
    except orjson.JSONEncodeError:
        return json.dumps(value)
    if b"null" in document and holds_non_finite(value):
        return json.dumps(value)
    return document.decode("utf-8")


def _standard_sorted(value: Any, errors: str) -> bytes:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text.encode("utf-8", errors)


def holds_non_finite(value: Any) -> bool:
    """Whether a float in ``value`` is NaN or infinite (a source's JSON may say ``NaN``, which
    the standard library reads and writes back, and orjson would write as ``null``). Walked
    without recursion, each member's type looked up once: a third of the time of a recursive
    walk of ``isinstance`` tests."""
    kind = _KINDS.get(type(value)) or _kind_of(type(value))
    if kind is not _CONTAINER:
        return kind is _FLOAT and not _isfinite(value)
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            item = item.values()
        for member in item:
            kind = _KINDS.get(type(member)) or _kind_of(type(member))
            if kind is _FLOAT:
                if not _isfinite(member):
                    return True
            elif kind is _CONTAINER:
                pending.append(member)
    return False


_SCALAR, _FLOAT, _CONTAINER = "scalar", "float", "container"
_KINDS: dict[type, str] = {}
"""What a type is to :func:`holds_non_finite`, by type (the program's types: a few dozen)."""
_isfinite = math.isfinite


def _kind_of(kind: type) -> str:
    found = (
        _FLOAT if issubclass(kind, float)
        else _CONTAINER if issubclass(kind, dict | list | tuple)
        else _SCALAR
    )  # fmt: skip
    _KINDS[kind] = found
    return found
