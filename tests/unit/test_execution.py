"""The lighter execution path gives exactly what graphql-core's own path gives, errors included."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.fastpath.executor import PlainFieldExecutor, streamline_resolvers
from schema.fastpath.marks import rereadable
from schema.fastpath.readers import plain_leaf


@strawberry.enum
class Colour(Enum):
    RED = "red"
    DARK_BLUE = "dark-blue"


@strawberry.interface
class Animal:
    name: str


@strawberry.type
class Dog(Animal):
    barks: bool


@strawberry.type
class Cat(Animal):
    lives: int


@strawberry.type
class Owner:
    name: str
    tags: list[str]
    pets: list[Animal]


def _owner(name: Any = "o", tags: Any = ("t",), pets: Any = ()) -> Owner:
    return Owner(name=name, tags=list(tags), pets=list(pets))


@dataclass
class Thing:
    name: str | None
    count: Any
    colour: Any
    note: str | None = "n"
    owner: Any = None
    friends: Any = ()


@strawberry.type
class Item:
    name: str
    count: int
    colour: Colour
    note: str | None
    owner: Owner | None
    friends: list[Owner]

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.name.upper() * times

    @strawberry.field
    @rereadable
    def best_friend(self, info: strawberry.Info) -> Owner | None:
        if self.name == "boom":
            raise ValueError("no best friend")
        assert info.field_name == "bestFriend"
        return self.owner

    @strawberry.field
    @rereadable
    def later(self) -> Owner | None:  # a sync resolver handing back a coroutine
        return _eventually(self.owner)  # type: ignore[return-value]


async def _eventually(owner: Owner | None) -> Owner | None:
    return owner


@strawberry.type
class Query:
    @strawberry.field
    @rereadable
    def items(self) -> list[Item]:
        pets = [Dog(name="d", barks=True), Cat(name="c", lives=9)]
        return [
            Thing("a", 1, Colour.RED, owner=_owner(pets=pets), friends=[_owner("f")]),  # type: ignore[list-item]
            Thing("b", 2, Colour.DARK_BLUE, None),  # type: ignore[list-item]
            Thing("c", 3, "dark-blue", owner=_owner(tags=[1, 2])),  # type: ignore[list-item]  # a raw enum value; ints as strings
        ]

    @strawberry.field
    @rereadable
    def broken(self) -> list[Item]:
        return [
            Thing(None, 1, Colour.RED),  # type: ignore[list-item]  # null in a non-null field
            Thing("d", "not a number", Colour.RED),  # type: ignore[list-item]
            Thing("e", 2**40, Colour.RED),  # type: ignore[list-item]  # beyond GraphQL's Int
            Thing("f", 4, "no-such-colour"),  # type: ignore[list-item]
            Thing("boom", 5, Colour.RED, owner=_owner(None)),  # type: ignore[list-item]  # a raising resolver; a null name below
            Thing("g", 6, Colour.RED, friends=[_owner(), None]),  # type: ignore[list-item]  # null in [Owner!]!
            Thing("h", 7, Colour.RED, owner=_owner(pets=[object()])),  # type: ignore[list-item]  # not an Animal
            Thing("i", 8, Colour.RED, owner=_owner(tags=[object()])),  # type: ignore[list-item]  # not a String
        ]


class CountResolves(SchemaExtension):
    calls = 0

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        CountResolves.calls += 1
        return _next(root, info, *args, **kwargs)


fast = strawberry.Schema(query=Query, types=[Dog, Cat], execution_context_class=PlainFieldExecutor)
streamline_resolvers(fast)
stock = strawberry.Schema(query=Query, types=[Dog, Cat])

DOCUMENTS = [
    "{ items { name count colour note } }",
    "{ items { __typename b: name a: name name count } }",
    "{ items { ...F note } } fragment F on Item { colour name }",
    "query($skip: Boolean!) { items { name @skip(if: $skip) count @include(if: $skip) } }",
    "{ items { name shout(times: 2) colour } }",
    "{ broken { name } }",
    "{ broken { count } }",
    "{ broken { colour } }",
    "{ broken { note colour count name } items { name } }",
    PETS := "{ items { name owner { name tags pets { __typename name ... on Dog { barks } "
    "... on Cat { lives } } } friends { name tags } bestFriend { name } later { name } } }",
    PETS.replace("items", "broken"),
    "{ broken { owner { pets { name } } } }",
    "{ broken { owner { tags } } }",
    "{ broken { bestFriend { name } } }",
    "{ broken { friends { name } } }",
    "{ broken { later { name tags } } items { later { name } } }",
]


def _plain(result: ExecutionResult) -> str:
    """Data with key order kept, and errors (message, path, locations) as the client sees them."""
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False)


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_the_fast_path_answers_exactly_as_the_general_path(document: str) -> None:
    variables = {"skip": True}
    expected = await stock.execute(document, variable_values=variables)
    got = await fast.execute(document, variable_values=variables)
    assert _plain(got) == _plain(expected)


async def test_errors_on_plain_fields_keep_their_message_and_path() -> None:
    result = await fast.execute("{ broken { name count colour } }")
    # a null in the non-null name nulls the whole (non-null) list, up to the data itself
    assert result.data is None
    assert result.errors
    assert result.errors[0].path == ["broken", 0, "name"]
    assert "Cannot return null for non-nullable field Item.name" in result.errors[0].message


def test_only_attribute_leaves_are_plain() -> None:
    schema = fast._schema
    item = schema.type_map["Item"]
    query = schema.type_map["Query"]
    assert plain_leaf(schema, item, "name") is not None  # type: ignore[arg-type]
    assert plain_leaf(schema, item, "colour") is not None  # type: ignore[arg-type]
    assert plain_leaf(schema, item, "shout") is None  # type: ignore[arg-type]  # a resolver
    assert plain_leaf(schema, query, "items") is None  # type: ignore[arg-type]
    assert plain_leaf(schema, item, "nope") is None  # type: ignore[arg-type]


async def test_an_extension_that_hooks_resolve_sees_every_field() -> None:
    hooked = strawberry.Schema(
        query=Query, execution_context_class=PlainFieldExecutor, extensions=[CountResolves]
    )
    CountResolves.calls = 0
    result = await hooked.execute("{ items { name count } }")
    assert result.errors is None
    assert CountResolves.calls == 1 + 3 * 2  # items, then name and count of three items


async def test_a_selection_that_compiles_never_reaches_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    general: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_field

    def counting(self: Any, parent_type: Any, *args: Any, **kwargs: Any) -> Any:
        general.append(parent_type.name)
        return original(self, parent_type, *args, **kwargs)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", counting)
    document = PETS.replace(" later { name }", "")
    result = await fast.execute(document)
    assert result.errors is None
    assert result.data is not None
    assert result.data["items"][0]["owner"]["pets"] == [
        {"__typename": "Dog", "name": "d", "barks": True},
        {"__typename": "Cat", "name": "c", "lives": 9},
    ]
    assert general == []
    # a value still on its way (here a coroutine) sends the field to the general path, and the
    # rest of that request stays there (two items have an owner to read)
    assert (await fast.execute("{ items { later { name } } }")).errors is None
    assert general == ["Query", "Item", "Item", "Item", "Owner", "Owner"]
