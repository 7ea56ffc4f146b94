"""Field readers for the lighter execution path, compiled once per document (字段快速读取).

A reader takes the object a field belongs to and that object's response path, and gives the
field's completed value: a coerced scalar, or for an object (or list of them) the dict of its
own selected fields, read the same way. A reader never reports an error. Whenever the general
path could answer differently — a ``None`` in a non-null field, a value its type refuses, a
resolver that raises or is still waiting, an object of an unexpected class, an abstract type it
cannot place — it raises :class:`Fallback`, and graphql-core's own executor runs the whole
field again from the start and reports exactly what it always would.

What compiles: ``__typename``, and fields without arguments or directives that read an
attribute (Strawberry's basic fields) or call a synchronous resolver given a direct call by
:func:`schema.fastpath.executor.streamline_resolvers`, over scalars, enums, objects, lists, and
abstract types whose members compile. Anything else (an async resolver, a field with
arguments, ``@defer``) leaves the field to the general path; its own sub-fields are then
read through this path again where they can be.

Readers are compiled from the document's own field nodes, not from the request: a
:class:`FieldCompiler` serves every request of one operation (and of the values its directives
read, see :mod:`schema.fastpath.executor`), and a reader that needs the executor (to build a
resolver's ``info``, to place an abstract type) finds the running request's in
:data:`CURRENT_EXECUTOR`, set by the executor around every read. A reader holds nothing of a
request: no values, no context, no results.
"""

from __future__ import annotations

import asyncio
import inspect
import types
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, EnumMeta
from typing import TYPE_CHECKING, Any, NamedTuple
from weakref import WeakKeyDictionary

from graphql import (
    FieldNode,
    GraphQLAbstractType,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from schema.fastpath.marks import DIRECT_CALL, DIRECT_SYNC, DirectCall, is_placed_without_info

if TYPE_CHECKING:
    from schema.fastpath.executor import PlainFieldExecutor

CURRENT_EXECUTOR: ContextVar[PlainFieldExecutor] = ContextVar("govhub_fast_path_executor")
"""The executor of the request whose fields are being read (set by the executor while it
reads them, synchronously: no other request's code runs in between)."""

Read = Callable[[Any, Path | None], Any]
"""(the field's object, that object's path) → the field's completed value; may raise Fallback."""


class Fallback(Exception):
    """The compiled reader cannot settle this field; the general path runs it again."""


class PlainLeaf(NamedTuple):
    """How to read one plain leaf field: its attribute, its leaf type, whether it is nullable."""

    attribute: str
    leaf_type: GraphQLLeafType
    nullable: bool
    # For enums: each Python member's GraphQL name, looked up instead of a scan of the values.
    enum_names: dict[Any, str]


# Per schema (weakly, so a schema that is dropped takes its plans with it), per type and field
# name; ``None`` marks a field that is not a plain leaf.
_PLANS: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], PlainLeaf | None]] = (
    WeakKeyDictionary()
)


def plain_leaf(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str
) -> PlainLeaf | None:
    """How to read ``parent_type.name`` directly, or ``None`` when it is not a plain leaf:
    a Strawberry basic field (an attribute, no resolver, no extensions, no arguments) of a
    scalar or enum type."""
    return _plain_leaf(_plans_of(schema), schema, parent_type, name)


def _plans_of(schema: GraphQLSchema) -> dict[tuple[str, str], PlainLeaf | None]:
    plans = _PLANS.get(schema)
    if plans is None:
        plans = _PLANS.setdefault(schema, {})
    return plans


def _plain_leaf(
    plans: dict[tuple[str, str], PlainLeaf | None],
    schema: GraphQLSchema,
    parent_type: GraphQLObjectType,
    name: str,
) -> PlainLeaf | None:
    key = (parent_type.name, name)
    if key not in plans:
        plans[key] = _leaf_plan(schema.get_field(parent_type, name))
    return plans[key]


def _leaf_plan(field_def: GraphQLField | None) -> PlainLeaf | None:
    attribute = None if field_def is None else _attribute(field_def)
    if field_def is None or attribute is None:
        return None
    field_type = field_def.type
    leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
        return None
    return PlainLeaf(attribute, leaf, leaf is field_type, _enum_names(leaf))


