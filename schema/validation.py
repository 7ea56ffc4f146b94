"""Validation remembered by document text (校验缓存).

Strawberry's ``ValidationCache`` keys its cache on the parsed document, and a document's key
is the hash of its whole syntax tree, worked out node by node on every request. A document
parsed through :func:`schema.limits.parse_document` is one tree per text, so here the text
keys the cache instead (a string's hash is one C loop). The same validation runs on a miss
(Strawberry's ``validate_document``, its rules included), and the errors are shared as
Strawberry shares them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from schema.limits import PARSED_DOCUMENTS, parse_document, parsed_tree

_Rules = tuple[type[ASTValidationRule], ...]


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def validated_text(schema: GraphQLSchema, query: str, rules: _Rules) -> list[GraphQLError]:
    """The validation errors of ``query`` (parsed once, :func:`parse_document`)."""
    return validate_document(schema, parse_document(query), rules)


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def _validated_tree(
    schema: GraphQLSchema, document: DocumentNode, rules: _Rules
) -> list[GraphQLError]:
    return validate_document(schema, document, rules)


class DocumentValidation(SchemaExtension):
    """Validate once per document (in place of Strawberry's ``ValidationCache``)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        schema = context.schema._schema
        rules = context.validation_rules
        if context.query is not None and document is parsed_tree(context.query):
            context.pre_execution_errors = validated_text(schema, context.query, rules)
        elif document is not None:  # a tree parsed elsewhere: keyed by the tree, as before
            context.pre_execution_errors = _validated_tree(schema, document, rules)
        if (
            not context.pre_execution_errors
            and document is not None
            and context._provided_operation_name is None
            and _operations(document) > 1
        ):
            # Strawberry would run the first (it names the first operation when none is
            # given); GraphQL asks the client to choose (spec: GetOperation)
            context.pre_execution_errors = [GraphQLError(MULTIPLE_OPERATIONS)]
        yield


MULTIPLE_OPERATIONS = "Must provide operation name if query contains multiple operations."


def _operations(document: DocumentNode) -> int:
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
