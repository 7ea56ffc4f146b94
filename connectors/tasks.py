"""Stopping background loops for good (后台任务的停止): the sync scheduler's, the outbox
relay's, the deadline scanner's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from typing import Any

RECANCEL_SECONDS = 0.5


async def cancel_and_wait(
    tasks: Collection[asyncio.Task[Any]], *, every: float = RECANCEL_SECONDS
) -> None:
    """Cancel ``tasks`` and wait until each has ended, cancelling again every ``every``
    seconds those still running.

    A cancellation can be lost on its way: on Python 3.11 ``asyncio.wait_for`` drops one that
    arrives just as what it waits for completes (redis-py sends each command through it, so a
    sync announcing its batch when ``serve`` is told to stop can lose it). A loop built to
    outlive one pass's surprise then runs on, and waiting for it once would keep a stopping
    process alive for ever; cancelling it again reaches it at its next ``await``.
    """
    running = {task for task in tasks if not task.done()}
    while running:
        for task in running:
            task.cancel()
        _, running = await asyncio.wait(running, timeout=every)
    for task in tasks:  # an error it ended with is raised, as awaiting it would
        with contextlib.suppress(asyncio.CancelledError):
            await task
