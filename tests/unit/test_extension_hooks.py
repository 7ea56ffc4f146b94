"""Extension hooks found once per class (schema/extension_hooks.py): same hooks, same order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from schema.extension_hooks import KnownHooksRunner, hook_factory

QUERY_HELLO = "{ hello }"


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


class Recording(SchemaExtension):
    """Notes each stage it enters and leaves, under its own label."""

    def __init__(self, journal: list[str], label: str) -> None:
        self.journal = journal
        self.label = label

    async def on_operation(self) -> AsyncIterator[None]:
        self.journal.append(f"{self.label} operation in")
        yield
        self.journal.append(f"{self.label} operation out")

    def on_parse(self) -> Iterator[None]:
        self.journal.append(f"{self.label} parse in")
        yield
        self.journal.append(f"{self.label} parse out")


class ValidateOnly(SchemaExtension):
    def __init__(self, journal: list[str]) -> None:
        self.journal = journal

    def on_validate(self) -> Iterator[None]:
        self.journal.append("validate in")
        yield
        self.journal.append("validate out")

    def on_execute(self) -> None:  # a plain function, as Strawberry also accepts
        self.journal.append("execute")


class KnownHooksSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return KnownHooksRunner(execution_context=execution_context, extensions=extensions)


def _schema(cls: type[strawberry.Schema], journal: list[str]) -> Any:
    return cls(
        query=Query,
        extensions=[
            lambda: Recording(journal, "first"),
            lambda: ValidateOnly(journal),
            lambda: Recording(journal, "second"),
        ],
    )


async def test_each_instance_runs_its_own_hooks_in_strawberrys_order() -> None:
    # given the same extensions on Strawberry's runner and on the one finding hooks once
    theirs: list[str] = []
    ours: list[str] = []
    # when both run the same operation twice
    for _ in range(2):
        assert (await _schema(strawberry.Schema, theirs).execute(QUERY_HELLO)).data == {
            "hello": "world"
        }
        assert (await _schema(KnownHooksSchema, ours).execute(QUERY_HELLO)).data == {
            "hello": "world"
        }
    # then the same hooks ran, each bound to its own instance, in the same order
    assert ours == theirs
    assert ours[:3] == ["first operation in", "second operation in", "first parse in"]
    assert "execute" in ours and ours.count("second parse out") == 2


def test_a_hook_is_inspected_once_per_class() -> None:
    # given a class's hook found once
    first = hook_factory(Recording, "on_parse")
    # then later operations reuse it, and a class keeping a default hook has none
    assert hook_factory(Recording, "on_parse") is first
    assert hook_factory(Recording, "on_validate") is False
    assert hook_factory(ValidateOnly, "on_execute") is True
