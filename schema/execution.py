"""A lighter execution path for list pages (列表页的轻量执行).

A 50-record page selects about a thousand scalar fields (``title``, ``status``, ``occurredAt``
…) that only read an attribute of an already-loaded object, and a few hundred relation fields
(``region``, ``parties``, ``person``) whose resolvers hand back a prefetched value. Two
changes take the general machinery off that path, both decided once from what Strawberry
recorded when it built the schema:

- :class:`PlainFieldExecutor` reads a plain scalar or enum field directly and coerces it with
  the field's own type, instead of a ``ResolveInfo``, the resolver chain, ``complete_value``
  and the awaitable checks per field.
- :func:`streamline_resolvers` calls a resolver that takes no arguments straight, with the
  ``Info`` it asks for, instead of through Strawberry's argument conversion and
  field-extension chain, which such a field does not use.

For the executor, a field is plain when it has no resolver of ours, no field extensions, no
arguments, and a scalar or enum type. Anything else, and any value the fast path cannot
settle (``None`` for a non-null field, a value the type refuses), goes through graphql-core's
own ``execute_field``, so results and errors are exactly what the general path gives. Schema
extensions that hook ``resolve`` turn the fast path off for the request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum, EnumMeta
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info


class PlainLeaf(NamedTuple):
    """How to read one plain leaf field: its attribute, its leaf type, whether it is nullable."""

    attribute: str
    leaf_type: GraphQLLeafType
    nullable: bool
    # For enums: each Python member's GraphQL name, looked up instead of a scan of the values.
    enum_names: dict[Any, str]

    def read(self, source: Any) -> Any:
        """The coerced value, or ``Undefined`` when the general path must decide (and report)."""
        try:
            value = getattr(source, self.attribute)
            if value is None:
                return None if self.nullable else Undefined
            if self.enum_names:
                return self.enum_names.get(value, Undefined)
            coerced = self.leaf_type.coerce_output_value(value)
        except Exception:  # the general path runs it again and reports the error
            return Undefined
        return Undefined if coerced is None else coerced


# Per schema (weakly, so a schema that is dropped takes its plans with it), per type and field
# name; ``None`` marks a field that takes the general path.
_PLANS: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], PlainLeaf | None]] = (
    WeakKeyDictionary()
)


def plain_leaf(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str
) -> PlainLeaf | None:
    """The fast-path plan for ``parent_type.name``, or ``None`` when it must take the full path."""
    plans = _PLANS.setdefault(schema, {})
    key = (parent_type.name, name)
    if key not in plans:
        plans[key] = _plan(schema.get_field(parent_type, name))
    return plans[key]


def _plan(field_def: GraphQLField | None) -> PlainLeaf | None:
    if field_def is None or field_def.args or field_def.resolve is None:
        return None
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    # Only Strawberry's own basic resolver over the stock attribute lookup.
    if not getattr(field_def.resolve, "_is_default", False):
        return None
    if definition.default_resolver is not getattr or definition.python_name is None:
        return None
    field_type = field_def.type
    nullable = not isinstance(field_type, GraphQLNonNull)
    leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
        return None
    return PlainLeaf(definition.python_name, leaf, nullable, _enum_names(leaf))


def _enum_names(leaf: GraphQLLeafType) -> dict[Any, str]:
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return {}
    by_value = {value.value: name for name, value in leaf.values.items()}
    members: list[Enum] = list(wrapped)
    return {member: by_value[member.value] for member in members if member.value in by_value}


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, reading plain leaf fields without the general machinery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._fast = manager is None or not manager.middlewares
        # graphql-core hands every object of one type and selection the same grouped field
        # set, so its split into plain and other fields is worked out once per request.
        self._splits: dict[tuple[int, str], _Split] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        split = self._split(parent_type, grouped_field_set) if self._fast else None
        if split is None or not split.plain:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plain: dict[str, Any] = {}
        rest = split.rest
        for response_name, plan in split.plain:
            value = plan.read(source_value)
            if value is Undefined:  # the general path settles (and reports) this one
                if rest is split.rest:
                    rest = dict(split.rest)
                rest[response_name] = grouped_field_set[response_name]
            else:
                plain[response_name] = value
        if not rest:
            return plain
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if isinstance(others, dict):  # everything settled synchronously
            return _in_order(grouped_field_set, plain, others)

        async def merged(pending: Awaitable[dict[str, Any]]) -> dict[str, Any]:
            return _in_order(grouped_field_set, plain, await pending)

        return merged(others)

    def _split(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Split:
        key = (id(grouped_field_set), parent_type.name)
        split = self._splits.get(key)
        if split is None or split.fields is not grouped_field_set:
            plain: list[tuple[str, PlainLeaf]] = []
            rest: GroupedFieldSet = {}
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                plan = (
                    None
                    if node.arguments or node.directives
                    else plain_leaf(self.schema, parent_type, node.name.value)
                )
                if plan is None:
                    rest[response_name] = field_details_list
                else:
                    plain.append((response_name, plan))
            split = _Split(grouped_field_set, tuple(plain), rest)
            self._splits[key] = split
        return split


class _Split(NamedTuple):
    fields: GroupedFieldSet
    plain: tuple[tuple[str, PlainLeaf], ...]
    rest: GroupedFieldSet


def _in_order(
    grouped_field_set: GroupedFieldSet, plain: dict[str, Any], others: dict[str, Any]
) -> dict[str, Any]:
    """Both halves' results in the order the fields were selected (the response order)."""
    combined = plain | others
    return {name: combined[name] for name in grouped_field_set if name in combined}


def streamline_resolvers(schema: strawberry.Schema) -> int:
    """Give fields whose resolvers take no arguments a direct call; returns how many.

    Strawberry wraps every resolver in one general function: it converts the arguments,
    runs field extensions (permissions among them), applies exception handlers, then calls
    the resolver with ``self``/``info`` as it asks. A field with no arguments, no field
    extensions and no exception handlers needs only the last step, so it gets exactly that:
    the same call, the same ``Info``, without the rest. Everything graphql-core does around a
    resolver (completion, errors, middleware from schema extensions) is unchanged.
    """
    converter = schema.schema_converter
    if getattr(converter, "_exception_handler_specs", ()):
        return 0
    streamlined = 0
    for named_type in schema._schema.type_map.values():
        if not isinstance(named_type, GraphQLObjectType) or named_type.name.startswith("__"):
            continue
        for field_def in named_type.fields.values():
            direct = _direct_resolver(field_def, schema.config.info_class)
            if direct is not None:
                field_def.resolve = direct
                streamlined += 1
    return streamlined


def _direct_resolver(field_def: GraphQLField, info_class: type[Info]) -> Any:
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    resolver = definition.base_resolver
    if resolver is None or definition.arguments or field_def.args:
        return None
    if resolver.root_parameter is not None or resolver.parent_parameter is not None:
        return None
    function: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
    takes_self = resolver.self_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **_: Any) -> Any:
        kwargs = (
            {} if info_name is None else {info_name: info_class(_raw_info=info, _field=definition)}
        )
        return function(source, **kwargs) if takes_self else function(**kwargs)

    resolve._is_default = False  # type: ignore[attr-defined]  # as Strawberry marks resolvers
    return resolve
