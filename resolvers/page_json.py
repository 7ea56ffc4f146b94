"""Record pages answered as JSON built by PostgreSQL (列表页由数据库生成 JSON).

A page of records whose selection reads only columns — the Record interface's plain fields,
its region, its parties, their persons and the persons' timelines — is answered by one statement
(``db.page_json``) that builds each record's JSON object in the database, and the connection
around it (edges, cursors, page info) is assembled here. Nothing else changes: the page's
statement is the one the general path runs (every scope and filter condition), the read runs
on the operation's connection (``resolvers.reads``), the audit row gets the same record and
person ids, and access was decided before execution (``schema.access``).

:func:`page_plan` reads the ``records`` field's selection once per document and says whether
it can be answered so; anything it does not know — a kind's own field, identifiers (opened in
Python), a timeline entry's roles and mentions or its record's relations, ``totalCount``, a
directive, an argument on a sub-field, a fragment on another type, a response key used
twice — leaves the page to the general path. So does a principal for whom the general path
would answer differently (parties refused, a redacted title), a database other than
PostgreSQL, a request whose answer is not encoded by orjson (``schema.fastpath.prebuilt``),
and a page showing the timeline of a merged person (the statement says so; the general path
follows merges).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.types.base import get_object_definition

from db import page_json, queries
from db.page_json import Shape
from domain.enums import RecordKind
from domain.titles import reads_source_title
from resolvers.cursors import encode_record_cursor
from resolvers.pagination import PageRequest
from resolvers.reads import engine_of
from resolvers.rows import NamedRow, fetch_built
from schema.context import Info
from schema.enums import RecordOrder
from schema.fastpath.plans import ByNode
from schema.fastpath.prebuilt import Prebuilt, accepts_prebuilt
from schema.kinds import TYPE_OF_KIND
from schema.pagination import PageInfo

_RECORD = {
    "__typename": "__typename", "id": "gid", "kind": "kind", "source": "source",
    "sourceKey": "source_key", "category": "category", "sourceCategory": "source_category",
    "title": "title", "occurredAt": "occurred_at", "reportedAt": "reported_at",
    "occurredOn": "occurred_on", "reportedOn": "reported_on", "regionCode": "region_code",
    "status": "status", "sourceStatus": "source_status", "riskLevel": "risk_level",
    "sourceUpdatedAt": "source_updated_at", "updatedAt": "updated_at", "deleted": "deleted",
    "region": "region", "parties": "parties",
}  # fmt: skip
_REGION = {"__typename": "__typename", "code": "code", "name": "name", "level": "level",
           "population": "population"}  # fmt: skip
_PARTY = {"__typename": "__typename", "role": "role", "sourceRole": "source_role",
          "name": "name", "isOrganisation": "is_organisation", "person": "person"}  # fmt: skip
_PERSON = {"__typename": "__typename", "id": "gid", "name": "name", "regionCode": "region_code",
           "records": "records"}  # fmt: skip
_ENTRY = {"__typename": "__typename", "occurredAt": "occurred_at", "kind": "kind",
          "record": "record"}  # fmt: skip
_TIMELINE_RECORD = {name: value for name, value in _RECORD.items()
                    if value not in ("region", "parties")}  # fmt: skip
_NODE_TYPES = frozenset({"Record", "Node"})
"""Type conditions a record's fragments may carry (a page's node: its own type's name too)."""
_OBJECTS: dict[str, tuple[Mapping[str, str], frozenset[str]]] = {
    "region": (_REGION, frozenset({"Region"})),
    "parties": (_PARTY, frozenset({"Party"})),
    "person": (_PERSON, frozenset({"Person"})),
    "records": (_ENTRY, frozenset({"TimelineEntry"})),
    "record": (_TIMELINE_RECORD, _NODE_TYPES),
}
_PAGE_INFO = {"__typename", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}


class _Unsupported(Exception):
    """The selection holds something this path does not build."""


@dataclass(frozen=True, slots=True)
class PagePlan:
    """How to answer one ``records`` selection: the connection's keys in order, and the
    node's shape for ``db.page_json``."""

    connection: tuple[tuple[str, str, Any], ...]
    """(response key, ``__typename``/``edges``/``nodes``/``pageInfo``, detail)."""
    node: Shape
    regions: bool
    parties: bool
    titles: bool
    timelines: bool


