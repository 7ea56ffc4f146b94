"""JSON text written by orjson (``domain.jsontext``) reads back as the standard library would have
written it: a sealed document (raw payloads, outbox payloads), a JSON column, a digest's input."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from db.pii import SealedJSON
from domain.jsontext import column_json, sorted_json


@dataclass(frozen=True)
class _Point:
    x: int
    y: int


_PAYLOADS: list[Any] = [
    {"caseNo": "TJ-2026-0001", "当事人": [{"姓名": "王小明", "idNo": "11010519491231002X"}],
     "amount": 12.5, "count": 3, "closed": False, "note": None, "tags": []},
    {"GXSJ": "2026-03-01 08:00:00", "nested": {"b": 1, "a": [1, 2, {"z": "ü\u2028"}]}},
    {"when": datetime(2026, 3, 1, 8, 0, tzinfo=UTC), "day": date(2026, 3, 1),
     "amount": Decimal("1200.50")},
    {"big": 10**30, "small": -(2**70)},
    {"float": 1e16, "tiny": 5e-324, "neg": -0.0},
    {"dataclass": _Point(1, 2), "set": {1}},
    [1, "two", {"3": 3}],
    "just text",
]  # fmt: skip


@pytest.mark.parametrize("payload", _PAYLOADS)
def test_a_document_reads_back_as_the_standard_library_wrote_it(payload: Any) -> None:
    standard = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    assert json.loads(sorted_json(payload)) == json.loads(standard)


def test_nan_and_infinities_are_kept_not_written_as_null() -> None:
    # a source's JSON may say NaN (the standard library reads it); orjson alone wrote null
    document = json.loads(sorted_json({"amount": float("nan"), "n": [float("-inf")], "x": None}))
    assert math.isnan(document["amount"])
    assert document["n"] == [float("-inf")] and document["x"] is None


def test_keys_are_sorted_and_text_is_utf8() -> None:
    assert sorted_json({"b": "中", "a": 1}) == '{"a":1,"b":"中"}'.encode()


def test_a_sealed_document_round_trips() -> None:  # with the suite's key (conftest)
    column = SealedJSON()
    payload = _PAYLOADS[0] | {"big": 10**30}
    sealed = column.process_bind_param(payload, dialect=None)  # type: ignore[arg-type]
    assert sealed is not None and "王小明" not in sealed
    assert column.process_result_value(sealed, dialect=None) == payload  # type: ignore[arg-type]


def test_a_lone_surrogate_is_written_by_the_standard_library_as_the_caller_asks() -> None:
    payload = {"name": "\ud800x"}  # a JSON \ud800 escape reads as this
    with pytest.raises(UnicodeEncodeError):
        sorted_json(payload)
    assert sorted_json(payload, errors="surrogatepass") == '{"name": "\ud800x"}'.encode(
        "utf-8", "surrogatepass"
    )


_COLUMN_VALUES: list[Any] = [
    payload
    for payload in _PAYLOADS
    if not isinstance(payload, dict) or not ({"when", "dataclass"} & payload.keys())
] + [{2: "int key", "b": [True, None, 1.5]}, {"z": 1, "a": 2}]


@pytest.mark.parametrize("value", _COLUMN_VALUES)
def test_a_json_column_reads_back_what_the_standard_library_wrote(value: Any) -> None:
    text = column_json(value)
    assert json.loads(text) == json.loads(json.dumps(value))
    if isinstance(value, dict) and value.keys() == {"z", "a"}:
        assert list(json.loads(text)) == ["z", "a"]  # keys stay in their order


def test_a_json_column_keeps_nan_as_the_standard_library_writes_it() -> None:
    value = {"amount": float("nan"), "n": [float("inf")], "x": None}
    assert column_json(value) == json.dumps(value)  # orjson alone wrote null


@pytest.mark.parametrize("value", [{"when": datetime(2026, 3, 1, tzinfo=UTC)}, {"s": {1}},
                                   {"day": date(2026, 3, 1)}, _Point(1, 2)])  # fmt: skip
def test_a_json_column_refuses_what_the_standard_library_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        column_json(value)
