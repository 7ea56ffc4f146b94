"""Keys cut to a column without two of them becoming one (定长键)."""

from __future__ import annotations

import hashlib


def bounded_key(value: str, max_length: int) -> str:
    """``value``, or for a longer one than ``max_length`` its start and a digest of the whole:
    it fits, and equals exactly the values it equalled (a key, not prose: prose is cut with an
    ellipsis, ``db.storable.storable_text``)."""
    if len(value) <= max_length:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"{value[: max_length - len(digest) - 1]}#{digest}"