def page_plan(info: Info) -> PagePlan | None:
    """The plan for the resolving ``records`` field, or ``None`` for the general path."""
    if not _answerable(info):
        return None
    return _permitted(info, _plan_of(info._raw_info))


def node_plan(info: Info, type_name: str) -> PagePlan | None:
    """The plan for the resolving ``node(id)`` field when the id names a record of the type
    ``type_name``, or ``None`` for the general path. Fragments on other object types do not
    apply to it and are passed over, as graphql-core passes over them."""
    if not _answerable(info):
        return None
    return _permitted(info, _node_plan_of(info._raw_info, type_name))


def _answerable(info: Info) -> bool:
    return (
        accepts_prebuilt(info._raw_info)
        and _type_names() is not None
        and engine_of(info.context.sessions).dialect.name == "postgresql"
    )


def _permitted(info: Info, plan: PagePlan | None) -> PagePlan | None:
    """``plan`` unless the general path would answer this principal differently."""
    if plan is None:
        return None
    principal = info.context.security.principal
    policy = principal.policy if principal is not None else None
    if plan.parties and (policy is None or not policy.parties):
        return None  # the general path refuses them, with its error
    if plan.titles and not reads_source_title(policy):
        return None  # redacted titles are written in Python
    return plan


_PLANS: ByNode[FieldNode, tuple[PagePlan | None]] = ByNode()
"""Per field node of ``records`` (no variant) or of ``node`` (variant: the id's type); in a
1-tuple, as a node may have no plan."""


def _node_plan_of(raw: GraphQLResolveInfo[Any], type_name: str) -> PagePlan | None:
    if len(raw.field_nodes) != 1:
        return None
    node = raw.field_nodes[0]
    known = _PLANS.get(node, type_name)
    if known is not None:
        return known[0]
    schema = raw.schema

    def other_object(name: str) -> bool:
        return name != type_name and isinstance(schema.get_type(name), GraphQLObjectType)

    try:
        shape = _shape(
            node.selection_set, raw.fragments, _RECORD, _NODE_TYPES | {type_name}, other_object
        )
        plan = _plan_for(shape, ())
    except _Unsupported:
        plan = None
    _PLANS.put(node, (plan,), type_name)
    return plan


def _plan_of(raw: GraphQLResolveInfo[Any]) -> PagePlan | None:
    if len(raw.field_nodes) != 1:
        return None
    node = raw.field_nodes[0]
    known = _PLANS.get(node)
    if known is not None:
        return known[0]
    connection_type = raw.return_type
    while hasattr(connection_type, "of_type"):
        connection_type = connection_type.of_type
    try:
        plan = _compile(node, raw.fragments, str(connection_type.name))
    except _Unsupported:
        plan = None
    _PLANS.put(node, (plan,))
    return plan


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    types: frozenset[str],
    passed_over: Callable[[str], bool] | None = None,
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    """The fields of a selection set, fragments on ``types`` flattened and fragments on a
    type ``passed_over`` says does not apply left out; anything else (a directive, a
    fragment on another type) is unsupported."""
    if selection_set is None:
        raise _Unsupported("no selection")
    for selection in selection_set.selections:
        if selection.directives:
            raise _Unsupported("directive")
        if isinstance(selection, FieldNode):
            yield selection
            continue
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner, name = selection.selection_set, None
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen or fragment.directives:
                raise _Unsupported("fragment")
            condition, inner = fragment.type_condition, fragment.selection_set
        else:
            raise _Unsupported("selection")
        if condition is not None and condition.name.value not in types:
            if passed_over is not None and passed_over(condition.name.value):
                continue
            raise _Unsupported("fragment on another type")
        yield from _fields(
            inner, fragments, types, passed_over, seen if name is None else seen | {name}
        )


def _keyed(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    types: frozenset[str],
    passed_over: Callable[[str], bool] | None = None,
) -> list[tuple[str, FieldNode]]:
    """(response key, field) in order; a key used twice, or arguments, are unsupported."""
    keyed: list[tuple[str, FieldNode]] = []
    keys: set[str] = set()
    for field in _fields(selection_set, fragments, types, passed_over):
        key = field.alias.value if field.alias else field.name.value
        if key in keys or field.arguments:
            raise _Unsupported("repeated key or arguments")
        keys.add(key)
        keyed.append((key, field))
    return keyed


