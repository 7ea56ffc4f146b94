"""Which relations of a page's records a client selected (选择集), read from the document.

Only a hint for prefetching: a relation missed here is still loaded lazily by its loader.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
)

_NODE_PATHS = (("edges", "node"), ("nodes",))


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    """The fields of a selection set, fragments (inline or named) flattened."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                yield from _fields(fragment.selection_set, fragments, seen | {name})


def _fields_at(
    info: GraphQLResolveInfo[Any], paths: tuple[tuple[str, ...], ...]
) -> Iterator[FieldNode]:
    """The fields selected at each of ``paths`` under the resolving field, fragments
    flattened."""
    fragments = info.fragments
    for path in paths:
        level = list(info.field_nodes)
        for name in path:
            level = [
                field
                for node in level
                for field in _fields(node.selection_set, fragments)
                if field.name.value == name
            ]
        for node in level:
            yield from _fields(node.selection_set, fragments)


def selected_relations(info: GraphQLResolveInfo[Any]) -> frozenset[str]:
    """``region``, ``parties``, ``parties.person`` and ``parties.person.records`` as selected
    on a connection's nodes."""
    fragments = info.fragments
    found: set[str] = set()
    for field in _fields_at(info, _NODE_PATHS):
        name = field.name.value
        if name == "region":
            found.add("region")
        elif name == "parties":
            found.add("parties")
            for sub in _fields(field.selection_set, fragments):
                if sub.name.value == "person":
                    found.add("parties.person")
                    if any(
                        deeper.name.value == "records"
                        for deeper in _fields(sub.selection_set, fragments)
                    ):
                        found.add("parties.person.records")
    return frozenset(found)


def node_fields(info: GraphQLResolveInfo[Any], below: tuple[str, ...] = ()) -> frozenset[str]:
    """The names of the fields selected on a connection's nodes, fragments flattened; with
    ``below``, of the fields selected at that path under the nodes (``("parties", "person")``)."""
    paths = tuple(path + below for path in _NODE_PATHS)
    return frozenset(field.name.value for field in _fields_at(info, paths))


def kind_fields_in(info: GraphQLResolveInfo[Any], names: frozenset[str]) -> bool:
    """Whether ``names`` (fields selected on records) hold a field of a kind's own, beyond
    the Record interface (``... on Dispute { mediator }``): only then are kind tables read."""
    record = info.schema.get_type("Record")
    shared = record.fields if isinstance(record, GraphQLInterfaceType) else {}
    return any(name not in shared and name != "__typename" for name in names)


# Per field node of a person's ``records`` (the parsed documents are kept, so are their
# nodes): whether its entries' records select a kind's own field. The node is kept beside
# the answer, so an id is never taken for another node's.
_TIMELINE_KIND_FIELDS: dict[int, tuple[FieldNode, bool]] = {}


def timeline_reads_kind_fields(info: GraphQLResolveInfo[Any]) -> bool:
    """Whether the resolving timeline field (``records { record { … } }``) reads a field of
    a record kind's own, worked out once per field node."""
    node = info.field_nodes[0]
    known = _TIMELINE_KIND_FIELDS.get(id(node))
    if known is not None and known[0] is node:
        return known[1]
    record_fields = _fields_at(info, (("record",),))
    answer = kind_fields_in(info, frozenset(field.name.value for field in record_fields))
    if len(_TIMELINE_KIND_FIELDS) > 4096:
        _TIMELINE_KIND_FIELDS.clear()
    _TIMELINE_KIND_FIELDS[id(node)] = (node, answer)
    return answer


def selects_field(info: GraphQLResolveInfo[Any], name: str) -> bool:
    """Whether the resolving field's own selection (fragments included) names ``name``."""
    return any(
        field.name.value == name
        for node in info.field_nodes
        for field in _fields(node.selection_set, info.fragments)
    )
