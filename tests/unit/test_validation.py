"""Validation remembered by document text (schema/validation.py)."""

from __future__ import annotations

from graphql import parse, specified_rules
from strawberry.schema.schema import validate_document

from resolvers.root import schema
from schema.validation import validated_text

QUERY_VALID = "query Valid { records(first: 3) { edges { node { id } } } }"
QUERY_UNKNOWN_FIELD = "query Unknown { records(first: 3) { edges { node { nosuch } } } }"
RULES = tuple(specified_rules)


def test_the_same_text_is_validated_once() -> None:
    # given a document validated once
    validated_text.cache_clear()
    validated_text(schema._schema, QUERY_VALID, RULES)
    # when the same text comes again in another string object
    errors = validated_text(schema._schema, "".join(QUERY_VALID), RULES)
    # then it is answered from the cache, with no errors
    assert errors == [] and validated_text.cache_info().hits == 1


def test_the_errors_are_strawberrys_own() -> None:
    # given a document selecting a field that does not exist
    # when it is validated by text
    errors = validated_text(schema._schema, QUERY_UNKNOWN_FIELD, RULES)
    # then the errors are those Strawberry's own validation finds
    expected = validate_document(schema._schema, parse(QUERY_UNKNOWN_FIELD), RULES)
    assert [e.message for e in errors] == [e.message for e in expected]
    assert errors and "nosuch" in errors[0].message
