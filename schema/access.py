"""Access control (访问控制): authentication, persisted documents, and field rules by role.

Deny by default, decided once per operation before anything executes:

- no principal (missing, malformed, expired or wrongly signed token) → ``UNAUTHENTICATED``;
- a role listed in ``GOVHUB_PERSISTED_ROLES`` sending an ad-hoc document →
  ``PERSISTED_DOCUMENT_REQUIRED`` (registered documents run by ``sha256Hash``/``documentId``);
- a document selecting what the role may not read → ``FORBIDDEN``, decided from the
  sensitivity each field declares (``schema.sensitivity``): records or figures for a role
  reading no kinds (``auditor``), records for a role reading figures only
  (``dashboard_viewer``), a per-kind list of a kind it does not read, anything personal without
  the ``parties`` right, free text without ``free_text``, the audit log without
  ``audit_log``, a mutation not listed for the role, introspection in ``prod``, and any field
  of a guarded type that declares no sensitivity at all;
- a ``pii:read`` principal selecting ``idNumber``/``phone`` without ``X-Purpose`` →
  ``PURPOSE_REQUIRED``. The whole operation is refused, not just those fields: a client learns
  at once that it must state why, and nothing half-answered is audited as read.

Which records (kinds and jurisdiction) is decided in SQL by the resolvers and loaders.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from domain.enums import RecordKind
from domain.roles import DEV_MUTATIONS, PII_SCOPE, Principal
from schema.errors import (
    Forbidden,
    GovhubError,
    PersistedDocumentNotFound,
    PersistedDocumentRequired,
    PurposeRequired,
    Unauthenticated,
)
from schema.limits import PARSED_DOCUMENTS, parse_document
from schema.security import RequestSecurity
from schema.sensitivity import Sensitivity, declared_sensitivity, kind_of

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})

Coordinate = tuple[str, str]


class _FieldCollector(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.fields: set[Coordinate] = set()

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.type_info.get_parent_type()
        if parent is not None:
            self.fields.add((parent.name, node.name.value))


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def selected_fields(schema: GraphQLSchema, query: str) -> frozenset[Coordinate]:
    """Every ``(parent type, field)`` the document selects, in any operation or fragment."""
    type_info = TypeInfo(schema)
    collector = _FieldCollector(type_info)
    visit(parse_document(query), TypeInfoVisitor(type_info, collector))
    return frozenset(collector.fields)


def _no_parties(principal: Principal) -> Forbidden:
    return Forbidden(f"Role {principal.role} may not read parties or persons.")


@dataclass(frozen=True, slots=True)
class FieldMarker:
    sensitivity: Sensitivity | None
    kind: RecordKind | None = None


@functools.cache
def field_markers(schema: GraphQLSchema) -> dict[Coordinate, FieldMarker]:
    """Every field's declared sensitivity, by ``(parent type, field)``, read off ``schema``."""
    markers: dict[Coordinate, FieldMarker] = {}
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in type_.fields.items():
                sensitivity = declared_sensitivity(schema, type_.name, field, name)
                markers[(type_.name, name)] = FieldMarker(sensitivity, kind_of(field))
    return markers


def _marker(schema: GraphQLSchema, coordinate: Coordinate) -> FieldMarker:
    marker = field_markers(schema).get(coordinate)
    if marker is not None:
        return marker
    parent, name = coordinate  # a meta field such as __typename
    return FieldMarker(declared_sensitivity(schema, parent, None, name))


def _field_problem(
    principal: Principal,
    purpose: str | None,
    env: str,
    coordinate: Coordinate,
    schema: GraphQLSchema,
) -> GovhubError | None:
    parent, name = coordinate
    policy = principal.policy
    if name in INTROSPECTION_FIELDS:
        return Forbidden("Introspection is disabled.") if env == "prod" else None
    mutation = schema.mutation_type
    dev_only = env == "dev" and name in DEV_MUTATIONS  # the console's demo tokens
    if mutation is not None and parent == mutation.name and name not in policy.mutations:
        return None if dev_only else Forbidden(f"Role {principal.role} may not call {name}.")
    marker = _marker(schema, coordinate)
    match marker.sensitivity:
        case None:
            return Forbidden(f"{parent}.{name} declares no sensitivity; no role may read it.")
        case Sensitivity.RECORDS if marker.kind is not None and marker.kind not in policy.kinds:
            return Forbidden(f"Role {principal.role} may not read {marker.kind.value} records.")
        case Sensitivity.RECORDS | Sensitivity.FIGURES if not policy.kinds:
            return Forbidden(f"Role {principal.role} reads no records.")
        case Sensitivity.RECORDS if not policy.records:
            return Forbidden(f"Role {principal.role} reads figures only, not records.")
        case Sensitivity.AUDIT if not policy.audit_log:
            return Forbidden("Only the auditor role reads the audit log.")
        case Sensitivity.OPERATIONS if not policy.operations:
            return Forbidden(f"Role {principal.role} may not read write-back states.")
        case Sensitivity.ADMINISTRATION if not policy.administration:
            return Forbidden(f"Role {principal.role} may not read dead letters or the outbox.")
        case Sensitivity.MATTERS if not policy.matters:
            return Forbidden(f"Role {principal.role} reads no matters.")
        case Sensitivity.FREE_TEXT if not policy.free_text:
            return Forbidden(f"Role {principal.role} may not read {name}.")
        case Sensitivity.PERSONAL | Sensitivity.IDENTIFIER if not policy.parties:
            return _no_parties(principal)
        case Sensitivity.IDENTIFIER if PII_SCOPE in principal.scopes and purpose is None:
            return PurposeRequired(
                "Reading ID numbers or phones in full needs a stated purpose: send the header "
                "X-Purpose (4–200 characters, e.g. the case number), or leave them out."
            )
    return None


