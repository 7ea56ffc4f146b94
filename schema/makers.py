"""Schema objects made from rows without their dataclass ``__init__`` (行到对象的快速构造).

A record type has some thirty fields: its generated ``__init__`` took about 11 µs a record,
more than reading the row, and a page makes fifty records, a hundred parties and their
persons. When all ``__init__`` would do is store the values it is given, :func:`maker_of`
stores them itself (about 1.7 µs): a new object, then its ``__dict__`` filled. Whether that
holds is decided once per type, from the dataclass fields: every field ``__init__`` takes is
given, no field has a default to fill in, nothing runs after ``__init__`` and the type keeps
its attributes in ``__dict__``. A type that does not meet all four gets its own ``__init__``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from typing import Any, TypeVar

T = TypeVar("T")


def maker_of(cls: type[T], attributes: Collection[str]) -> Callable[[dict[str, Any]], T]:
    """A function making a ``cls`` from a dict giving exactly ``attributes``."""
    if _stores_only(cls, frozenset(attributes)):
        new = object.__new__

        def make(values: dict[str, Any]) -> T:
            made: T = new(cls)
            made.__dict__.update(values)
            return made

        return make

    def construct(values: dict[str, Any]) -> T:
        return cls(**values)

    return construct


def _stores_only(cls: type, attributes: frozenset[str]) -> bool:
    """Whether ``cls(**values)`` with exactly ``attributes`` only stores them."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return False
    if cls.__dictoffset__ == 0:  # instances without a __dict__ (slots)
        return False
    fields = dataclasses.fields(cls)
    if any(
        field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        for field in fields
    ):
        return False
    return {field.name for field in fields if field.init} == attributes
