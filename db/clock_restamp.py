"""Stored deadlines brought to the calendar in force (到期时间按现行日历重算).

A clock's row keeps, beside its ledger, what it derives under a calendar — ``due_at``,
``next_rung_at``, ``provisional`` — and the calendar's version. The overdue and due-before
filters, the overdue list and 按期办结率 read those stored columns (they are indexed), and
the scanner picks clocks by ``next_rung_at``. When the calendar changes (a newer
``chinesecalendar`` with next year's schedule, an edited override table, other office hours)
its version changes, and every clock stored under another version is derived again here, so
the stored columns say what the clock itself says. The scanner runs this before every pass.
Rungs that fired stay fired (a breach already declared stands).

The clocks stored under another version are found through ``ix_clocks_calendar_version``
(those before the version in force, then those after it, an empty one included): a start
with every clock already under the calendar in force reads two index entries, not every
clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import ColumnElement, select, tuple_

from db.matter_workflow import MatterWorkflow
from db.matters import CALENDAR_VERSION_LENGTH, clock_of, fired_rungs, write_clock
from db.models import ClockRow

BATCH = 500
"""Clocks derived again per transaction."""


async def restamp_clocks(
    workflow: MatterWorkflow,
    *,
    batch: int | None = None,
    still_held: Callable[[], Awaitable[bool]] | None = None,
) -> int | None:
    """Derive again every clock stored under another calendar version, ``batch`` clocks per
    transaction; returns how many were restamped. ``still_held`` is asked before each batch
    (the scanner renews its lease there, as a restamp of many clocks outlasts it); when it
    answers False the restamp stops and returns None, what it committed kept."""
    batch = batch or BATCH
    version = workflow.calendar.version[:CALENDAR_VERSION_LENGTH]
    restamped = 0
    for stale in (ClockRow.calendar_version < version, ClockRow.calendar_version > version):
        done = await _restamp_range(workflow, stale, batch, still_held)
        if done is None:
            return None
        restamped += done
    return restamped


async def _restamp_range(
    workflow: MatterWorkflow,
    stale: ColumnElement[bool],
    batch: int,
    still_held: Callable[[], Awaitable[bool]] | None,
) -> int | None:
    restamped = 0
    after: tuple[str, int] | None = None
    while True:
        if still_held is not None and not await still_held():
            return None
        async with workflow.sessions.begin() as session:
            query = select(ClockRow).where(stale)
            if after is not None:
                query = query.where(tuple_(ClockRow.calendar_version, ClockRow.id) > after)
            rows = list(await session.scalars(
                query.order_by(ClockRow.calendar_version, ClockRow.id)
                .limit(batch)
                .with_for_update()
            ))  # fmt: skip
            if not rows:
                return restamped
            after = (rows[-1].calendar_version, rows[-1].id)  # before it is rewritten
            fired = await fired_rungs(session, [row.id for row in rows])
            for row in rows:
                write_clock(row, clock_of(row), workflow.calendar, fired[row.id])
            restamped += len(rows)
