"""A workflow whose ``now`` a test moves by hand (a sync, then the scanner days later)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.matter_workflow import MatterWorkflow
from domain.calendar import ChineseWorkingCalendar
from domain.deadlines import load_rules


class SettableClock:
    """``now`` for a workflow: the instant a test last set."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def clocked_workflow(engine: AsyncEngine, clock: SettableClock) -> MatterWorkflow:
    """The shipped rules and calendar on ``engine``, at ``clock``'s time."""
    return MatterWorkflow(
        session_factory(engine), load_rules(), ChineseWorkingCalendar(), now=clock
    )
