"""Field sensitivity declared on the field (字段敏感级别), read back from the built schema.

Every field of a guarded type — the ``Record`` interface and its kinds, and the personal types
(``Person``, ``Party``, ``TimelineEntry``) — says what it reveals, in its Strawberry metadata:

- ``PUBLIC``: nothing about people; any role that reaches the type reads it.
- ``FREE_TEXT``: text as the source wrote it (summaries, addresses), which often names people:
  roles with the ``free_text`` right.
- ``PERSONAL``: a person or party, or anything of theirs: roles with the ``parties`` right.
- ``IDENTIFIER``: an ID number or phone: ``parties``, and with ``pii:read`` a stated purpose.
- ``RECORDS`` / ``AUDIT`` (root fields): records of any kind (a role reading some kind and
  holding the ``records`` right); the audit log (the ``audit_log`` right). A kind's own list
  field also names its ``kind``.
- ``OPERATIONS`` (root fields): the hub's own delivery state (write-backs): roles with the
  ``operations`` right.
- ``ADMINISTRATION`` (root fields): dead letters and the outbox backlog, with their raw
  errors: roles with the ``administration`` right (admin).
- ``FIGURES`` (root fields): counts and KPIs over records, no record itself: any role that
  reads some kind, ``dashboard_viewer`` included.
- ``MATTERS``: matters (事项) and what they hold: roles with the ``matters`` right.

``schema.access`` decides from these markers alone; a field of a guarded type that carries
none is refused to everyone, and ``tests/unit/test_sensitivity.py`` fails the build on it,
and on any field anywhere that returns a person or party without ``PERSONAL``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from graphql import GraphQLField, GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema

from domain.enums import RecordKind

_KEY = "govhub.sensitivity"
_KIND_KEY = "govhub.kind"
T = TypeVar("T", bound=type)


class Sensitivity(StrEnum):
    PUBLIC = "public"
    FREE_TEXT = "free_text"
    PERSONAL = "personal"
    IDENTIFIER = "identifier"
    RECORDS = "records"
    AUDIT = "audit"
    OPERATIONS = "operations"
    FIGURES = "figures"
    MATTERS = "matters"
    ADMINISTRATION = "administration"


PUBLIC: Mapping[str, Any] = {_KEY: Sensitivity.PUBLIC}
FREE_TEXT: Mapping[str, Any] = {_KEY: Sensitivity.FREE_TEXT}
PERSONAL: Mapping[str, Any] = {_KEY: Sensitivity.PERSONAL}
IDENTIFIER: Mapping[str, Any] = {_KEY: Sensitivity.IDENTIFIER}
RECORDS: Mapping[str, Any] = {_KEY: Sensitivity.RECORDS}
AUDIT: Mapping[str, Any] = {_KEY: Sensitivity.AUDIT}
OPERATIONS: Mapping[str, Any] = {_KEY: Sensitivity.OPERATIONS}
FIGURES: Mapping[str, Any] = {_KEY: Sensitivity.FIGURES}
MATTERS: Mapping[str, Any] = {_KEY: Sensitivity.MATTERS}
ADMINISTRATION: Mapping[str, Any] = {_KEY: Sensitivity.ADMINISTRATION}


def records_of_kind(kind: RecordKind) -> Mapping[str, Any]:
    """The marker of a kind's own list field: records, of this kind only."""
    return {_KEY: Sensitivity.RECORDS, _KIND_KEY: kind}


_PERSONAL_TYPES: set[str] = set()
_GUARDED_TYPES: set[str] = set()


def personal_type(cls: T) -> T:
    """Mark a type whose every field concerns a person (个人信息类型): its fields must still
    say PERSONAL or IDENTIFIER, and every field returning it must say PERSONAL."""
    _PERSONAL_TYPES.add(cls.__name__)
    _GUARDED_TYPES.add(cls.__name__)
    return cls


def guarded_type(cls: T) -> T:
    """Mark a type (and, for an interface, every type implementing it) whose fields must each
    declare their sensitivity."""
    _GUARDED_TYPES.add(cls.__name__)
    return cls


def _metadata(field: GraphQLField) -> Mapping[str, Any]:
    definition = field.extensions.get("strawberry-definition")
    metadata = getattr(definition, "metadata", None)
    return metadata or {}


def sensitivity_of(field: GraphQLField) -> Sensitivity | None:
    value = _metadata(field).get(_KEY)
    return Sensitivity(value) if value is not None else None


def kind_of(field: GraphQLField) -> RecordKind | None:
    value = _metadata(field).get(_KIND_KEY)
    return RecordKind(value) if value is not None else None


def personal_type_names() -> frozenset[str]:
    return frozenset(_PERSONAL_TYPES)


def _wrappers(names: frozenset[str]) -> frozenset[str]:
    """The Relay connection and edge types of ``names`` (``PersonConnection``,
    ``PersonEdge``): they carry nothing but what they wrap, so they are as sensitive."""
    return frozenset(f"{name}{suffix}" for name in names for suffix in ("Connection", "Edge"))


@functools.cache
def guarded_type_names(schema: GraphQLSchema) -> frozenset[str]:
    """Guarded types of ``schema``: those marked, every implementation of a marked interface,
    and the connections and edges of personal types."""
    names = set(_GUARDED_TYPES) | _wrappers(personal_type_names())
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType) and any(
            interface.name in _GUARDED_TYPES for interface in type_.interfaces
        ):
            names.add(type_.name)
    return frozenset(names & set(schema.type_map))


def declared_sensitivity(
    schema: GraphQLSchema, parent: str, field: GraphQLField | None, name: str
) -> Sensitivity | None:
    """What a field reveals: its own marker; else PERSONAL on a personal type's connection
    or edge, and for ``__typename`` of a personal type; PUBLIC outside guarded types;
    ``None`` (refused) for anything else of a guarded type."""
    if field is not None:
        marked = sensitivity_of(field)
        if marked is not None:
            return marked
    personal = personal_type_names()
    if parent in _wrappers(personal) or (name == "__typename" and parent in personal):
        return Sensitivity.PERSONAL
    if name == "__typename" or parent not in guarded_type_names(schema):
        return Sensitivity.PUBLIC
    return None
