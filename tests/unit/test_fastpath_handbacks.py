"""Hand-backs of the lighter execution path are counted and logged; a defect of the path is a
hand-back, never a failed request; ``GOVHUB_FAST_PATH=false`` serves the general path."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from hub.metrics import REGISTRY
from resolvers.root import general_schema, schema
from schema.fastpath.executor import PlainFieldExecutor
from schema.fastpath.handbacks import HandBack, hand_back_counts
from schema.fastpath.readers import FieldCompiler
from tests.unit.test_execution import fast, stock

FALLBACKS_EXPORTED = ("govhub_fast_path_hand_backs_total", {"reason": "fallback"})


def _delta(before: dict[HandBack, int]) -> dict[HandBack, int]:
    return {reason: count - before[reason] for reason, count in hand_back_counts().items()}


async def test_a_fallback_is_counted_and_logged_once_per_document() -> None:
    document = "{ broken { bestFriend { name } } unique: items { name } }"  # not seen before
    before = hand_back_counts()
    exported = REGISTRY.get_sample_value(*FALLBACKS_EXPORTED)
    with capture_logs() as logs:
        first = await fast.execute(document)
        second = await fast.execute(document)
    assert first.errors is not None  # the raising resolver's error, reported as always
    assert [e.formatted for e in first.errors] == [e.formatted for e in second.errors or []]
    assert _delta(before) == {HandBack.FALLBACK: 2, HandBack.UNEXPECTED: 0}
    assert REGISTRY.get_sample_value(*FALLBACKS_EXPORTED) == (exported or 0) + 2  # Prometheus too
    lines = [line for line in logs if line["event"] == "fast_path_hand_back"]
    assert len(lines) == 1
    # the outermost compiled field that was handed back, and the document by a digest only
    assert (lines[0]["type"], lines[0]["field"]) == ("Query", "broken")
    assert len(lines[0]["document"]) == 12
    assert "bestFriend" not in str(lines[0])


async def test_a_defect_of_the_path_is_answered_by_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_compiler(*_args: Any, **_kwargs: Any) -> Any:
        raise AttributeError("an internal that moved in an upgrade")

    monkeypatch.setattr(FieldCompiler, "field", broken_compiler)
    document = "{ items { name count colour owner { name tags } } }"
    before = hand_back_counts()
    with capture_logs() as logs:
        result = await fast.execute(document)
    expected = await stock.execute(document)
    assert result.errors is None
    assert result.data == expected.data
    assert _delta(before)[HandBack.UNEXPECTED] == 1
    failures = [line for line in logs if line["event"] == "fast_path_failed"]
    assert failures and failures[0]["error"] == "AttributeError"
    assert failures[0]["log_level"] == "error"


def test_hand_backs_are_exported_to_prometheus() -> None:
    names = {
        (sample.name, sample.labels.get("reason"))
        for family in REGISTRY.collect()
        for sample in family.samples
    }
    assert ("govhub_fast_path_hand_backs_total", "fallback") in names
    assert ("govhub_fast_path_hand_backs_total", "unexpected") in names


def test_the_kill_switch_schema_runs_the_general_path() -> None:
    assert schema.execution_context_class is PlainFieldExecutor
    assert general_schema().execution_context_class is not PlainFieldExecutor
    assert general_schema() is general_schema()
    assert general_schema().as_str() == schema.as_str()


async def test_awaitables_are_told_apart_by_type_and_generators_one_by_one() -> None:
    import asyncio
    import types

    from schema.fastpath.readers import _is_awaitable

    async def coroutine() -> None:
        return None

    def plain() -> Any:
        yield 1

    @types.coroutine
    def generator_based() -> Any:
        yield

    pending = coroutine()
    future = asyncio.get_running_loop().create_future()
    for _ in range(2):  # the second time from the memo
        assert _is_awaitable(pending) and _is_awaitable(future)
        assert not _is_awaitable([]) and not _is_awaitable("x") and not _is_awaitable(None)
        assert not _is_awaitable(plain())
        assert _is_awaitable(generator_based())
    pending.close()
