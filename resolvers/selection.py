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


def _node_fields(info: GraphQLResolveInfo[Any]) -> Iterator[FieldNode]:
    """The fields selected on a connection's nodes (``edges.node`` or ``nodes``), fragments
    flattened."""
    fragments = info.fragments
    for path in _NODE_PATHS:
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
    for field in _node_fields(info):
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


def node_fields(info: GraphQLResolveInfo[Any]) -> frozenset[str]:
    """The names of the fields selected on a connection's nodes, fragments flattened."""
    return frozenset(field.name.value for field in _node_fields(info))


def selects_field(info: GraphQLResolveInfo[Any], name: str) -> bool:
    """Whether the resolving field's own selection (fragments included) names ``name``."""
    return any(
        field.name.value == name
        for node in info.field_nodes
        for field in _fields(node.selection_set, info.fragments)
    )
