"""A page of records answered as JSON built by PostgreSQL (数据库生成的列表页 JSON).

A list page's answer is mostly values copied from columns: a record's kind, key, title and
times, its region's name, its parties' names and their persons'. Mapping fifty records, a
hundred parties and their persons to objects and completing each field in Python costs far
more than the statement that reads them. For a selection made only of such fields, this
module wraps the page's own statement (``db.queries.record_page``, every scope and filter
condition kept) in one that builds each record's JSON object in the database, keys in the
selection's order, with its parties and persons beside it under the same visibility rule as
``db.people_queries.parties_with_persons``.

What is selected comes as a :data:`Shape`: ``(response key, value, sub-shape)`` triples. The
values are the names in :data:`RECORD_VALUES`, :data:`REGION_VALUES`, :data:`PARTY_VALUES`
and :data:`PERSON_VALUES`; ``region``, ``parties`` and ``person`` take a sub-shape. The
GraphQL layer decides which selections may be answered so (``resolvers.page_json``); this
module knows tables, not GraphQL. Values are written as the general path serialises them:

- instants in Beijing time with their offset, as Python's ``isoformat`` writes them
  (microseconds only when there are some; the zone's historical offsets included);
- calendar dates ``YYYY-MM-DD`` of the Beijing day;
- enums by name, as they are stored (``db.models.base.enum_column``);
- global ids as base64 of ``Type:number``, the type named by the caller per kind.

PostgreSQL only: other databases answer through the general path.
"""

from __future__ import annotations

import functools
from typing import Any, TypeAlias