def _compile(
    field: FieldNode, fragments: Mapping[str, FragmentDefinitionNode], connection_type: str
) -> PagePlan:
    node_shapes: list[Shape] = []
    connection: list[tuple[str, str, Any]] = []
    node_types = _NODE_TYPES | {connection_type.removesuffix("Connection")}

    def node_shape(node_field: FieldNode) -> None:
        node_shapes.append(_shape(node_field.selection_set, fragments, _RECORD, node_types))

    for key, sub in _keyed(field.selection_set, fragments, frozenset({connection_type})):
        name = sub.name.value
        if name == "__typename":
            connection.append((key, name, connection_type))
        elif name == "nodes":
            node_shape(sub)
            connection.append((key, name, None))
        elif name == "edges":
            edge: list[tuple[str, str]] = []
            edge_type = connection_type.removesuffix("Connection") + "Edge"
            for edge_key, edge_field in _keyed(
                sub.selection_set, fragments, frozenset({edge_type})
            ):
                edge_name = edge_field.name.value
                if edge_name == "node":
                    node_shape(edge_field)
                elif edge_name not in ("cursor", "__typename"):
                    raise _Unsupported(edge_name)
                edge.append((edge_key, edge_name))
            connection.append((key, name, (edge_type, tuple(edge))))
        elif name == "pageInfo":
            keys = _keyed(sub.selection_set, fragments, frozenset({"PageInfo"}))
            if any(info_field.name.value not in _PAGE_INFO for _, info_field in keys):
                raise _Unsupported("page info field")
            connection.append((key, name, tuple((k, f.name.value) for k, f in keys)))
        else:
            raise _Unsupported(name)
    if len(node_shapes) != 1:  # none (nothing to build) or two (edges and nodes)
        raise _Unsupported("not one node selection")
    return _plan_for(node_shapes[0], tuple(connection))


def _plan_for(node: Shape, connection: tuple[tuple[str, str, Any], ...]) -> PagePlan:
    values = {value for _, value, _ in node}
    return PagePlan(
        connection=connection,
        node=node,
        regions="region" in values,
        parties="parties" in values,
        titles=_uses(node, "title"),
        timelines=_uses(node, "records"),
    )


def _uses(shape: Shape, wanted: str) -> bool:
    """Whether ``shape`` reads ``wanted`` anywhere (a page's record or a timeline's)."""
    return any(
        value == wanted or (sub is not None and _uses(sub, wanted)) for _, value, sub in shape
    )


def _shape(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    names: Mapping[str, str],
    types: frozenset[str],
    passed_over: Callable[[str], bool] | None = None,
) -> Shape:
    shape: list[tuple[str, str, Shape | None]] = []
    for key, field in _keyed(selection_set, fragments, types, passed_over):
        value = names.get(field.name.value)
        if value is None:
            raise _Unsupported(field.name.value)
        sub: Shape | None = None
        if value in _OBJECTS:
            sub_names, sub_types = _OBJECTS[value]
            sub = _shape(field.selection_set, fragments, sub_names, sub_types)
        elif field.selection_set is not None:
            raise _Unsupported("selection on a leaf")
        shape.append((key, value, sub))
    return tuple(shape)


@functools.cache
def _type_names() -> tuple[tuple[str, str], ...] | None:
    """Each kind's GraphQL type name, when it is also the name its global ids carry
    (``schema.kinds.record_from_row`` encodes the class's name); else ``None``."""
    names: list[tuple[str, str]] = []
    for kind, cls in TYPE_OF_KIND.items():
        name = get_object_definition(cls, strict=True).name
        if name != cls.__name__:
            return None
        names.append((kind.name, name))
    return tuple(names)


