"""Grading inside a sync run, on both databases: the run that brings the deciding record
raises the alert, once, and reports it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.sync import sync_source
from db.engine import session_factory
from db.models import Record
from domain.enums import RiskLevel
from domain.risk import TargetKind
from domain.risk.alerts import RiskAlert
from tests.integration.test_sync_engine import ListConnector, _case


async def test_the_sync_that_brings_the_deciding_record_raises_the_alert(
    committing_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committing_engine)
    heard: list[RiskAlert] = []

    async def listen(alerts: Sequence[RiskAlert]) -> None:
        heard.extend(alerts)

    calm = _case("TJ1", 1, title="邻里纠纷调解")
    threat = _case("TJ2", 1, title="对方扬言要拿刀砍死申请人")
    # a first run brings a calm case: graded, no alert
    first = await sync_source(
        committing_engine, sessions, ListConnector([[calm]]), on_risk_alerts=listen
    )
    assert first.ok and first.risk_alerts == 0 and heard == []
    # the next brings a threat with a weapon: RED within that run, announced once
    second = await sync_source(
        committing_engine, sessions, ListConnector([[calm], [threat]]), on_risk_alerts=listen
    )
    assert second.ok and second.risk_alerts == len(heard) > 0
    assert {(a.target, a.level) for a in heard} >= {(TargetKind.RECORD, RiskLevel.RED)}
    async with sessions() as session:
        levels: dict[str, Any] = dict(
            (await session.execute(select(Record.source_key, Record.risk_level))).all()
        )
    # (the calm case names the same party, so linking ties it to the threat: RED too)
    assert levels == {"TJ1": RiskLevel.RED, "TJ2": RiskLevel.RED}
    # a full re-run changes nothing: no alert again
    heard.clear()
    third = await sync_source(
        committing_engine, sessions, ListConnector([[calm], [threat]]), full=True,
        on_risk_alerts=listen,
    )  # fmt: skip
    assert third.ok and heard == []
