"""Schema-extension hooks looked up once per extension class (扩展钩子), not once per operation.

Strawberry finds an extension's hooks anew for every operation and every stage (operation,
parse, validate, execute): it compares the class's method with the default, inspects whether
it is a generator, and wraps it with ``contextlib.contextmanager``, copying the function's
metadata each time. With eight extensions that is some thirty wrappers per request, a few
per cent of a one-record query. Here each class's hook is inspected and wrapped once; each
operation only binds it to its extension instance. What runs, and in which order, is
unchanged: the same hooks, entered in the extensions' order and left in reverse.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

_Factory = Callable[[SchemaExtension], Any]


_FACTORIES: dict[tuple[type[SchemaExtension], str], tuple[_Factory, bool] | bool] = {}
"""By extension class and hook name: a few dozen entries, the schema's extensions' hooks."""


def hook_factory(extension_class: type[SchemaExtension], name: str) -> tuple[_Factory, bool] | bool:
    """``extension_class``'s hook ``name`` as a context-manager factory taking the extension,
    and whether it is async; ``False`` when the class keeps the default (no hook), ``True``
    when the hook is a plain function (Strawberry's own lookup wraps those)."""
    key = (extension_class, name)
    found = _FACTORIES.get(key)
    if found is None:
        found = _FACTORIES[key] = _inspect_hook(extension_class, name)
    return found


def _inspect_hook(
    extension_class: type[SchemaExtension], name: str
) -> tuple[_Factory, bool] | bool:
    hook = getattr(extension_class, name)
    if hook is getattr(SchemaExtension, name):
        return False
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    return True


class _KnownHooks(ExtensionContextManagerBase):
    __slots__ = ()

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = hook_factory(type(extension), self.HOOK_NAME)
        if found is False:
            return None
        if found is True:  # a plain function: as Strawberry wraps it
            return super().get_hook(extension)
        factory, is_async = found
        return WrappedHook(
            extension=extension, hook=functools.partial(factory, extension), is_async=is_async
        )


class _Operation(_KnownHooks, OperationContextManager):
    __slots__ = ()


class _Validation(_KnownHooks, ValidationContextManager):
    __slots__ = ()


class _Parsing(_KnownHooks, ParsingContextManager):
    __slots__ = ()


class _Executing(_KnownHooks, ExecutingContextManager):
    __slots__ = ()


class KnownHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with the hooks of each stage found through :func:`hook_factory`."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
