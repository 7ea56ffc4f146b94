"""Schema-extension hooks run without Strawberry's per-operation wrapping (扩展钩子).

Strawberry finds an extension's hooks anew for every operation and every stage (operation,
parse, validate, execute): it compares the class's method with the default, inspects whether
it is a generator, wraps it with ``contextlib.contextmanager`` and enters the wrappers through
an ``AsyncExitStack``. With eight extensions that is some thirty wrappers and a hundred
``contextlib`` calls per request, about a tenth of a ``{ __typename }``. Here the hooks of
each stage are found once per tuple of extension classes, and a stage drives the hooks'
generators itself: entered in the extensions' order, left in reverse, an exception thrown
into each as ``contextlib`` would (a hook may handle it, replace it or let it pass). What
runs, and in which order, is unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any, TypeAlias

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.utils.await_maybe import await_maybe

_Hook: TypeAlias = Callable[[SchemaExtension], Any]
StageHooks: TypeAlias = tuple[tuple[int, _Hook, bool], ...]
"""A stage's hooks: the extension's position, its hook as a generator function taking the
extension, and whether the generator is asynchronous."""

def _as_generator(hook: Callable[..., Any]) -> tuple[_Hook, bool]:
    """A hook as a generator function, as Strawberry wraps a plain function: it runs on
    entering the stage, and nothing on leaving it."""
    if inspect.isgeneratorfunction(hook):
        return hook, False
    if inspect.isasyncgenfunction(hook):
        return hook, True
    if inspect.iscoroutinefunction(hook):

        async def awaited(extension: SchemaExtension) -> AsyncIterator[None]:
            await hook(extension)
            yield

        return awaited, True

    def called(extension: SchemaExtension) -> Iterator[None]:
        hook(extension)
        yield

    return called, False


@functools.cache
def stage_hooks(classes: tuple[type[SchemaExtension], ...], name: str) -> StageHooks:
    """The hooks of stage ``name`` (``on_operation``, …) of extensions of ``classes``, in
    order; an extension keeping the default hook has none. Found once per tuple of classes
    (a schema has one)."""
    default = getattr(SchemaExtension, name)
    found: list[tuple[int, _Hook, bool]] = []
    for position, extension_class in enumerate(classes):
        hook = getattr(extension_class, name)
        if hook is default:
            continue
        if not callable(hook):
            raise ValueError(f"Hook {name} on {extension_class} must be callable")
        found.append((position, *_as_generator(hook)))
    return tuple(found)


@functools.cache
def reporting(classes: tuple[type[SchemaExtension], ...]) -> tuple[int, ...]:
    """Positions of the extensions of ``classes`` that report results (``get_results``
    overridden); the others' results are always empty."""
    default = SchemaExtension.get_results
    return tuple(
        position
        for position, extension_class in enumerate(classes)
        if extension_class.get_results is not default
    )


class _Stage:
    """One stage's hooks as one context manager, with ``contextlib``'s semantics."""

    __slots__ = ("_entered", "_extensions", "_hooks")

    def __init__(self, extensions: list[SchemaExtension], hooks: StageHooks) -> None:
        self._extensions = extensions
        self._hooks = hooks
        self._entered: list[tuple[Any, bool]] = []

    async def __aenter__(self) -> None:
        entered = self._entered
        for position, hook, is_async in self._hooks:
            generator: Any = hook(self._extensions[position])
            try:
                if is_async:
                    await generator.__anext__()
                else:
                    next(generator)
            except (StopIteration, StopAsyncIteration):
                raise RuntimeError("generator didn't yield") from None
            entered.append((generator, is_async))

    def __enter__(self) -> None:
        for position, hook, is_async in self._hooks:
            if is_async:
                raise RuntimeError(
                    f"SchemaExtension hook {self._extensions[position]}.{hook.__name__} "
                    "failed to complete synchronously."
                )
            generator: Any = hook(self._extensions[position])
            try:
                next(generator)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None
            self._entered.append((generator, False))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        pending, replaced = exc, False
        while self._entered:
            generator, is_async = self._entered.pop()
            try:
                if is_async:
                    await (generator.__anext__() if pending is None else generator.athrow(pending))
                elif pending is None:
                    next(generator)
                else:
                    generator.throw(pending)
            except BaseException as raised:
                pending, replaced = _after_exit(pending, replaced, raised, _ASYNC_FINISHED)
                continue
            pending, replaced = _after_exit(pending, replaced, None, _ASYNC_FINISHED)
        return _exit_outcome(exc, pending, replaced)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        pending, replaced = exc, False
        while self._entered:
            generator, _ = self._entered.pop()
            try:
                if pending is None:
                    next(generator)
                else:
                    generator.throw(pending)
            except BaseException as raised:
                pending, replaced = _after_exit(pending, replaced, raised, _FINISHED)
                continue
            pending, replaced = _after_exit(pending, replaced, None, _FINISHED)
        return _exit_outcome(exc, pending, replaced)


_FINISHED: tuple[type[BaseException], ...] = (StopIteration,)
_ASYNC_FINISHED: tuple[type[BaseException], ...] = (StopIteration, StopAsyncIteration)


def _after_exit(
    pending: BaseException | None,
    replaced: bool,
    raised: BaseException | None,
    finished: tuple[type[BaseException], ...],
) -> tuple[BaseException | None, bool]:
    """The exception pending after one hook's exit step, and whether it replaced the one the
    stage began with, as an ``ExitStack`` decides: ``raised`` is what the step raised
    (``None``: the hook yielded again, an error of its own)."""
    if raised is None:
        return RuntimeError("generator didn't stop"), True
    if raised is pending:  # the exception thrown in, passed on as it was
        return pending, replaced
    if isinstance(raised, finished):  # the hook finished: an exception thrown in was handled
        return None, False
    return raised, True  # a new exception, passed on


def _exit_outcome(exc: BaseException | None, pending: BaseException | None, replaced: bool) -> bool:
    """Raise what replaced the stage's exception; else whether that exception was handled."""
    if replaced and pending is not None:
        raise pending
    return exc is not None and pending is None


class KnownHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, each stage's hooks found once (:func:`stage_hooks`) and driven
    by one :class:`_Stage` instead of a wrapper per hook and an exit stack; results asked
    only of the extensions that report any (:func:`reporting`)."""

    def __init__(self, execution_context: Any, extensions: list[SchemaExtension] | None = None):
        super().__init__(execution_context, extensions)
        self._classes = tuple(type(extension) for extension in self.extensions)

    async def get_extensions_results(self, ctx: Any) -> dict[str, Any]:
        """Strawberry's results of the extensions, asking only those that report any."""
        data: dict[str, Any] = {}
        for position in reporting(self._classes):
            data.update(await await_maybe(self.extensions[position].get_results()))
        data.update(ctx.extensions_results)
        return data

    def _stage(self, name: str) -> Any:
        return _Stage(self.extensions, stage_hooks(self._classes, name))

    def operation(self) -> OperationContextManager:
        stage: OperationContextManager = self._stage("on_operation")
        return stage

    def parsing(self) -> ParsingContextManager:
        stage: ParsingContextManager = self._stage("on_parse")
        return stage

    def validation(self) -> ValidationContextManager:
        stage: ValidationContextManager = self._stage("on_validate")
        return stage

    def executing(self) -> ExecutingContextManager:
        stage: ExecutingContextManager = self._stage("on_execute")
        return stage
