"""Query limits measured once per document unless a variable sets a page size (schema/limits.py)."""

from __future__ import annotations

from graphql import OperationDefinitionNode, parse

from resolvers.root import schema
from schema.limits import parse_document, query_usage, request_usage

QUERY_FIXED = "query Fixed { records(first: 20) { edges { node { id region { code } } } } }"
QUERY_SIZED = (
    "query Sized($n: Int) { records(first: $n) { edges { node { id region { code } } } } }"
)


def _measured_afresh(query: str, variables: dict[str, int] | None) -> int:
    document = parse(query)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return query_usage(schema._schema, operation, {}, variables).cost


def test_a_document_with_fixed_page_sizes_is_measured_once() -> None:
    # given a document whose page sizes are written in it
    document = parse_document(QUERY_FIXED)
    # when two requests send it (the second with a fresh copy of the text)
    first = request_usage(schema._schema, document, QUERY_FIXED, "Fixed", None)
    second = request_usage(schema._schema, document, "".join(QUERY_FIXED), "Fixed", {"n": 9})
    # then the second is answered with the first's measure, which is the document's own
    assert first is not None and second is first
    assert first.cost == _measured_afresh(QUERY_FIXED, None) == 20 * 4


def test_a_page_size_from_a_variable_is_measured_with_each_requests_variables() -> None:
    # given a document whose page size is a variable
    document = parse_document(QUERY_SIZED)
    # when it is sent with a small page, then with a large one
    small = request_usage(schema._schema, document, QUERY_SIZED, "Sized", {"n": 5})
    large = request_usage(schema._schema, document, QUERY_SIZED, "Sized", {"n": 100})
    # then each request's own page size counts
    assert small is not None and large is not None
    assert (small.cost, large.cost) == (5 * 4, 100 * 4)
    assert large.cost == _measured_afresh(QUERY_SIZED, {"n": 100})


def test_a_tree_parsed_elsewhere_is_measured_as_it_is() -> None:
    # given a tree that is not the cached one for its text (e.g. a stand-in document)
    tree = parse(QUERY_FIXED)
    # when it is measured
    usage = request_usage(schema._schema, tree, QUERY_FIXED, "Fixed", None)
    # then it is measured on its own, with the same result
    assert usage is not None and usage.cost == 80
    assert usage is not request_usage(
        schema._schema, parse_document(QUERY_FIXED), QUERY_FIXED, "Fixed", None
    )


def test_an_operation_name_the_document_lacks_is_not_measured() -> None:
    document = parse_document(QUERY_FIXED)
    assert request_usage(schema._schema, document, QUERY_FIXED, "Other", None) is None
