"""Text no database can take, and transports an operation may not use (输入防护).

A NUL character or an unpaired surrogate in any string argument — a literal in the document
or a variable, however deep — is refused with ``BAD_USER_INPUT`` before anything runs:
PostgreSQL cannot compare against a NUL and no driver can encode a lone surrogate, so such
text could only ever fail, as an internal error. A subscription sent over HTTP is refused
the same way: subscriptions run over the WebSocket (``graphql-transport-ws``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from schema.errors import BadUserInput, GovhubError
from schema.limits import PARSED_DOCUMENTS, parse_document
from schema.security import RequestSecurity

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable_text(value: Any) -> bool:
    """Whether any string in a JSON value (keys included) holds NUL or a lone surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.unstorable = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if _UNSTORABLE.search(node.value):
            self.unstorable = True
            return self.BREAK
        return None


def _visit_literals(document: DocumentNode) -> bool:
    literals = _StringLiterals()
    visit(document, literals)
    return literals.unstorable


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def _unstorable_literals(query: str) -> bool:
    """Whether the (cached, parsed) document's string literals hold unstorable text: a
    document's literals do not change, so each distinct document is walked once."""
    return _visit_literals(parse_document(query))


class HostileInput(SchemaExtension):
    """After validation (list it after ``FieldRules``): refuse unstorable text and
    subscriptions over HTTP."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            problem = self._problem()
            if problem is not None:
                context.pre_execution_errors = [
                    GraphQLError(problem.message, original_error=problem)
                ]
        yield

    def _problem(self) -> GovhubError | None:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        if context.query is not None and document is parse_document(context.query):
            unstorable = _unstorable_literals(context.query)
        else:
            unstorable = _visit_literals(document)
        if unstorable or has_unstorable_text(context.variables):
            return BadUserInput(
                "Text arguments may not contain NUL characters or unpaired surrogates."
            )
        security: RequestSecurity | None = getattr(context.context, "security", None)
        subscribing = any(
            isinstance(definition, OperationDefinitionNode)
            and definition.operation is OperationType.SUBSCRIPTION
            for definition in document.definitions
        )
        if subscribing and security is not None and not security.over_websocket:
            return BadUserInput(
                "Subscriptions run over the WebSocket at /graphql (graphql-transport-ws)."
            )
        return None
