"""A lighter execution path for list pages (列表页的轻量执行).

A 50-record page selects about a thousand scalar fields (``title``, ``status``, ``occurredAt``
…) that only read an attribute of an already-loaded object, and a few hundred relation fields
(``region``, ``parties``, ``person``) whose resolvers hand back a prefetched value. graphql-core
runs every one through its general machinery: a ``ResolveInfo``, the resolver chain,
``complete_value`` with its type dispatch, the awaitable checks. Two changes take that
machinery off the path, both decided from what Strawberry recorded when it built the schema:

- :func:`streamline_resolvers` gives a resolver that takes no arguments a direct call, with
  the ``Info`` it asks for, instead of Strawberry's argument conversion and field-extension
  chain, which such a field does not use.
- :class:`PlainFieldExecutor` reads the fields that compile (:mod:`schema.compiled_fields`):
  plain scalars and enums, and objects and lists of them reached through attributes or those
  direct resolvers, as long as every value is at hand. Whatever the compiled reader cannot
  settle exactly (an error, a value still loading, an unexpected type) it hands back, and
  graphql-core's own ``execute_field`` runs that field from the start, so results and errors
  are exactly what the general path gives.

Schema extensions that hook ``resolve`` turn the compiled path off for the request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from schema.compiled_fields import DIRECT_SYNC, Fallback, FieldCompiler, Read


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, reading what compiles (schema.compiled_fields) directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        fast = manager is None or not manager.middlewares
        self._compiler = FieldCompiler(self) if fast else None
        # graphql-core hands every object of one type and selection the same grouped field
        # set, so its split into compiled and other fields is worked out once per request.
        self._splits: dict[tuple[int, str], _Split] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        split = self._split(parent_type, grouped_field_set)
        if split is None or not split.fast:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        settled: dict[str, Any] = {}
        rest = split.rest
        for response_name, read in split.fast:
            try:
                settled[response_name] = read(source_value, path)
            except Fallback:  # the general path runs this field again and reports what it finds
                if rest is split.rest:
                    rest = dict(split.rest)
                rest[response_name] = grouped_field_set[response_name]
        if not rest:
            return settled
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if isinstance(others, dict):  # everything settled synchronously
            return _in_order(grouped_field_set, settled, others)

        async def merged(pending: Awaitable[dict[str, Any]]) -> dict[str, Any]:
            return _in_order(grouped_field_set, settled, await pending)

        return merged(others)

    def _split(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> _Split | None:
        if self._compiler is None:
            return None
        key = (id(grouped_field_set), parent_type.name)
        split = self._splits.get(key)
        if split is None or split.fields is not grouped_field_set:
            fast: list[tuple[str, Read]] = []
            rest: GroupedFieldSet = {}
            for response_name, field_details_list in grouped_field_set.items():
                read = self._compiler.field(parent_type, field_details_list)
                if read is None:
                    rest[response_name] = field_details_list
                else:
                    fast.append((response_name, read))
            split = _Split(grouped_field_set, tuple(fast), rest)
            self._splits[key] = split
        return split


class _Split(NamedTuple):
    fields: GroupedFieldSet
    fast: tuple[tuple[str, Read], ...]
    rest: GroupedFieldSet


def _in_order(
    grouped_field_set: GroupedFieldSet, settled: dict[str, Any], others: dict[str, Any]
) -> dict[str, Any]:
    """Both halves' results in the order the fields were selected (the response order)."""
    combined = settled | others
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
    setattr(resolve, DIRECT_SYNC, not definition.is_async)
    return resolve
