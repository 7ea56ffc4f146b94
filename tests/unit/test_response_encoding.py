"""GraphQL answers are encoded by orjson (hub/graphql_http.py): the same JSON the standard
library gives, as UTF-8 text, with the standard library kept for what orjson refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.graphql_http import GraphQLOverHTTP
from resolvers.root import schema

NODE = {
    "id": "R3JpZEV2ZW50OjE=",
    "title": "张某与李某邻里纠纷",
    "occurredAt": "2026-11-30T08:00:00+08:00",
    "amount": 12.5,
    "count": 3,
    "flag": True,
    "region": None,
}
ANSWERS: list[Any] = [
    {"data": {"records": {"edges": [{"node": NODE}]}}},
    {
        "data": None,
        "errors": [
            {"message": "无权访问", "path": ["records", 0], "extensions": {"code": "FORBIDDEN"}}
        ],
    },
    {"data": {"text": 'quote " backslash \\ control \u0001 tab \t emoji 😀 line\u2028sep'}},
    [{"data": {"a": 1}}, {"data": {"b": [1.0, -0.0, 1e300]}}],
]


@pytest.fixture(scope="module")
def view() -> GraphQLOverHTTP:
    return GraphQLOverHTTP(schema)


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_same_json_as_the_standard_library(view: GraphQLOverHTTP, answer: Any) -> None:
    encoded = view.encode_json(answer)
    assert isinstance(encoded, str)  # text: WebSocket frames stay text frames
    assert json.loads(encoded) == answer
    assert json.loads(encoded) == json.loads(json.dumps(answer))
    assert "\\u5f20" not in encoded  # Chinese goes out as UTF-8, not as escapes


def test_compact(view: GraphQLOverHTTP) -> None:
    assert (
        view.encode_json({"data": {"a": [1, "乙"], "b": None}})
        == '{"data":{"a":[1,"乙"],"b":null}}'
    )


def test_what_orjson_refuses_goes_to_the_standard_library(view: GraphQLOverHTTP) -> None:
    answer = {"data": {"json": {"big": 2**70, "name": "王"}}}
    encoded = view.encode_json(answer)
    assert json.loads(encoded) == answer


def test_a_lone_surrogate_is_escaped_not_a_failure(view: GraphQLOverHTTP) -> None:
    answer = {"data": {"echo": "a\ud800b"}}
    encoded = view.encode_json(answer)
    assert "\\ud800" in encoded
    encoded.encode("utf-8")  # what the response sends
    assert json.loads(encoded) == answer


def test_what_neither_takes_still_fails(view: GraphQLOverHTTP) -> None:
    with pytest.raises(TypeError):
        view.encode_json({"data": object()})
