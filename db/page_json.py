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
from collections.abc import Callable
from typing import Any, TypeAlias

from sqlalchemy import (
    Numeric,
    Text,
    case,
    cast,
    exists,
    extract,
    false,
    func,
    literal_column,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import NullType

from db.people_queries import home_region, person_join
from db.queries import (
    PARTIES,
    PERSONS,
    RECORDS,
    REGION_LABEL,
    SORT_LABEL,
    AnySelect,
    RecordScope,
    scope_conditions,
)

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
"""A page's record; a timeline's record takes the same values but ``region`` and
``parties``."""
REGION_VALUES = frozenset({"__typename", "code", "name", "level", "population"})
PARTY_VALUES = frozenset({"__typename", "role", "source_role", "name", "is_organisation", "person"})
PERSON_VALUES = frozenset({"__typename", "gid", "name", "region_code", "records"})
ENTRY_VALUES = frozenset({"__typename", "occurred_at", "kind", "record"})
"""A person's timeline entry (``records``): its record takes a sub-shape."""

_INSTANTS = frozenset({"occurred_at", "reported_at", "source_updated_at", "updated_at"})
_DAYS = {"occurred_on": "occurred_at", "reported_on": "reported_at"}

NODE = "node"
"""The column holding each record's JSON object (text)."""
PERSON_IDS = "person_ids"
"""The column holding the ids of the persons a record's JSON names, comma-separated text
(for the audit row); null without persons."""
TIMELINE_IDS = "timeline_ids"
"""The column holding the ids of the records its persons' timelines show, comma-separated
text (for the audit row); null without timelines."""
MERGED = "merged"
"""The column saying a person it names was merged, or had another merged into it: its
timeline spans several persons, which this statement does not follow (the caller answers
such a page the general way)."""


class UnknownValue(ValueError):
    """A shape names a value this module cannot build."""


def _text(value: str) -> ColumnElement[str]:
    """A constant string written into the statement, not bound: the statement is built once
    and cached, and some thirty bound constants would be sent and bound at every page."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


_EMPTY_TEXT = _text("")
_COMMA = _text(",")
_QUOTE = _text('"')
_NULL = _text("null")
_EMPTY = _text("[]")


FIXED_SINCE = "1992-01-01 00:00:00+00"
"""From then on Asia/Shanghai has kept +08:00 (its last summer time ended in September 1991):
later instants are shifted by a fixed interval, which costs PostgreSQL far less than a
look-up in the zone's rules (a page has a hundred instants)."""


def instant_text(moment: ColumnElement[Any]) -> ColumnElement[str]:
    """``moment`` (timestamptz) as Python's ``isoformat`` writes it at Beijing's offset:
    ``2026-08-17T09:30:00+08:00``, ``.ffffff`` only when there are microseconds, the offset
    the zone had then (``+09:00`` in the summers of 1986–1991, ``+08:05:43`` before 1901)."""
    # EXTRACT gives numeric from PostgreSQL 14 on, a double before: numeric on both.
    micro = cast(extract("microseconds", moment), Numeric())
    whole = micro % literal_column("1000000") == literal_column("0")

    def clock(local: ColumnElement[Any]) -> ColumnElement[str]:
        fraction = case((whole, _EMPTY_TEXT), else_=func.to_char(local, _text(".US")))
        return func.to_char(local, _text('YYYY-MM-DD"T"HH24:MI:SS')) + fraction

    local = _by_the_rules(moment)
    offset = local - func.timezone(_text("UTC"), moment)
    seconds = case(
        (extract("second", offset) == literal_column("0"), _EMPTY_TEXT),
        else_=func.to_char(offset, _text(":SS")),
    )
    by_the_rules = clock(local) + _text("+") + func.to_char(offset, _text("HH24:MI")) + seconds
    return case(
        (_fixed_offset(moment), clock(_at_fixed_offset(moment)) + _text("+08:00")),
        else_=by_the_rules,
    )


def _fixed_offset(moment: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether ``moment`` falls after Beijing's last change of offset (:data:`FIXED_SINCE`)."""
    return moment >= literal_column(f"TIMESTAMPTZ '{FIXED_SINCE}'")


def _at_fixed_offset(moment: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.timezone(literal_column("INTERVAL '8 hours'"), moment)


def _by_the_rules(moment: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.timezone(_text(ZONE), moment)


def day_text(moment: ColumnElement[Any]) -> ColumnElement[str]:
    """The Beijing calendar date of ``moment`` as ``YYYY-MM-DD``."""
    local = case((_fixed_offset(moment), _at_fixed_offset(moment)), else_=_by_the_rules(moment))
    return func.to_char(local, _text("YYYY-MM-DD"))


def global_id_text(type_name: ColumnElement[str], pk: ColumnElement[int]) -> ColumnElement[str]:
    """base64 of ``Type:number`` (``schema.ids.global_id``)."""
    plain = type_name + _text(":") + cast(pk, Text)
    return func.encode(func.convert_to(plain, _text("UTF8")), _text("base64"))


def _key(name: str) -> str:
    # Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*), inlined as literals: a
    # statement of a hundred bound keys would cost more to send than to run. Nothing in
    # such a name needs escaping in JSON.
    if not name.replace("_", "a").isalnum() or not name.isascii():
        raise UnknownValue(f"not a GraphQL name: {name!r}")
    return name


def _pairs(
    shape: Shape, allowed: frozenset[str], value_of: Callable[[str, Shape | None], Any]
) -> list[tuple[str, ColumnElement[Any]]]:
    """(response key, SQL value) for each of ``shape``'s values, each one in ``allowed``."""
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, value, sub in shape:
        if value not in allowed:
            raise UnknownValue(f"{value!r} is not one of {sorted(allowed)}")
        pairs.append((key, value_of(value, sub)))
    return pairs


def _object(pairs: list[tuple[str, ColumnElement[str]]]) -> ColumnElement[str]:
    """A JSON object's text from (key, JSON text) pairs, joined by ``||``.

    ``json_build_object`` looks up how to write each argument's type at every call: a page's
    few hundred objects cost PostgreSQL more than twice what joining their texts does."""
    parts: list[ColumnElement[str]] = []
    opening = "{"
    for key, value in pairs:
        parts += [_text(f'{opening}"{_key(key)}":'), value]
        opening = ","
    parts.append(_text("}" if pairs else "{}"))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(part)
    return joined


def _json(value: ColumnElement[Any]) -> ColumnElement[str]:
    """A column's value as JSON text (``null`` for NULL): strings escaped, numbers and
    booleans as JSON writes them."""
    if isinstance(value.type, NullType):
        return _NULL
    return func.coalesce(cast(func.to_json(value), Text), _NULL)


def _quoted(value: ColumnElement[str]) -> ColumnElement[str]:
    """Text that needs no escaping (digits, dates, base64, type names) as a JSON string;
    ``null`` for NULL."""
    return func.coalesce(_QUOTE.op("||")(value).op("||")(_QUOTE), _NULL)


def _array(elements: ColumnElement[str], *order: ColumnElement[Any]) -> ColumnElement[str]:
    """An aggregate of JSON texts as a JSON array's text, in ``order``; ``[]`` of none."""
    joined = func.string_agg(elements, aggregate_order_by(_COMMA, *order))
    return func.coalesce(_text("[").op("||")(joined).op("||")(_text("]")), _EMPTY)


def page_json(
    page: AnySelect,
    node: Shape,
    *,
    scope: RecordScope,
    descending: bool,
    type_names: tuple[tuple[str, str], ...],
    size: int | None = None,
) -> AnySelect:
    """``page`` (a ``record_page`` statement within ``scope``, with regions when ``node`` has
    ``region``; only records ``scope`` reads, so its parties' persons are visible) as
    rows of the record's id, its sort key, its JSON object (:data:`NODE`, text), the ids of
    the persons (:data:`PERSON_IDS`) and timeline records (:data:`TIMELINE_IDS`) it shows,
    and :data:`MERGED`, in the page's order. ``type_names`` gives each kind's GraphQL type
    name (for ``__typename`` and ``gid``). With ``size``, rows after the first ``size`` (the
    one more a page reads to learn whether more follow) come without their values: nothing
    of them is built."""
    return _page_json(page, node, scope, descending, type_names, size)


POSITION = "page_position"


@functools.lru_cache(maxsize=256)
def _page_json(
    page: AnySelect,
    node: Shape,
    scope: RecordScope,
    descending: bool,
    type_names: tuple[tuple[str, str], ...],
    size: int | None,
) -> AnySelect:
    read = page.subquery("page")
    order = (
        (read.c[SORT_LABEL].desc(), read.c.id.desc())
        if descending
        else (read.c[SORT_LABEL], read.c.id)
    )
    built: ColumnElement[bool]
    position: tuple[ColumnElement[Any], ...]
    if size is None:
        rows, built, position = read, true(), order
        c = rows.c
    else:
        numbered = func.row_number().over(order_by=order).label(POSITION)
        rows = select(read, numbered).subquery("rows")
        c = rows.c
        position = (c[POSITION],)
        # On the outer row only: PostgreSQL checks it once, before the subquery would run.
        built = c[POSITION] <= literal_column(str(int(size)))
    parties_shape = _sub(node, "parties")
    parties = None
    if parties_shape is not None:
        parties = _parties(c.id, c.deleted == false(), parties_shape, scope, type_names, built)
    pairs = _record_pairs(
        c,
        node,
        type_names,
        region=lambda shape: _region(c, shape),
        parties=None if parties is None else func.coalesce(parties.c.parties, _EMPTY),
    )
    person_ids: ColumnElement[Any] = cast(null(), Text)
    timeline_ids: ColumnElement[Any] = cast(null(), Text)
    merged: ColumnElement[Any] = false()
    if parties is not None:
        person_ids, timeline_ids, merged = (
            parties.c[PERSON_IDS],
            parties.c[TIMELINE_IDS],
            func.coalesce(parties.c[MERGED], false()),
        )
    source = rows if parties is None else rows.join(parties, true())
    return (
        select(
            c.id,
            c[SORT_LABEL],
            case((built, _object(pairs)), else_=null()).label(NODE),
            person_ids.label(PERSON_IDS),
            timeline_ids.label(TIMELINE_IDS),
            merged.label(MERGED),
        )
        .select_from(source)
        .order_by(*position)
    )


def _sub(shape: Shape, value: str) -> Shape | None:
    return next((sub for _, name, sub in shape if name == value), None)


def _kind_type_name(
    kind: ColumnElement[str], type_names: tuple[tuple[str, str], ...]
) -> ColumnElement[str]:
    return case(*((kind == _text(name), _text(type_name)) for name, type_name in type_names))


def _record_pairs(
    c: Any,
    shape: Shape,
    type_names: tuple[tuple[str, str], ...],
    *,
    region: Callable[[Shape], ColumnElement[Any]] | None,
    parties: ColumnElement[Any] | None,
) -> list[tuple[str, ColumnElement[Any]]]:
    """A record's (key, value) pairs from its columns ``c``; ``region`` and ``parties``
    build those values where the record may have them."""
    type_name = _kind_type_name(c.kind, type_names)

    def value_of(value: str, sub: Shape | None) -> Any:
        if value == "__typename":
            return _quoted(type_name)
        if value == "gid":
            return _quoted(global_id_text(type_name, c.id))
        if value in _INSTANTS:
            return _quoted(instant_text(c[value]))
        if value in _DAYS:
            return _quoted(day_text(c[_DAYS[value]]))
        if value == "region":
            if region is None:
                raise UnknownValue("region here")
            return region(sub or ())
        if value == "parties":
            if parties is None:
                raise UnknownValue("parties here")
            return parties
        return _json(c[value])

    return _pairs(shape, RECORD_VALUES, value_of)


def _region(c: Any, shape: Shape) -> ColumnElement[Any]:
    pairs = _pairs(
        shape,
        REGION_VALUES,
        lambda value, _: (
            _text('"Region"') if value == "__typename" else _json(c[REGION_LABEL + value])
        ),
    )
    # A code that names no region answers null, as the region loader does.
    return case((c[REGION_LABEL + "code"].is_(None), _NULL), else_=_object(pairs))


def _parties(
    record_id: ColumnElement[int],
    record_shown: ColumnElement[bool],
    shape: Shape,
    scope: RecordScope,
    type_names: tuple[tuple[str, str], ...],
    gate: ColumnElement[bool],
) -> Any:
    """A lateral subquery: the record's parties as a JSON array in the source's order, the
    ids of the persons shown, of their timelines' records, and whether any was merged.
    ``record_shown`` is true when the record (which lies within ``scope``) is not withdrawn:
    its parties' persons are then visible without a search for a record naming them."""
    p, m = PERSONS.c, PARTIES.c
    person_shape = _sub(shape, "person")
    entries_shape = None if person_shape is None else _sub(person_shape, "records")
    timeline = None
    if entries_shape is not None:
        timeline = _timeline(entries_shape, scope, type_names)

    def value_of(value: str, _: Shape | None) -> Any:
        if value == "__typename":
            return _text('"Party"')
        if value == "person":
            return _person(person_shape or (), timeline, scope)
        return _json(m[value])

    pairs = _pairs(shape, PARTY_VALUES, value_of)
    joined: Any = PARTIES
    if person_shape is not None:
        joined = joined.outerjoin(PERSONS, person_join(scope, named_in_scope=record_shown))
    if timeline is not None:
        joined = joined.outerjoin(timeline, true())
    shown = p.id.is_not(None)
    merged_into = PERSONS.alias("merged_person")
    person_ids = func.string_agg(cast(p.id, Text), _COMMA).filter(shown) if person_shape else null()
    timeline_ids = func.string_agg(timeline.c.ids, _COMMA) if timeline is not None else null()
    merged = (
        func.bool_or(
            shown
            & (p.merged_into_id.is_not(None) | exists().where(merged_into.c.merged_into_id == p.id))
        )
        if timeline is not None
        else false()
    )
    return (
        select(
            _array(_object(pairs), m.position).label("parties"),
            person_ids.label(PERSON_IDS),
            timeline_ids.label(TIMELINE_IDS),
            merged.label(MERGED),
        )
        .select_from(joined)
        .where(m.record_id == record_id, gate)
        .lateral("record_parties")
    )


def _timeline(shape: Shape, scope: RecordScope, type_names: tuple[tuple[str, str], ...]) -> Any:
    """A lateral subquery per party's person: the records within ``scope`` that name them,
    by occurrence (``db.timeline.person_timelines`` without merges), as a JSON array of
    entries, and their ids as comma-separated text."""
    records = RECORDS.alias("timeline_record")
    mentions = PARTIES.alias("timeline_mention")
    r = records.c

    def value_of(value: str, sub: Shape | None) -> Any:
        if value == "__typename":
            return _text('"TimelineEntry"')
        if value == "occurred_at":
            return _quoted(instant_text(r.occurred_at))
        if value == "kind":
            return _json(r.kind)
        return _object(_record_pairs(r, sub or (), type_names, region=None, parties=None))

    pairs = _pairs(shape, ENTRY_VALUES, value_of)
    names: AnySelect = (
        select(literal_column("1"))
        .select_from(mentions)
        .where(mentions.c.record_id == r.id, mentions.c.person_id == PERSONS.c.id)
        .correlate_except(mentions)
    )
    return (
        select(
            _array(_object(pairs), r.occurred_at, r.id).label("entries"),
            func.string_agg(cast(r.id, Text), _COMMA).label("ids"),
        )
        .select_from(records)
        .where(names.exists(), r.deleted == false(), *scope_conditions(scope, records))
        .lateral("person_timeline")
    )


def _person(shape: Shape, timeline: Any, scope: RecordScope) -> ColumnElement[Any]:
    p = PERSONS.c

    def value_of(value: str, _: Shape | None) -> Any:
        if value == "__typename":
            return _text('"Person"')
        if value == "gid":
            return _quoted(global_id_text(_text("Person"), p.id))
        if value == "records":
            return timeline.c.entries
        if value == "region_code":
            return _json(home_region(scope))
        return _json(p[value])

    pairs = _pairs(shape, PERSON_VALUES, value_of)
    # Null when the mention is unresolved or its person is not visible in the scope.
    return case((p.id.is_(None), _NULL), else_=_object(pairs))
