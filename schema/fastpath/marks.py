"""What a schema type declares for the lighter execution path (快速路径标记)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

DIRECT_SYNC = "_govhub_direct_sync"
"""Marks a resolver :func:`schema.fastpath.executor.streamline_resolvers` made: direct,
synchronous, and over a function declared :func:`rereadable`."""
_REREADABLE = "_govhub_rereadable"

F = TypeVar("F", bound=Callable[..., Any])


def rereadable(function: F) -> F:
    """Declare a synchronous, argument-less resolver safe for compiled readers: it only reads
    (what it notes for the audit goes into a set), so calling it again when the general path
    takes a field over changes nothing. Resolvers without this mark are only ever called by
    graphql-core, once, in its order."""
    setattr(function, _REREADABLE, True)
    return function


def is_rereadable(function: object) -> bool:
    return getattr(function, _REREADABLE, False) is True