def _attribute(field_def: GraphQLField) -> str | None:
    """The attribute a Strawberry basic field reads with the stock lookup, else ``None``."""
    if field_def.args or field_def.resolve is None:
        return None
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if not getattr(field_def.resolve, "_is_default", False):
        return None
    if definition.default_resolver is not getattr:
        return None
    return definition.python_name


def _enum_names(leaf: GraphQLLeafType) -> dict[Any, str]:
    wrapped = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return {}
    members: list[Enum] = list(wrapped)
    try:  # values a dict can hold; otherwise the type's own coercion, member by member
        by_value = {value.value: name for name, value in leaf.values.items()}
        return {member: by_value[member.value] for member in members if member.value in by_value}
    except TypeError:
        return {}


def leaf_reader(plan: PlainLeaf) -> Read:
    """A reader for a plain leaf field."""
    attribute, leaf_type, nullable, names = plan
    coerce = leaf_type.coerce_output_value
    # ``String`` and ``ID`` give a ``str`` back as it is; ``Boolean`` a ``bool``.
    same = _GIVEN_BACK.get(leaf_type.name) if leaf_type in _SPECIFIED else None

    def read(source: Any, _path: Path | None) -> Any:
        try:
            value = getattr(source, attribute)
            if type(value) is same:
                return value
            if value is None:
                if nullable:
                    return None
                raise Fallback
            if not isinstance(value, _PLAIN_VALUES):
                _check_settled(value)
            coerced = names.get(value, Undefined) if names else coerce(value)
        except Exception:  # the general path runs it again and reports the error
            raise Fallback from None
        if coerced is None or coerced is Undefined:
            raise Fallback
        return coerced

    return read


# graphql-core's own scalars, and the Python type each gives back unchanged.
_SPECIFIED = (GraphQLString, GraphQLID, GraphQLBoolean)
_GIVEN_BACK: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}

# Values a leaf takes as they are; anything else is first checked for what graphql-core
# treats specially (something to await, an exception to report, Undefined).
_PLAIN_VALUES = (str, int, float, datetime, date, Decimal, Enum)


# Whether a type's values are awaitable, by type: ``inspect.isawaitable`` asks the
# ``Awaitable`` ABC, about 1.5 µs a value here (a page asks some six hundred times).
# Generators are asked one by one (a generator-based coroutine is marked per object).
_AWAITABLE_BY_TYPE: dict[type, bool] = {}


def _is_awaitable(value: Any) -> bool:
    kind = type(value)
    known = _AWAITABLE_BY_TYPE.get(kind)
    if known is None:
        known = inspect.isawaitable(value)
        if kind is not types.GeneratorType and len(_AWAITABLE_BY_TYPE) < 4096:
            _AWAITABLE_BY_TYPE[kind] = known
    return known


# Whether a type's values are plain, by type: neither ``Undefined``, an exception, a future
# nor awaitable, so graphql-core would complete one as it is. Each of the four is a question
# of the value's type (``Undefined`` is its type's one value), except for generators, asked
# one by one as above. A page asks some four hundred times: one dict lookup each.
_PLAIN_BY_TYPE: dict[type, bool] = {}


def _is_plain(value: Any) -> bool:
    kind = type(value)
    known = _PLAIN_BY_TYPE.get(kind)
    if known is None:
        known = not (
            value is Undefined
            or isinstance(value, Exception | asyncio.Future)
            or _is_awaitable(value)
        )
        if kind is not types.GeneratorType and len(_PLAIN_BY_TYPE) < 4096:
            _PLAIN_BY_TYPE[kind] = known
    return known


def _check_settled(value: Any) -> None:
    """Fallback unless ``value`` is a plain value graphql-core would complete as it is."""
    if not _is_plain(value):
        raise Fallback


