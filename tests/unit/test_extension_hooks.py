"""Extension hooks found once per class (schema/extension_hooks.py): same hooks, same order."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from schema.extension_hooks import KnownHooksRunner, reporting, stage_hooks

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


def _schema(cls: type[strawberry.Schema], journal: list[str], extra: Any = None) -> Any:
    return cls(
        query=Query,
        extensions=[
            lambda: Recording(journal, "first"),
            lambda: ValidateOnly(journal),
            lambda: Recording(journal, "second"),
            *([extra] if extra else []),
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


class Guarding(SchemaExtension):
    """Notes what each of its stages sees pass through it, and lets it pass."""

    def __init__(self, journal: list[str], label: str) -> None:
        self.journal = journal
        self.label = label

    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        except Exception as exc:
            self.journal.append(f"{self.label} operation saw {exc}")
            raise

    def on_validate(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            self.journal.append(f"{self.label} validate saw {exc}")
            raise
        self.journal.append(f"{self.label} validate out")


class FailingOnLeave(SchemaExtension):
    def __init__(self, journal: list[str]) -> None:
        self.journal = journal

    def on_validate(self) -> Iterator[None]:
        yield
        self.journal.append("failing validate out")
        raise ValueError("refused on leaving")


class Swallowing(SchemaExtension):
    def __init__(self, journal: list[str]) -> None:
        self.journal = journal

    async def on_execute(self) -> AsyncIterator[None]:
        try:
            yield
        except ValueError as exc:
            self.journal.append(f"swallowed {exc}")


class FailingExecute(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        yield
        raise ValueError("execute failed on leaving")


def _run_both(extensions: Any) -> tuple[tuple[list[str], Any], tuple[list[str], Any]]:
    import asyncio

    outcomes = []
    for cls in (strawberry.Schema, KnownHooksSchema):
        journal: list[str] = []
        built = cls(query=Query, extensions=extensions(journal))
        result = asyncio.run(built.execute(QUERY_HELLO))
        errors = [error.message for error in result.errors or ()]
        outcomes.append((journal, (result.data, errors)))
    return outcomes[0], outcomes[1]


def test_an_exception_leaving_a_hook_passes_through_the_outer_hooks_as_in_strawberry() -> None:
    # given a hook that fails on leaving validation, between two that watch
    def extensions(journal: list[str]) -> list[Any]:
        return [
            lambda: Guarding(journal, "outer"),
            lambda: FailingOnLeave(journal),
            lambda: Guarding(journal, "inner"),
        ]

    # when the same operation runs on Strawberry's runner and on ours
    theirs, ours = _run_both(extensions)
    # then the same hooks saw the same exception, and the client the same answer
    assert ours == theirs
    assert ours[0] == [
        "inner validate out",
        "failing validate out",
        "outer validate saw refused on leaving",
        "inner operation saw refused on leaving",
        "outer operation saw refused on leaving",
    ]
    assert ours[1] == (None, ["refused on leaving"])


def test_a_hook_that_handles_an_exception_ends_it_as_in_strawberry() -> None:
    # given an execute hook that swallows what an inner one raises on leaving
    def extensions(journal: list[str]) -> list[Any]:
        return [lambda: Swallowing(journal), FailingExecute]

    # when both runners run it
    theirs, ours = _run_both(extensions)
    # then the operation is answered as if nothing had been raised
    assert ours == theirs
    assert ours == (["swallowed execute failed on leaving"], ({"hello": "world"}, []))


def test_a_stages_hooks_are_found_once_per_tuple_of_classes() -> None:
    # given the hooks of a stage found for some extension classes
    classes = (Recording, ValidateOnly, Recording)
    first = stage_hooks(classes, "on_parse")
    # then later operations reuse them; a class keeping a default hook has none
    assert stage_hooks(classes, "on_parse") is first
    assert [position for position, _, _ in first] == [0, 2]
    assert [position for position, _, _ in stage_hooks(classes, "on_validate")] == [1]
    # and a plain function is run as Strawberry runs it, on entering the stage
    [(position, _, is_async)] = stage_hooks(classes, "on_execute")
    assert (position, is_async) == (1, False)


class Reporting(SchemaExtension):
    async def get_results(self) -> dict[str, Any]:
        return {"cost": 3}


def test_only_reporting_extensions_are_asked_and_their_results_kept() -> None:
    import asyncio

    # given one extension reporting results among others that report none
    classes = (Recording, ValidateOnly, Recording, Reporting)
    assert reporting(classes) == (3,)
    # when an operation runs on Strawberry's runner and on ours
    journal: list[str] = []
    answers = [
        asyncio.run(_schema(cls, journal, extra=Reporting).execute(QUERY_HELLO)).extensions
        for cls in (strawberry.Schema, KnownHooksSchema)
    ]
    # then the result carries the same extensions' results
    assert answers[0] == answers[1] == {"cost": 3}
