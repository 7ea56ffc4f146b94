"""What a schema type declares for the lighter execution path (快速路径标记)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

DIRECT_SYNC = "_govhub_direct_sync"
"""Marks a resolver :func:`schema.fastpath.executor.streamline_resolvers` made: direct,
synchronous, and over a function declared :func:`rereadable`."""
DIRECT_CALL = "_govhub_direct_call"
"""On such a resolver: how compiled readers call its function themselves (a
:class:`DirectCall`), with one ``Info`` per field and request."""
_REREADABLE = "_govhub_rereadable"
_PLACES_WITHOUT_INFO = "_govhub_places_without_info"

F = TypeVar("F", bound=Callable[..., Any])


class DirectCall(NamedTuple):
    function: Callable[..., Any]
    takes_self: bool
    info_name: str | None
    make_info: Callable[[Any], Any]
    """The Strawberry ``Info`` over graphql-core's resolve info."""


def rereadable(function: F) -> F:
    """Declare a synchronous, argument-less resolver safe for compiled readers: it only reads
    (what it notes for the audit goes into a set), so calling it again when the general path
    takes a field over changes nothing; and of its ``info`` it reads only the context, so
    compiled readers may hand every object of one field the same ``Info`` (whose path is then
    the first object's). Resolvers without this mark are only ever called by graphql-core,
    once, in its order."""
    setattr(function, _REREADABLE, True)
    return function


def places_without_info(function: F) -> F:
    """Declare a type's ``resolve_type`` that reads nothing of its ``info`` (it places an
    object by its class): compiled readers then call it with none instead of building one
    per object."""
    setattr(function, _PLACES_WITHOUT_INFO, True)
    return function


def is_placed_without_info(function: object) -> bool:
    return getattr(function, _PLACES_WITHOUT_INFO, False) is True


def is_rereadable(function: object) -> bool:
    return getattr(function, _REREADABLE, False) is True
