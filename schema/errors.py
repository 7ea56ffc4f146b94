"""Errors a client may see, each with a stable ``extensions.code`` (错误码).

The tree::

    GovhubError                   code (abstract)
    ├── BadUserInput              BAD_USER_INPUT     malformed cursor, id, filter or page size
    ├── NotFound                  NOT_FOUND          a well-formed id that names nothing (visible)
    ├── QueryTooComplex           QUERY_TOO_COMPLEX  depth, aliases, tokens or cost over a limit
    ├── Unauthenticated           UNAUTHENTICATED    no, or no valid, bearer token
    ├── Forbidden                 FORBIDDEN          the role may not read a selected field
    ├── PurposeRequired           PURPOSE_REQUIRED   pii:read selecting identifiers, no X-Purpose
    ├── PersistedDocumentRequired PERSISTED_DOCUMENT_REQUIRED  ad-hoc document from a locked role
    ├── PersistedDocumentNotFound PERSISTED_DOCUMENT_NOT_FOUND unknown document hash
    └── AuditUnavailable          INTERNAL_SERVER_ERROR  audit row not written: data withheld

Resolvers raise these; graphql-core copies ``extensions`` onto the GraphQL error. Anything
else raised while executing is masked by :class:`PublicErrors` as ``INTERNAL_SERVER_ERROR``:
no SQL, stack trace or personal data reaches a response. Messages of the classes above are
written for the client and must never quote an ID number or a phone number.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any, ClassVar

import structlog
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from domain.masking import mask_text

log = structlog.get_logger(__name__)


class ErrorCode(StrEnum):
    """Values of ``extensions.code`` in GraphQL errors."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
    PERSISTED_DOCUMENT_REQUIRED = "PERSISTED_DOCUMENT_REQUIRED"
    PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class GovhubError(Exception):
    """An expected failure whose message is safe to show; ``code`` names it for programs."""

    code: ClassVar[ErrorCode]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, Any]:
        # graphql-core copies an original error's ``extensions`` onto the GraphQLError.
        return {"code": self.code.value}


class BadUserInput(GovhubError):
    """The request is malformed: a cursor, id, filter value or page size the API rejects."""

    code = ErrorCode.BAD_USER_INPUT


class NotFound(GovhubError):
    """A well-formed id or code that names no (visible) object."""

    code = ErrorCode.NOT_FOUND


class QueryTooComplex(GovhubError):
    """The document is over a depth, alias, token or cost limit; it was not executed."""

    code = ErrorCode.QUERY_TOO_COMPLEX


class Unauthenticated(GovhubError):
    """The request carries no usable bearer token; nothing was parsed or executed."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(GovhubError):
    """The principal's role may not read what the document selects (deny by default)."""

    code = ErrorCode.FORBIDDEN


class PurposeRequired(GovhubError):
    """A ``pii:read`` principal selected ID numbers or phones without stating ``X-Purpose``."""

    code = ErrorCode.PURPOSE_REQUIRED


class PersistedDocumentRequired(GovhubError):
    """The role may run registered (persisted) documents only, by their hash."""

    code = ErrorCode.PERSISTED_DOCUMENT_REQUIRED


class PersistedDocumentNotFound(GovhubError):
    """No registered document has the requested hash."""

    code = ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND


class ServiceUnavailable(GovhubError):
    """Something the operation needs is not running here (subscriptions outside the server)."""

    code = ErrorCode.SERVICE_UNAVAILABLE


class AuditUnavailable(GovhubError):
    """The audit row could not be written: the operation's data is withheld (fail closed)."""

    code = ErrorCode.INTERNAL_SERVER_ERROR


DENIED_CODES = frozenset(
    {ErrorCode.FORBIDDEN, ErrorCode.PURPOSE_REQUIRED, ErrorCode.PERSISTED_DOCUMENT_REQUIRED}
)


def error_code(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return str(code) if code is not None else None


def client_code(error: GraphQLError) -> str | None:
    """The code the client is given (:func:`public_error`): the error's own, else for
    graphql-core's errors about the document (syntax, validation, variables) its parse or
    validation code; ``None`` for an unexpected failure, which the client sees masked."""
    code = error_code(error)
    original = error.original_error
    if code is not None or not (original is None or isinstance(original, GraphQLError)):
        return code
    if isinstance(error, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_PARSE_FAILED.value
    return ErrorCode.GRAPHQL_VALIDATION_FAILED.value


def public_error(error: GraphQLError) -> GraphQLError:
    """The error as a client may see it: ours kept, GraphQL's own coded, the rest masked."""
    original = error.original_error
    if isinstance(original, GovhubError):
        return error
    if original is None or isinstance(original, GraphQLError):
        # Syntax, validation and variable-coercion errors describe the document, not the data,
        # but graphql-core quotes the values it refused: an ID number or phone a party was
        # given (openMatter's parties) would come back in plaintext.
        error.message = mask_text(error.message)
        if error_code(error) is None:
            error.extensions = {**(error.extensions or {}), "code": client_code(error)}
        return error
    log.error("graphql_unexpected_error", error=type(original).__name__, path=error.path)
    return GraphQLError(
        "Unexpected error.",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value},
    )


class PublicErrors(SchemaExtension):
    """Mask unexpected errors and give every error an ``extensions.code``."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [public_error(error) for error in errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """The same for what a WebSocket sends (subscriptions, and operations sent over it):
        each result is sent before the operation ends, so before :meth:`on_operation`'s
        turn, a document's validation errors among them."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [public_error(error) for error in errors]
        yield
