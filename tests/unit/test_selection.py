"""Which relations of a page's records a document selects (the prefetch hint)."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from resolvers.selection import selected_relations


class _Info:
    """The two attributes of graphql-core's resolve info the walker reads."""

    def __init__(self, document: str) -> None:
        parsed = parse(document)
        operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
        root = operation.selection_set.selections[0]
        assert isinstance(root, FieldNode)
        self.field_nodes = [root]
        self.fragments = {
            d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
        }


def _selected(document: str) -> frozenset[str]:
    info: Any = _Info(document)
    return selected_relations(info)


def test_plain_fields_select_no_relation() -> None:
    assert _selected("{ records { edges { cursor node { id title } } } }") == frozenset()


def test_relations_under_edges_nodes_and_fragments_are_found() -> None:
    assert _selected("{ records { edges { node { region { code } } } } }") == {"region"}
    assert _selected("{ records { nodes { parties { name } } } }") == {"parties"}
    assert _selected(
        """
        query { records { edges { node { ...N ... on Dispute { region { code } } } } } }
        fragment N on Record { parties { ...P } }
        fragment P on Party { person { id } }
        """
    ) == {"region", "parties", "parties.person"}


def test_relations_outside_the_nodes_are_ignored() -> None:
    assert _selected("{ records { pageInfo { hasNextPage } totalCount } }") == frozenset()
