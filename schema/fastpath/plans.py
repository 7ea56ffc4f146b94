"""Compiled readers kept across requests (跨请求复用的编译计划).

Compiling a page's readers costs about a tenth of the page (a few dozen fields, each looked up
in the schema, its sub-selection collected, its closures made), and a client asks the same
document again and again. The parsed document is cached (``schema.limits.parse_document``), so
its field nodes are the same objects from one request to the next, and the readers compiled
from them (:class:`schema.fastpath.readers.FieldCompiler`) serve every request of that
operation.

What a compiled reader depends on, and so what the cache is keyed by:

- the operation's node (weakly: a document dropped from the parse cache takes its readers
  with it; a document parsed afresh for every request simply gets no reuse);
- the values of the variables its directives read (``@include(if: $x)`` changes which fields
  are collected); other variables only reach arguments, and a field with arguments is never
  compiled;
- who asks: the principal's role and whether it may see identifiers in full. The readers hold
  no rule, value or answer (field rules are decided before execution, jurisdiction in SQL,
  masking when a resolver runs), so this is a second fence, not the first: two audiences never
  share a compiled plan, whatever a future reader might come to hold.

A reader holds nothing of a request: each one reads from the object it is given and finds the
running request's executor through :data:`schema.fastpath.readers.CURRENT_EXECUTOR`.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from graphql import DirectiveNode, GraphQLSchema, Node, OperationDefinitionNode, VariableNode

from schema.fastpath.readers import FieldCompiler

if TYPE_CHECKING:
    from schema.fastpath.executor import PlainFieldExecutor

PLANS_PER_OPERATION = 16
"""Compiled plans kept per operation (audiences × directive values), least recently used
dropped first."""


class _OperationPlans:
    def __init__(self, directive_variables: tuple[str, ...]) -> None:
        self.directive_variables = directive_variables
        self.compilers: OrderedDict[Hashable, FieldCompiler] = OrderedDict()


_lock = threading.RLock()
_Node = TypeVar("_Node", bound=Node)
_Value = TypeVar("_Value")


class ByNode(Generic[_Node, _Value]):
    """Values by AST node (and a variant), by the node's identity and weakly.

    AST nodes are frozen dataclasses: their hash and equality walk the whole tree, and two
    parses of one text are equal. What is compiled from a node is keyed by its identity (its
    id, checked against a weak reference), and the entry is dropped with the node: a document
    the parse cache dropped takes what was kept for it along.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, Hashable], tuple[weakref.ref[_Node], _Value]] = {}

    def get(self, node: _Node, variant: Hashable = None) -> _Value | None:
        entry = self._entries.get((id(node), variant))
        if entry is None or entry[0]() is not node:
            return None
        return entry[1]

    def put(self, node: _Node, value: _Value, variant: Hashable = None) -> None:
        key, entries = (id(node), variant), self._entries

        # The lock is bound now: at interpreter exit the module's globals may be cleared
        # before the last documents die and call back.
        def forget(reference: weakref.ref[_Node], lock: Any = _lock) -> None:
            with lock:
                if (current := entries.get(key)) is not None and current[0] is reference:
                    del entries[key]

        entries[key] = (weakref.ref(node, forget), value)

    def __len__(self) -> int:
        return len(self._entries)


_CACHE: WeakKeyDictionary[GraphQLSchema, ByNode[OperationDefinitionNode, _OperationPlans]] = (
    WeakKeyDictionary()
)


def compiler_for(executor: PlainFieldExecutor) -> FieldCompiler:
    """The compiled readers for the executor's operation, variables and audience."""
    schema, operation = executor.schema, executor.operation
    with _lock:
        by_operation = _CACHE.get(schema)
        if by_operation is None:
            by_operation = _CACHE.setdefault(schema, ByNode())
        plans = by_operation.get(operation)
        if plans is None:
            plans = _OperationPlans(_directive_variables(operation, executor.fragments.values()))
            by_operation.put(operation, plans)
    key = _plan_key(executor, plans.directive_variables)
    if key is None:  # a value that cannot key a cache: compile for this request alone
        return FieldCompiler(schema)
    with _lock:
        compiler = plans.compilers.get(key)
        if compiler is not None:
            plans.compilers.move_to_end(key)
            return compiler
        compiler = FieldCompiler(schema)
        plans.compilers[key] = compiler
        if len(plans.compilers) > PLANS_PER_OPERATION:
            plans.compilers.popitem(last=False)
        return compiler


def audience(context: Any) -> Hashable:
    """Who a plan is compiled for: the principal's role and whether identifiers show in full
    (``None`` for a context without a request's security, e.g. a test schema's)."""
    security = getattr(context, "security", None)
    if security is None:
        return None
    principal = getattr(security, "principal", None)
    role = getattr(principal, "role", None)
    return (role, bool(getattr(security, "reveal_pii", False)))


def _plan_key(executor: PlainFieldExecutor, names: tuple[str, ...]) -> Hashable | None:
    values = executor.variable_values.coerced
    key = (audience(executor.context_value), tuple(values.get(name) for name in names))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _directive_variables(
    operation: OperationDefinitionNode, fragments: Any
) -> tuple[str, ...]:
    """The variables any directive of the operation or its fragments reads, sorted."""
    names: set[str] = set()
    for root in (operation, *fragments):
        for directive in _directives(root):
            for argument in directive.arguments or ():
                names.update(_variables(argument.value))
    return tuple(sorted(names))


_N = TypeVar("_N", bound=Node)


def _directives(node: Node) -> Iterator[DirectiveNode]:
    return _nodes_of(node, DirectiveNode)


def _variables(value: Any) -> Iterator[str]:
    return (variable.name.value for variable in _nodes_of(value, VariableNode))


def _nodes_of(value: Any, kind: type[_N]) -> Iterator[_N]:
    """Every node of ``kind`` in the tree under ``value`` (not below one: a directive's own
    arguments are read by the caller)."""
    stack: list[Any] = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, kind):
            yield current
        elif isinstance(current, Node):
            for name in current.keys:
                if name != "loc":
                    stack.append(getattr(current, name, None))
        elif isinstance(current, tuple | list):
            stack.extend(current)


def cached_operations(schema: GraphQLSchema) -> int:
    """How many operations have compiled plans kept for ``schema`` (for tests)."""
    with _lock:
        by_operation = _CACHE.get(schema)
        return 0 if by_operation is None else len(by_operation)