class FieldCompiler:
    """Compiles readers for one operation's selections, shared by its requests.

    Fields are keyed by their nodes in the document (the same objects for every request of a
    cached document) rather than by graphql-core's per-request lists, so a reader compiled for
    one request serves the next. What the compiled readers call at run time, they take from
    :data:`CURRENT_EXECUTOR`.
    """

    def __init__(self, schema: GraphQLSchema) -> None:
        self._schema: GraphQLSchema = schema
        self._plans = _plans_of(self._schema)
        self._fields: dict[tuple[str, tuple[int, ...]], Read | None] = {}
        # The node lists a key names, kept alive with it so that no id is reused.
        self._nodes: list[FieldDetailsList] = []

    def field(self, parent_type: GraphQLObjectType, details: FieldDetailsList) -> Read | None:
        """A reader for one selected field of ``parent_type``, or ``None`` if it cannot have one."""
        key = (parent_type.name, tuple(id(detail.node) for detail in details))
        try:
            return self._fields[key]
        except KeyError:
            pass
        read = self._compile_field(parent_type, details)
        self._nodes.append(details)
        self._fields[key] = read
        return read

    def _compile_field(
        self, parent_type: GraphQLObjectType, details: FieldDetailsList
    ) -> Read | None:
        node = details[0].node
        if node.arguments or node.directives:
            return None
        if any(detail.defer_usage is not None for detail in details):
            return None  # deferred delivery is graphql-core's
        if node.name.value == "__typename":
            type_name = parent_type.name
            return lambda _source, _path: type_name
        plan = _plain_leaf(self._plans, self._schema, parent_type, node.name.value)
        if plan is not None:
            return leaf_reader(plan)
        field_def = self._schema.get_field(parent_type, node.name.value)
        if field_def is None or field_def.args:
            return None
        fetch = self._fetcher(parent_type, field_def, details)
        complete = (
            None
            if fetch is None
            else self._completer(field_def.type, details, parent_type, field_def)
        )
        if fetch is None or complete is None:
            return None
        response_name = node.alias.value if node.alias else node.name.value
        type_name = parent_type.name

        def read(source: Any, path: Path | None) -> Any:
            own = Path(path, response_name, type_name)
            return complete(fetch(source, own), own)

        return read

    def _fetcher(
        self, parent_type: GraphQLObjectType, field_def: GraphQLField, details: FieldDetailsList
    ) -> Callable[[Any, Path], Any] | None:
        attribute = _attribute(field_def)
        if attribute is not None:

            def fetch_attribute(source: Any, _path: Path) -> Any:
                try:
                    return getattr(source, attribute)
                except Exception:
                    raise Fallback from None

            return fetch_attribute
        resolve = field_def.resolve
        if resolve is None or not getattr(resolve, DIRECT_SYNC, False):
            return None
        nodes = [detail.node for detail in details]
        current = CURRENT_EXECUTOR.get
        call: DirectCall | None = getattr(resolve, DIRECT_CALL, None)
        if call is not None:
            return _direct_fetcher(call, field_def, nodes, parent_type)

        def fetch_resolved(source: Any, path: Path) -> Any:
            try:
                value = resolve(
                    source, current().build_resolve_info(field_def, nodes, parent_type, path)
                )
            except Exception:
                raise Fallback from None
            return _settled(value)

        return fetch_resolved

    def _completer(
        self,
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
    ) -> Callable[[Any, Path], Any] | None:
        if isinstance(return_type, GraphQLNonNull):
            inner = self._completer(return_type.of_type, details, parent_type, field_def)
            if inner is None:
                return None

            def complete_non_null(value: Any, path: Path) -> Any:
                if value is None:
                    raise Fallback
                return inner(value, path)

            return complete_non_null
        if isinstance(return_type, GraphQLList):
            item = self._completer(return_type.of_type, details, parent_type, field_def)
            return None if item is None else _list_completer(item)
        if isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
            return _leaf_completer(return_type)
        if isinstance(return_type, GraphQLObjectType):
            fields = self._object(return_type, details)
            return None if fields is None else _nullable(fields)
        if isinstance(return_type, GraphQLInterfaceType | GraphQLUnionType):
            return self._abstract(return_type, details, parent_type, field_def)
        return None

    def _object(
        self, object_type: GraphQLObjectType, details: FieldDetailsList
    ) -> Callable[[Any, Path], dict[str, Any]] | None:
        """A completer for a non-null object of ``object_type``: its selected fields' dict."""
        executor = CURRENT_EXECUTOR.get()
        grouped_field_set, defer_usages, _ = executor.collect_subfields(object_type, details)
        if defer_usages:
            return None
        definition = (object_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if not isinstance(definition, StrawberryObjectDefinition) or definition.is_type_of:
            return None  # a type check of our own would have to run: leave it to graphql-core
        is_type_of = object_type.is_type_of  # Strawberry's generated class check, or none
        readers: list[tuple[str, Read]] = []
        for response_name, sub_details in grouped_field_set.items():
            reader = self.field(object_type, sub_details)
            if reader is None:
                return None
            readers.append((response_name, reader))

        def complete_object(value: Any, path: Path) -> dict[str, Any]:
            _check_settled(value)
            # Strawberry's generated check is a class test that never reads the info.
            try:
                fits = is_type_of is None or is_type_of(value, None) is True  # type: ignore[arg-type]
            except Exception:
                raise Fallback from None
            if not fits:
                raise Fallback
            return {name: reader(value, path) for name, reader in readers}

        return complete_object

    def _abstract(
        self,
        abstract_type: GraphQLAbstractType,
        details: FieldDetailsList,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
    ) -> Callable[[Any, Path], Any] | None:
        resolve_type = abstract_type.resolve_type
        if resolve_type is None:
            return None
        nodes = [detail.node for detail in details]
        current = CURRENT_EXECUTOR.get
        schema = self._schema
        by_type: dict[str, Callable[[Any, Path], dict[str, Any]] | None] = {}
        without_info = is_placed_without_info(resolve_type)

        def complete_abstract(value: Any, path: Path) -> Any:
            if value is None:
                return None
            _check_settled(value)
            try:
                info = (
                    None
                    if without_info
                    else current().build_resolve_info(field_def, nodes, parent_type, path)
                )
                name = resolve_type(value, info, abstract_type)  # type: ignore[arg-type]
            except Exception:
                raise Fallback from None
            if not isinstance(name, str):
                _discard(name)
                raise Fallback
            if name not in by_type:
                runtime = schema.get_type(name)
                fits = isinstance(runtime, GraphQLObjectType) and schema.is_sub_type(
                    abstract_type, runtime
                )
                by_type[name] = self._object(runtime, details) if fits else None  # type: ignore[arg-type]
            complete = by_type[name]
            if complete is None:
                raise Fallback
            return complete(value, path)

        return complete_abstract


def _direct_fetcher(
    call: DirectCall,
    field_def: GraphQLField,
    nodes: list[FieldNode],
    parent_type: GraphQLObjectType,
) -> Callable[[Any, Path], Any]:
    """Call a rereadable resolver's function itself, with the field's one ``Info`` of the
    request (made from the first object's resolve info; the resolver reads only its context)."""
    function, takes_self, info_name, make_info = call
    current = CURRENT_EXECUTOR.get
    slot = object()  # this reader's key in the request's shared infos

    def fetch_called(source: Any, path: Path) -> Any:
        try:
            if info_name is None:
                value = function(source) if takes_self else function()
            else:
                infos = (executor := current()).shared_infos
                info = infos.get(slot)
                if info is None:
                    raw = executor.build_resolve_info(field_def, nodes, parent_type, path)
                    info = infos[slot] = make_info(raw)
                kwargs = {info_name: info}
                value = function(source, **kwargs) if takes_self else function(**kwargs)
        except Exception:
            raise Fallback from None
        return _settled(value)

    return fetch_called


def _nullable(complete: Callable[[Any, Path], Any]) -> Callable[[Any, Path], Any]:
    def complete_nullable(value: Any, path: Path) -> Any:
        return None if value is None else complete(value, path)

    return complete_nullable


def _list_completer(item: Callable[[Any, Path], Any]) -> Callable[[Any, Path], Any]:
    def complete_list(value: Any, path: Path) -> Any:
        if value is None:
            return None
        if not isinstance(value, list | tuple):  # iterators and the like: graphql-core's
            raise Fallback
        return [item(entry, path.add_key(index)) for index, entry in enumerate(value)]

    return complete_list


def _leaf_completer(leaf_type: GraphQLLeafType) -> Callable[[Any, Path], Any]:
    coerce = leaf_type.coerce_output_value

    def complete_leaf(value: Any, _path: Path) -> Any:
        if value is None:
            return None
        if not isinstance(value, _PLAIN_VALUES):
            _check_settled(value)
        try:
            coerced = coerce(value)
        except Exception:
            raise Fallback from None
        if coerced is None or coerced is Undefined:
            raise Fallback
        return coerced

    return complete_leaf


def _settled(value: Any) -> Any:
    """A resolver's value when it has one now; a loader's finished future counts."""
    if _is_plain(value):
        return value
    if isinstance(value, asyncio.Future):
        if value.done() and not value.cancelled() and value.exception() is None:
            return value.result()
        raise Fallback
    if _is_awaitable(value):
        _discard(value)
    raise Fallback


def _discard(value: Any) -> None:
    """Close a coroutine nobody will await (the general path makes its own)."""
    if inspect.iscoroutine(value):
        value.close()