from sqlalchemy import (
    Integer,
    Text,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from db.people_queries import person_join
from db.queries import PARTIES, PERSONS, REGION_LABEL, SORT_LABEL, AnySelect, RecordScope

Shape: TypeAlias = tuple[tuple[str, str, "Shape | None"], ...]
"""What to build: (response key, value name, sub-shape for an object value) in order."""

ZONE = "Asia/Shanghai"

RECORD_VALUES = frozenset(
    {
        "__typename", "gid", "kind", "source", "source_key", "category", "source_category",
        "title", "occurred_at", "reported_at", "occurred_on", "reported_on", "region_code",
        "status", "source_status", "risk_level", "source_updated_at", "updated_at", "deleted",
        "region", "parties",
    }
)  # fmt: skip
REGION_VALUES = frozenset({"__typename", "code", "name", "level", "population"})
PARTY_VALUES = frozenset({"__typename", "role", "source_role", "name", "is_organisation", "person"})
PERSON_VALUES = frozenset({"__typename", "gid", "name", "region_code"})

_INSTANTS = frozenset({"occurred_at", "reported_at", "source_updated_at", "updated_at"})
_DAYS = {"occurred_on": "occurred_at", "reported_on": "reported_at"}

NODE = "node"
"""The column holding each record's JSON object (text)."""
PERSON_IDS = "person_ids"
"""The column holding the ids of the persons a record's JSON names (for the audit row)."""


class UnknownValue(ValueError):
    """A shape names a value this module cannot build."""


def instant_text(moment: ColumnElement[Any]) -> ColumnElement[str]:
    """``moment`` (timestamptz) as Python's ``isoformat`` writes it at Beijing's offset:
    ``2026-08-17T09:30:00+08:00``, ``.ffffff`` only when there are microseconds, the offset
    the zone had then (``+09:00`` in the summers of 1986–1991, ``+08:05:43`` before 1901)."""
    local = func.timezone(ZONE, moment)
    offset = local - func.timezone("UTC", moment)
    fraction = case(
        (extract("microseconds", moment) % 1_000_000 != 0, func.to_char(local, ".US")),
        else_="",
    )
    seconds = case((extract("second", offset) != 0, func.to_char(offset, ":SS")), else_="")
    return (
        func.to_char(local, 'YYYY-MM-DD"T"HH24:MI:SS')
        + fraction
        + literal("+")
        + func.to_char(offset, "HH24:MI")
        + seconds
    )


def day_text(moment: ColumnElement[Any]) -> ColumnElement[str]:
    """The Beijing calendar date of ``moment`` as ``YYYY-MM-DD``."""
    return func.to_char(func.timezone(ZONE, moment), "YYYY-MM-DD")


def global_id_text(type_name: ColumnElement[str], pk: ColumnElement[int]) -> ColumnElement[str]:
    """base64 of ``Type:number`` (``schema.ids.global_id``)."""
    plain = type_name + literal(":") + cast(pk, Text)
    return func.encode(func.convert_to(plain, "UTF8"), "base64")


def _key(name: str) -> ColumnElement[str]:
    # Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*), inlined as literals: a
    # statement of a hundred bound keys would cost more to send than to run.
    if not name.replace("_", "a").isalnum() or not name.isascii():
        raise UnknownValue(f"not a GraphQL name: {name!r}")
    return literal_column(f"'{name}'")


def _object(pairs: list[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    arguments: list[ColumnElement[Any]] = []
    for key, value in pairs:
        arguments += [_key(key), value]
    return func.json_build_object(*arguments)


def page_json(
    page: AnySelect,
    node: Shape,
    *,
    scope: RecordScope,
    descending: bool,
    type_names: tuple[tuple[str, str], ...],
) -> AnySelect:
    """``page`` (a ``record_page`` statement, with regions when ``node`` has ``region``) as
    rows of the record's id, its sort key, its JSON object (:data:`NODE`, text) and the ids
    of the persons it names (:data:`PERSON_IDS`), in the page's order. ``type_names`` gives
    each kind's GraphQL type name (for ``__typename`` and ``gid``)."""
    return _page_json(page, node, scope, descending, type_names)


@functools.lru_cache(maxsize=256)
def _page_json(
    page: AnySelect,
    node: Shape,
    scope: RecordScope,
    descending: bool,
    type_names: tuple[tuple[str, str], ...],
) -> AnySelect:
    rows = page.subquery("page")
    c = rows.c
    type_name = case(*((c.kind == kind, literal(name)) for kind, name in type_names), else_=null())
    parties_shape = next((sub for _, value, sub in node if value == "parties"), None)
    person_shape = next((sub for _, value, sub in parties_shape or () if value == "person"), None)
    parties = None if parties_shape is None else _parties(c.id, parties_shape, person_shape, scope)
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, value, sub in node:
        if value not in RECORD_VALUES:
            raise UnknownValue(f"record value {value!r}")
        if value == "__typename":
            pairs.append((key, type_name))
        elif value == "gid":
            pairs.append((key, global_id_text(type_name, c.id)))
        elif value in _INSTANTS:
            pairs.append((key, instant_text(c[value])))
        elif value in _DAYS:
            pairs.append((key, day_text(c[_DAYS[value]])))
        elif value == "region":
            pairs.append((key, _region(c, sub or ())))
        elif value == "parties":
            assert parties is not None
            pairs.append((key, func.coalesce(parties.c.parties, literal_column("'[]'::json"))))
        else:
            pairs.append((key, c[value]))
    person_ids: ColumnElement[Any] = (
        parties.c.person_ids
        if parties is not None and person_shape is not None
        else cast(null(), ARRAY(Integer()))
    )
    source = rows if parties is None else rows.join(parties, true())
    order = (c[SORT_LABEL].desc(), c.id.desc()) if descending else (c[SORT_LABEL], c.id)
    return (
        select(
            c.id,
            c[SORT_LABEL],
            cast(_object(pairs), Text).label(NODE),
            person_ids.label(PERSON_IDS),
        )
        .select_from(source)
        .order_by(*order)
    )


def _region(c: Any, shape: Shape) -> ColumnElement[Any]:
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, value, _ in shape:
        if value not in REGION_VALUES:
            raise UnknownValue(f"region value {value!r}")
        if value == "__typename":
            pairs.append((key, literal("Region")))
        else:
            pairs.append((key, c[REGION_LABEL + value]))
    # A code that names no region answers null, as the region loader does.
    return case((c[REGION_LABEL + "code"].is_(None), null()), else_=_object(pairs))


def _parties(
    record_id: ColumnElement[int], shape: Shape, person_shape: Shape | None, scope: RecordScope
) -> Any:
    """A lateral subquery: the record's parties as a JSON array in the source's order, and
    the ids of the persons shown."""
    p, m = PERSONS.c, PARTIES.c
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, value, _ in shape:
        if value not in PARTY_VALUES:
            raise UnknownValue(f"party value {value!r}")
        if value == "__typename":
            pairs.append((key, literal("Party")))
        elif value == "person":
            pairs.append((key, _person(person_shape or ())))
        else:
            pairs.append((key, m[value]))
    joined = PARTIES.outerjoin(PERSONS, person_join(scope)) if person_shape else PARTIES
    return (
        select(
            func.json_agg(aggregate_order_by(_object(pairs), m.position)).label("parties"),
            func.array_agg(p.id).filter(p.id.is_not(None)).label(PERSON_IDS)
            if person_shape
            else null().label(PERSON_IDS),
        )
        .select_from(joined)
        .where(m.record_id == record_id)
        .lateral("record_parties")
    )


def _person(shape: Shape) -> ColumnElement[Any]:
    p = PERSONS.c
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, value, _ in shape:
        if value not in PERSON_VALUES:
            raise UnknownValue(f"person value {value!r}")
        if value == "__typename":
            pairs.append((key, literal("Person")))
        elif value == "gid":
            pairs.append((key, global_id_text(literal("Person"), p.id)))
        else:
            pairs.append((key, p[value]))
    # Null when the mention is unresolved or its person is not visible in the scope.
    return case((p.id.is_(None), null()), else_=_object(pairs))
