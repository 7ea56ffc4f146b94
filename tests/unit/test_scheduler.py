"""The sync scheduler stops for good when ``serve`` stops, even when a run lost the
cancellation on its way (Python 3.11's ``asyncio.wait_for``, which redis-py publishes through)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

import connectors.scheduler
from connectors.scheduler import SyncScheduler
from connectors.sync import RunResult
from domain.enums import SourceSystem


async def test_stop_ends_a_loop_whose_run_lost_the_cancellation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a source whose run loses the first cancellation that reaches it (as wait_for
    # does when what it waits for completes at that moment) and finishes its run
    runs, lost = 0, False
    started = asyncio.Event()

    async def sync_losing_a_cancellation(*_args: Any, **_kwargs: Any) -> RunResult:
        nonlocal runs, lost
        runs += 1
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if lost:
                raise
            lost = True  # the run goes on to its end
        return RunResult(source=SourceSystem.GRID)

    monkeypatch.setattr(connectors.scheduler, "sync_source", sync_losing_a_cancellation)
    scheduler = SyncScheduler(
        cast(Any, None), cast(Any, None), {SourceSystem.GRID: cast(Any, None)},
        {SourceSystem.GRID: cast(Any, SimpleNamespace(schedule_seconds=0.01))},
    )  # fmt: skip
    scheduler.start()
    await started.wait()
    tasks = list(scheduler._tasks)
    try:
        # when the app stops it
        await asyncio.wait_for(scheduler.stop(), timeout=5)
    finally:
        for task in tasks:  # a loop left running would outlive the test
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # then it has stopped, and started no run after the one that was cut short
    assert runs == 1
    assert all(task.done() for task in tasks)
