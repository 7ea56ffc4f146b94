"""Stored deadlines brought to the calendar in force (到期时间按现行日历重算).

A clock's row keeps, beside its ledger, what it derives under a calendar — ``due_at``,
``next_rung_at``, ``provisional`` — and the calendar's version. The overdue and due-before
filters, the overdue list and 按期办结率 read those stored columns (they are indexed), and
the scanner picks clocks by ``next_rung_at``. When the calendar changes (a newer
``chinesecalendar`` with next year's schedule, an edited override table, other office hours)
its version changes, and every clock stored under another version is derived again here, so
the stored columns say what the clock itself says. The scanner runs this when it starts.
Rungs that fired stay fired (a breach already declared stands).
"""

from __future__ import annotations

from sqlalchemy import select

from db.matter_workflow import MatterWorkflow
from db.matters import clock_of, fired_rungs, write_clock
from db.models import ClockRow

VERSION_LENGTH = 200
"""``clocks.calendar_version`` keeps this many characters of the version."""


async def restamp_clocks(workflow: MatterWorkflow, *, batch: int = 500) -> int:
    """Derive again every clock stored under another calendar version, ``batch`` clocks per
    transaction; returns how many were restamped."""
    version = workflow.calendar.version[:VERSION_LENGTH]
    restamped = 0
    after = 0
    while True:
        async with workflow.sessions.begin() as session:
            rows = list(await session.scalars(
                select(ClockRow)
                .where(ClockRow.calendar_version != version, ClockRow.id > after)
                .order_by(ClockRow.id)
                .limit(batch)
                .with_for_update()
            ))  # fmt: skip
            if not rows:
                return restamped
            fired = await fired_rungs(session, [row.id for row in rows])
            for row in rows:
                write_clock(row, clock_of(row), workflow.calendar, fired[row.id])
            restamped += len(rows)
            after = rows[-1].id
