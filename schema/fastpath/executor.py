"""The execution context of the lighter path (轻量执行器).

A 50-record page selects about a thousand scalar fields (``title``, ``status``, ``occurredAt``
…) that only read an attribute of an already-loaded object, and a few hundred relation fields
(``region``, ``parties``, ``person``) whose resolvers hand back a prefetched value. graphql-core
runs every one through its general machinery: a ``ResolveInfo``, the resolver chain,
``complete_value`` with its type dispatch, the awaitable checks. Two changes take that
machinery off the path, both decided from what Strawberry recorded when it built the schema:

- :func:`streamline_resolvers` gives a resolver that takes no arguments a direct call, with
  the ``Info`` it asks for, instead of Strawberry's argument conversion and field-extension
  chain, which such a field does not use.
- :class:`PlainFieldExecutor` reads the fields that compile (:mod:`schema.fastpath.readers`):
  plain scalars and enums, and objects and lists of them reached through attributes or those
  direct resolvers, as long as every value is at hand. Whatever the compiled reader cannot
  settle exactly (an error, a value still loading, an unexpected type) it hands back, and
  graphql-core's own ``execute_field`` runs that field from the start, so results and errors
  are exactly what the general path gives.

Schema extensions that hook ``resolve`` turn the compiled path off for the request. Every
hand-back is counted (:mod:`schema.fastpath.handbacks`); an exception of the path itself is a
hand-back of kind ``unexpected``, logged with its traceback, never a failed request.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

import strawberry
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from schema.fastpath.handbacks import HandBack, document_key, record_hand_back
from schema.fastpath.marks import DIRECT_CALL, DIRECT_SYNC, DirectCall, is_rereadable
from schema.fastpath.plans import compiler_for
from schema.fastpath.prebuilt import Prebuilt
from schema.fastpath.readers import CURRENT_EXECUTOR, Fallback, FieldCompiler, Read


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, reading what compiles (schema.fastpath.readers) directly.

    :meth:`execute_fields` follows graphql-core's own loop field by field, in selection order:
    a compiled field is read in place; any other field, and a compiled one its reader hands
    back, goes through graphql-core's ``execute_field`` at that same point. Errors, their
    order, side effects and null propagation are therefore those of the general path.

    The first hand-back switches the compiled path off for the rest of the request: graphql-core
    reads that field's subtree again, and a response full of errors should not pay for a
    compiled attempt at every level.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _weak_helpers(self)
        manager = self.middleware_manager
        self._fast = manager is None or not manager.middlewares
        # The operation's compiled readers, shared with its other requests (plans.py); found
        # when a field is first read.
        self._compiler: FieldCompiler | None = None
        # graphql-core hands every object of one type and selection the same grouped field
        # set, so its readers are looked up once per request.
        self._plans: dict[tuple[int, str], _Plan] = {}
        # The one Info each compiled resolver call of a field gets in this request (see
        # ``rereadable``), by the reader's own key.
        self.shared_infos: dict[object, Any] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if plan is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        reading = CURRENT_EXECUTOR.set(self)
        try:
            for (response_name, details), read in zip(
                grouped_field_set.items(), plan.reads, strict=True
            ):
                if read is not None and self._fast:
                    try:
                        results[response_name] = read(source_value, path)
                        continue
                    except Fallback:
                        self._hand_back(HandBack.FALLBACK, parent_type, response_name)
                    except Exception as error:  # a defect of the path: the general path answers
                        self._hand_back(HandBack.UNEXPECTED, parent_type, response_name, error)
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if self.is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:  # as graphql-core: settle what was started, then raise
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        finally:
            CURRENT_EXECUTOR.reset(reading)
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A resolver's :class:`schema.fastpath.prebuilt.Prebuilt` answer goes in as it is;
        anything else is completed as graphql-core does."""
        if type(result) is Prebuilt:
            return result.value
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> _Plan | None:
        if not self._fast:
            return None
        key = (id(grouped_field_set), parent_type.name)
        plan = self._plans.get(key)
        if plan is None or plan.grouped is not grouped_field_set:
            compiling = CURRENT_EXECUTOR.set(self)
            try:
                if self._compiler is None:
                    self._compiler = compiler_for(self)
                compiler = self._compiler
                reads = tuple(
                    compiler.field(parent_type, details) for details in grouped_field_set.values()
                )
            except Exception as error:  # a defect of the path: the general path answers
                self._hand_back(HandBack.UNEXPECTED, parent_type, "", error)
                return None
            finally:
                CURRENT_EXECUTOR.reset(compiling)
            plan = _Plan(grouped_field_set, reads, any(reads))
            self._plans[key] = plan
        return plan if plan.compiled else None

    def _hand_back(
        self,
        reason: HandBack,
        parent_type: GraphQLObjectType,
        field: str,
        error: BaseException | None = None,
    ) -> None:
        """Switch the compiled path off for the rest of the request, and say so."""
        self._fast = False
        location = self.operation.loc
        record_hand_back(
            reason,
            document=document_key(location.source.body if location is not None else None),
            operation=self.operation.name.value if self.operation.name else None,
            type_name=parent_type.name,
            field=field,
            error=error,
        )


def _weak_helpers(executor: PlainFieldExecutor) -> GraphQLResolveInfoHelpers:
    """graphql-core's resolve-info helpers, reaching the executor through a weak reference.

    graphql-core binds them to the executor (``self.gather_async_work``), and every resolve
    info carries them: the executor then sits in a reference cycle with everything it holds —
    the context, the request's loaders, their futures and every party and person they loaded
    — and each request's objects waited for the cycle collector (a collection every request
    or two, ~2 ms of a page) instead of going when the request ended. The helpers do the
    same through a weak reference; the executor is alive whenever a resolver of it runs.
    """
    reference = weakref.ref(executor)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        live = reference()
        if live is None:
            raise RuntimeError("the operation's execution has ended")
        return live.gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        live = reference()
        if live is not None:
            live.track_async_work(values)
            return
        for value in values:  # nobody will await them: as graphql-core does without a loop
            if inspect.iscoroutine(value):
                value.close()

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


class _Plan(NamedTuple):
    grouped: GroupedFieldSet
    reads: tuple[Read | None, ...]  # in the grouped field set's order
    compiled: bool


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
    if definition.is_subscription:  # its resolver makes the stream; events resolve apart
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
    # Compiled readers call only resolvers declared safe to call again (see ``rereadable``).
    direct_sync = not definition.is_async and is_rereadable(function)
    setattr(resolve, DIRECT_SYNC, direct_sync)
    if direct_sync:
        setattr(
            resolve,
            DIRECT_CALL,
            DirectCall(
                function,
                takes_self,
                info_name,
                lambda raw: info_class(_raw_info=raw, _field=definition),
            ),
        )
    return resolve
