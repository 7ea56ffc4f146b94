"""Query limits (查询复杂度限制): tokens, depth, aliases and cost, checked before execution.

An over-limit document is answered with one error coded ``QUERY_TOO_COMPLEX`` and never
executed. Cost estimates the objects a query fetches: each object-typed field costs 1, and a
list multiplies the cost of its selection by ``first``/``last`` (the default page size when
absent), by the length of a ``nodes(ids)`` list, or by :data:`LIST_ESTIMATE` for unpaged lists
(parties, linked records, children). Lists inside a connection (its ``edges``/``nodes``) are
already counted by the connection's page size. Introspection (``__schema``) is not counted,
so GraphiQL works.

Depth and cost are capped per role (``domain.roles.LIMITS``: a dashboard viewer gets a
smaller budget than centre staff); the constants below are the ceilings for every role.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
)
from strawberry.extensions import SchemaExtension

from domain.roles import RoleLimits
from schema.errors import ErrorCode
from schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_TOKENS = 2_000
MAX_DEPTH = 10
MAX_ALIASES = 20
MAX_COST = 10_000
LIST_ESTIMATE = 10
PARSED_DOCUMENTS = 512  # distinct documents kept parsed (and validated) in memory

_PAGE_ARGUMENTS = ("first", "last", "ids")


@dataclass
class QueryUsage:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


class _Analysis:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.usage = QueryUsage()
        self.read_variables = False  # whether a page size came from a variable

    def _argument(self, field: FieldNode) -> int | None:
        for argument in field.arguments or ():
            if argument.name.value not in _PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                self.read_variables = True
                resolved = self.variables.get(value.name.value)
                if isinstance(resolved, list):
                    return len(resolved)
                return resolved if isinstance(resolved, int) else MAX_PAGE_SIZE
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, ListValueNode):
                return len(value.values)
        return None

    def _multiplier(self, parent: Any, field: FieldNode, field_type: Any) -> int:
        page = self._argument(field)
        if page is not None:
            return max(page, 0)
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if not isinstance(field_type, GraphQLList):
            return 1
        if parent.name.endswith("Connection"):
            return 1  # edges / nodes: counted by the connection's page size
        if get_named_type(field_type).name.endswith("Edge"):
            return DEFAULT_PAGE_SIZE
        return LIST_ESTIMATE

    def selection_cost(
        self, selection_set: SelectionSetNode | None, parent: Any, depth: int, seen: frozenset[str]
    ) -> int:
        if selection_set is None:
            return 0
        self.usage.depth = max(self.usage.depth, depth)
        cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                cost += self._field_cost(selection, parent, depth, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                cost += self.selection_cost(selection.selection_set, scope or parent, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                scope = self.schema.get_type(fragment.type_condition.name.value) or parent
                cost += self.selection_cost(fragment.selection_set, scope, depth, seen | {name})
        return cost

    def _field_cost(self, field: FieldNode, parent: Any, depth: int, seen: frozenset[str]) -> int:
        if field.name.value.startswith("__"):
            return 0  # introspection and __typename
        if field.alias is not None:
            self.usage.aliases += 1
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(field.name.value)
        if definition is None or field.selection_set is None:
            return 0  # unknown fields are validation's business; leaves are free
        child = get_named_type(definition.type)
        below = self.selection_cost(field.selection_set, child, depth + 1, seen)
        return self._multiplier(parent, field, definition.type) * (1 + below)


def query_usage(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> QueryUsage:
    return _measure(schema, operation, fragments, variables).usage


def _measure(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> _Analysis:
    analysis = _Analysis(schema, fragments, variables or {})
    root = schema.get_root_type(operation.operation)
    analysis.usage.cost = analysis.selection_cost(operation.selection_set, root, 1, frozenset())
    return analysis


def _chosen_operation(
    document: DocumentNode, operation_name: str | None
) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    """The operation a request runs (``None`` unless exactly one matches) and the fragments."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name is not None and o.name.value == operation_name)
    ]
    return (chosen[0] if len(chosen) == 1 else None), fragments


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def _fixed_usage(
    schema: GraphQLSchema, query: str, operation_name: str | None
) -> QueryUsage | None:
    """What an operation of a document uses when no variable sets a page size in it
    (measured once per document: the same for every request); ``None`` when variables do,
    or when the operation is not one of the document's."""
    operation, fragments = _chosen_operation(parse_document(query), operation_name)
    if operation is None:
        return None
    analysis = _measure(schema, operation, fragments, None)
    return None if analysis.read_variables else analysis.usage


def request_usage(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str | None,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> QueryUsage | None:
    """What this request's operation uses (``None`` when the document does not name exactly
    one): remembered per document text unless a variable sets a page size."""
    if query is not None and parsed_tree(query) is document:
        fixed = _fixed_usage(schema, query, operation_name)
        if fixed is not None:
            return fixed
    operation, fragments = _chosen_operation(document, operation_name)
    if operation is None:
        return None
    return query_usage(schema, operation, fragments, variables)


def parsed_tree(query: str) -> DocumentNode | None:
    """The cached tree of ``query`` (:func:`parse_document`), ``None`` when it does not parse."""
    try:
        return parse_document(query)
    except GraphQLError:
        return None


def _too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value})


def limit_errors(usage: QueryUsage, limits: RoleLimits | None = None) -> list[GraphQLError]:
    max_depth = min(MAX_DEPTH, limits.max_depth) if limits else MAX_DEPTH
    max_cost = min(MAX_COST, limits.max_cost) if limits else MAX_COST
    errors = []
    if usage.depth > max_depth:
        errors.append(_too_complex(f"Query depth {usage.depth} exceeds {max_depth}."))
    if usage.aliases > MAX_ALIASES:
        errors.append(_too_complex(f"Query uses {usage.aliases} aliases, over {MAX_ALIASES}."))
    if usage.cost > max_cost:
        errors.append(
            _too_complex(
                f"Query cost {usage.cost} exceeds {max_cost}; request smaller pages or fewer "
                "nested lists."
            )
        )
    return errors


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def parse_document(query: str) -> DocumentNode:
    """Parse once per distinct document (token-limited); the cached tree is shared."""
    return parse(query, max_tokens=MAX_TOKENS)


class QueryLimits(SchemaExtension):
    """Parse (cached, token-limited), then refuse over-limit documents before execution.

    List it after ``schema.validation.DocumentValidation``: validation errors, when any, win;
    a valid document is then measured against the limits with this request's variables.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = MAX_TOKENS
        if context.query is not None and context.graphql_document is None:
            with contextlib.suppress(GraphQLError):  # strawberry parses again and reports it
                context.graphql_document = parse_document(context.query)
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError) and "tokens" in error.message:
                error.extensions = {"code": ErrorCode.QUERY_TOO_COMPLEX.value}

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            usage = request_usage(
                context.schema._schema,
                document,
                context.query,
                context.operation_name,
                context.variables,
            )
            if usage is not None:
                security = getattr(context.context, "security", None)
                if errors := limit_errors(usage, security.limits if security else None):
                    # Strawberry returns these instead of executing.
                    context.pre_execution_errors = errors
        yield
