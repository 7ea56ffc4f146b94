"""Code tables (代码映射表): each source's own codes mapped onto the unified vocabulary.

One module per source, plain dictionaries only, so a mapping fix is a data change that
``govhub deadletter replay`` can apply to what was dead-lettered before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

V = TypeVar("V")


def by_longest_prefix(table: Mapping[str, V], code: str) -> V | None:
    """The value of the longest key of ``table`` that ``code`` starts with, else None."""
    for end in range(len(code), 0, -1):
        value = table.get(code[:end])
        if value is not None:
            return value
    return None