async def answer_page(
    info: Info,
    plan: PagePlan,
    statement: queries.AnySelect,
    request: PageRequest,
    order_by: RecordOrder,
    descending: bool,
) -> Prebuilt | None:
    """The page as the connection's completed value, each node JSON text from the database;
    ``None`` when a person it shows the timeline of was merged (the general path follows
    merges)."""
    type_names = _type_names()
    assert type_names is not None  # page_plan checked
    security = info.context.security
    built = page_json.page_json(
        statement,
        plan.node,
        scope=security.scope,
        descending=descending,
        type_names=type_names,
        size=request.size,
    )
    rows = list(await fetch_built(info.context.sessions, built))
    if plan.timelines and any(row[page_json.MERGED] for row in rows):
        return None
    has_more = len(rows) > request.size
    rows = rows[: request.size]
    if request.backwards:
        rows.reverse()
    _note_personal_data(info, plan, rows)
    cursors = _Cursors(order_by, rows)
    nodes = [orjson.Fragment(row[page_json.NODE]) for row in rows]
    answer: dict[str, Any] = {}
    for key, name, detail in plan.connection:
        if name == "__typename":
            answer[key] = detail
        elif name == "nodes":
            answer[key] = nodes
        elif name == "edges":
            answer[key] = _edges(detail, nodes, cursors)
        else:
            page_info = request.page_info(
                has_more=has_more,
                start_cursor=cursors(0) if rows else None,
                end_cursor=cursors(len(rows) - 1) if rows else None,
            )
            answer[key] = _page_info(detail, page_info)
    return Prebuilt(answer)


async def answer_node(info: Info, plan: PagePlan, kind: RecordKind, pk: int) -> Prebuilt | None:
    """The record ``pk`` of ``kind`` as ``node(id)``'s completed value, its JSON text from the
    database; ``None`` when there is none within the principal's scope (or its persons'
    timelines span a merge), for the general path to answer as it does."""
    type_names = _type_names()
    assert type_names is not None  # node_plan checked
    security = info.context.security
    built = page_json.page_json(
        queries.record_in_scope(security.scope, with_regions=plan.regions),
        plan.node,
        scope=security.scope,
        descending=False,
        type_names=type_names,
    )
    rows = await fetch_built(
        info.context.sessions, built, {queries.RECORD_ID: pk, queries.KIND: kind}
    )
    if not rows or (plan.timelines and rows[0][page_json.MERGED]):
        return None
    _note_personal_data(info, plan, rows)
    return Prebuilt(orjson.Fragment(rows[0][page_json.NODE]))


def _note_personal_data(info: Info, plan: PagePlan, rows: Sequence[NamedRow]) -> None:
    """The records whose parties, and the persons, the answer shows, for the audit row, as
    the general path notes them."""
    if not plan.parties:
        return
    security = info.context.security
    security.pii_record_ids.update(row["id"] for row in rows)
    for row in rows:
        if row[page_json.PERSON_IDS]:
            security.pii_person_ids.update(map(int, row[page_json.PERSON_IDS].split(",")))
        if row[page_json.TIMELINE_IDS]:
            security.pii_record_ids.update(map(int, row[page_json.TIMELINE_IDS].split(",")))


class _Cursors:
    """Each row's cursor, encoded when first asked for."""

    def __init__(self, order_by: RecordOrder, rows: Sequence[NamedRow]) -> None:
        self._order_by = order_by
        self._rows = rows
        self._known: dict[int, str] = {}

    def __call__(self, index: int) -> str:
        cursor = self._known.get(index)
        if cursor is None:
            row = self._rows[index]
            cursor = encode_record_cursor(self._order_by, row[queries.SORT_LABEL], row["id"])
            self._known[index] = cursor
        return cursor


def _edges(
    detail: tuple[str, tuple[tuple[str, str], ...]],
    nodes: list[orjson.Fragment],
    cursors: Callable[[int], str],
) -> list[dict[str, Any]]:
    edge_type, fields = detail
    edges: list[dict[str, Any]] = []
    for index, node in enumerate(nodes):
        edge: dict[str, Any] = {}
        for key, name in fields:
            if name == "node":
                edge[key] = node
            elif name == "cursor":
                edge[key] = cursors(index)
            else:
                edge[key] = edge_type
        edges.append(edge)
    return edges


def _page_info(fields: tuple[tuple[str, str], ...], page_info: PageInfo) -> dict[str, Any]:
    values = {
        "__typename": "PageInfo",
        "hasNextPage": page_info.has_next_page,
        "hasPreviousPage": page_info.has_previous_page,
        "startCursor": page_info.start_cursor,
        "endCursor": page_info.end_cursor,
    }
    return {key: values[name] for key, name in fields}
