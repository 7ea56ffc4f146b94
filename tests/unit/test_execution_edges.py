"""Edge cases where a compiled reader must hand the field back rather than answer it itself.

Each case compares the lighter path (``PlainFieldExecutor`` + ``streamline_resolvers``) with a
stock Strawberry schema: data, errors (message, path, locations, order) and side effects.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Iterator
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, Undefined
from strawberry.scalars import JSON

from schema.fastpath.executor import PlainFieldExecutor, streamline_resolvers
from schema.fastpath.marks import rereadable


class Gone(Exception):
    pass


@strawberry.enum
class Shape(Enum):
    SQUARE = [4]  # noqa: RUF012 -- unhashable values on purpose
    TRIANGLE = [3]  # noqa: RUF012


@strawberry.type
class Owner:
    name: str


@strawberry.type
class Box:
    title: str | None = None
    owners: list[Owner | None] | None = None
    nums: list[int] | None = None
    text: str | None = None
    later: list[str] | None = None
    blob: JSON | None = None
    blobs: list[JSON] | None = None
    shape: Shape | None = None


class Source:
    """An object whose ``name`` raises when read (a failing compiled leaf)."""

    @property
    def name(self) -> str:
        raise ValueError("name could not be read")


@strawberry.type
class Item:
    name: str | None

    @strawberry.field
    def fails(self, x: int = 0) -> str | None:  # arguments: always graphql-core's
        raise ValueError("fails")

    @strawberry.field
    def must(self, x: int = 0) -> str:  # non-null, raises: nulls the item
        raise ValueError("must")


@strawberry.type
class Counter:
    @strawberry.field
    def bump(self, info: strawberry.Info, by: int = 1) -> int:
        info.context["n"] += by
        return int(info.context["n"])

    @strawberry.field
    @rereadable
    def current(self, info: strawberry.Info) -> int:
        return int(info.context["n"])

    @strawberry.field
    def tick(self, info: strawberry.Info) -> int:  # not rereadable: graphql-core calls it once
        info.context["ticks"] += 1
        return int(info.context["ticks"])

    @strawberry.field
    @rereadable
    def boom(self) -> str | None:
        raise ValueError("boom")


def _done(value: Any) -> asyncio.Future[Any]:
    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def _generator(*names: str) -> Iterator[Owner]:
    yield from (Owner(name=name) for name in names)


def _broken_rows() -> Iterator[int]:
    yield 1
    raise ConnectionError("cursor lost mid-iteration")


@strawberry.type
class Query:
    @strawberry.field
    @rereadable
    def item(self) -> Item | None:
        return Source()  # type: ignore[return-value]

    @strawberry.field
    @rereadable
    def counter(self) -> Counter:
        return Counter()

    @strawberry.field
    @rereadable
    def generator_box(self, info: strawberry.Info) -> Box:
        return info.context["box"]  # type: ignore[no-any-return]

    @strawberry.field
    @rereadable
    def broken_box(self) -> Box | None:
        return Box(title="t", nums=_broken_rows())  # type: ignore[arg-type]

    @strawberry.field
    @rereadable
    def value_boxes(self) -> list[Box]:
        return [
            Box(nums=bytearray(b"hi")),  # type: ignore[arg-type]
            Box(text=_done("t"), later=_done(["x", "y"])),  # type: ignore[arg-type]
            Box(text=Gone("secret detail"), blob=Gone("j"), blobs=[1, Gone("k")]),  # type: ignore[arg-type]
            Box(shape=Shape.SQUARE),
        ]

    @strawberry.field
    @rereadable
    def loaded_names(self) -> list[str]:
        return [_done("n1"), _done("n2")]  # type: ignore[list-item]

    @strawberry.field
    @rereadable
    def odd_owners(self) -> list[Owner | None]:
        return [Owner(name="a"), LookupError("owner 2 is gone"), Undefined]  # type: ignore[list-item]

    @strawberry.field
    def other(self) -> str:
        return "still here"


@strawberry.type
class Change:
    id: int


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def changes(self) -> AsyncGenerator[Change, None]:
        for number in range(2):
            yield Change(id=number)


fast = strawberry.Schema(
    query=Query, subscription=Subscription, execution_context_class=PlainFieldExecutor
)
streamline_resolvers(fast)
stock = strawberry.Schema(query=Query, subscription=Subscription)


def _plain(result: ExecutionResult) -> str:
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False)


def _context() -> dict[str, Any]:
    return {"n": 0, "ticks": 0, "box": Box(owners=_generator("a", "b"), title=object())}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "document",
    [
        "{ item { name fails } }",  # error order: the compiled field's error first
        "{ item { name must } }",  # both errors, though `must` nulls the item
        "{ counter { a: bump(by: 5) b: current } }",  # side effects in selection order
        "{ c: counter { tick boom } }",  # a resolver not declared rereadable runs once
        "{ generatorBox { owners { name } title } }",  # an iterator is not read twice
        "{ other brokenBox { title nums } }",  # iteration that raises: that field's error
        "{ valueBoxes { nums } }",  # a bytearray is not a list
        "{ valueBoxes { text later } }",  # futures in attributes are awaited
        "{ valueBoxes { text blob blobs } }",  # exceptions are errors, never data
        "{ valueBoxes { shape } }",  # enum values that cannot be hashed
        "{ loadedNames }",  # a resolver's list of finished futures
        "{ oddOwners { __typename } }",  # an exception or Undefined as an object
    ],
)
async def test_a_handed_back_field_answers_exactly_as_graphql_core(document: str) -> None:
    expected = await stock.execute(document, context_value=_context())
    got = await fast.execute(document, context_value=_context())
    assert _plain(got) == _plain(expected)


async def test_subscriptions_keep_strawberrys_own_resolvers() -> None:
    async def collect(schema: strawberry.Schema) -> list[str]:
        stream = await schema.subscribe("subscription { changes { id } }")
        assert not isinstance(stream, ExecutionResult)
        return [_plain(result) async for result in stream]

    assert await collect(fast) == await collect(stock)
    assert await collect(fast) == [
        '{"data": {"changes": {"id": 0}}, "errors": []}',
        '{"data": {"changes": {"id": 1}}, "errors": []}',
    ]