def access_problems(
    principal: Principal,
    purpose: str | None,
    env: str,
    fields: frozenset[Coordinate],
    schema: GraphQLSchema,
) -> list[GovhubError]:
    """The distinct reasons to refuse a document, most fundamental first."""
    problems: dict[str, GovhubError] = {}
    for coordinate in sorted(fields):
        problem = _field_problem(principal, purpose, env, coordinate, schema)
        if problem is not None:
            problems.setdefault(problem.message, problem)
    return sorted(problems.values(), key=lambda p: isinstance(p, PurposeRequired))


_CLEARED: OrderedDict[tuple[Any, ...], None] = OrderedDict()
"""Documents found to break no rule, by what the rules read of the principal (role, whether
it holds ``pii:read``, whether a purpose was given), the environment and the fields selected;
at most ``CLEARED_DOCUMENTS``, least recently used forgotten first. Refusals are not kept."""
CLEARED_DOCUMENTS = 4 * PARSED_DOCUMENTS


def checked_access_problems(
    principal: Principal,
    purpose: str | None,
    env: str,
    fields: frozenset[Coordinate],
    schema: GraphQLSchema,
) -> list[GovhubError]:
    """:func:`access_problems`, remembering the documents that break no rule: a client
    sending the same document again is cleared without the rules being walked again."""
    key = (principal.role, PII_SCOPE in principal.scopes, purpose is None, env, fields, schema)
    if key in _CLEARED:
        _CLEARED.move_to_end(key)
        return []
    problems = access_problems(principal, purpose, env, fields, schema)
    if not problems:
        _CLEARED[key] = None
        if len(_CLEARED) > CLEARED_DOCUMENTS:
            _CLEARED.popitem(last=False)
    return problems


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def document_hash(query: str) -> str:
    """SHA-256 of a document's text (hex), worked out once per text: the documents a hub
    sees are few, and ``parse_document`` keeps as many texts already."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if not isinstance(persisted, dict):
        return None
    value = persisted.get("sha256Hash")
    if not isinstance(value, str):
        return None
    return value.removeprefix("sha256:").lower()


def dev_mutations_only(query: str) -> bool:
    """One mutation selecting nothing at its root but dev-only fields (``devToken``): the one
    document a caller without a token may run, and only in ``dev``."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return False
    if len(document.definitions) != 1:
        return False
    [operation] = document.definitions
    return (
        isinstance(operation, OperationDefinitionNode)
        and operation.operation is OperationType.MUTATION
        and all(
            isinstance(selection, FieldNode) and selection.name.value in DEV_MUTATIONS
            for selection in operation.selection_set.selections
        )
    )


# What a refused operation runs instead of the client's document: nothing of it is parsed,
# validated or executed, and strawberry still passes through every hook (so it is audited).
REFUSED_DOCUMENT = parse_document("{ __typename }")


class Authenticate(SchemaExtension):
    """Before parsing: a principal is required; persisted documents are resolved and enforced.

    A refusal is not raised here (an exception while entering the hooks would skip the audit
    trail's exit); it is kept on the request and reported by :class:`FieldRules`.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.context.start_operation()
        security: RequestSecurity = context.context.security
        security.refusal = self._refusal(security)
        if security.refusal is not None:
            security.operation_name = context.operation_name if context.query else None
            context.graphql_document = REFUSED_DOCUMENT
            # The client's operation name would not be found in the stand-in document.
            context._provided_operation_name = None
        yield

    def _refusal(self, security: RequestSecurity) -> GovhubError | None:
        context = self.execution_context
        principal = security.principal
        if principal is None:
            if security.env == "dev" and context.query and dev_mutations_only(context.query):
                return None  # a demo token for the console's role picker (开发令牌)
            return Unauthenticated(security.authentication_error or "Authentication required.")
        if principal.expired(time.time()):  # a WebSocket's operations outlive the handshake
            return Unauthenticated("token expired")
        requested = _requested_hash(context.operation_extensions)
        if requested is not None:
            document = security.persisted_documents.get(requested)
            if document is None:
                return PersistedDocumentNotFound("No registered document has this hash.")
            if context.query is not None and document_hash(context.query) != requested:
                return PersistedDocumentNotFound("The document does not match its hash.")
            context.query = document
        elif principal.role in security.persisted_roles:
            return PersistedDocumentRequired(
                f"Role {principal.role} runs registered documents only: send "
                '{"extensions": {"persistedQuery": {"sha256Hash": ...}}} or {"documentId": ...}.'
            )
        return None


class FieldRules(SchemaExtension):
    """After validation (list it after ``DocumentValidation``): the role's field rules."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        security: RequestSecurity = context.context.security
        if security.refusal is not None:
            refusal = security.refusal
            context.pre_execution_errors = [GraphQLError(refusal.message, original_error=refusal)]
        elif (
            security.principal is not None
            and context.query is not None
            and context.graphql_document is not None
            and not context.pre_execution_errors
        ):
            graphql_schema = context.schema._schema
            fields = selected_fields(graphql_schema, context.query)
            problems = checked_access_problems(
                security.principal, security.purpose, security.env, fields, graphql_schema
            )
            if problems:
                context.pre_execution_errors = [
                    GraphQLError(problem.message, original_error=problem) for problem in problems
                ]
        yield
