"""Grading inside a sync run, on both databases: the run that brings the deciding record
raises the alert, once, and reports it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.sync import sync_source
from db.engine import session_factory
from db.models import Record
from domain.enums import RiskLevel
from domain.risk import TargetKind
from domain.risk.alerts import RiskAlert
from hub.risk import risk_config
from hub.risk_cli import regrade_all
from hub.settings import Settings
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


async def test_regrade_grades_every_record_again_under_the_rules_in_force(
    committing_engine: AsyncEngine, tmp_path: Path
) -> None:
    """A centre edits its rules: ``govhub risk regrade`` applies them to what is stored (a
    sync would only to what it touches), announcing the rises."""
    sessions = session_factory(committing_engine)
    noisy = _case("TJ1", 1, title="邻居装修噪音纠纷")
    assert (await sync_source(committing_engine, sessions, ListConnector([[noisy]]))).ok
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "include_defaults = true\n[lexicon.classes]\nthreat = [\"扬言\", \"噪音\"]\n",
        encoding="utf-8",
    )
    schema = None
    if committing_engine.dialect.name == "postgresql":
        async with committing_engine.connect() as connection:
            schema = str(await connection.scalar(text("SELECT current_schema()")))
    settings = Settings(
        database_url=committing_engine.url.render_as_string(hide_password=False),
        database_schema=schema,
        risk_rules_file=rules, data_dir=tmp_path, redis_url=None,
    )  # fmt: skip
    progress: list[tuple[int, int]] = []
    done = await regrade_all(settings, risk_config(settings),
                             progress=lambda *moved: progress.append(moved))  # fmt: skip
    assert (done.records, progress) == (1, [(1, 1)])
    async with sessions() as session:
        level = await session.scalar(select(Record.risk_level))
    assert level is RiskLevel.YELLOW  # words.threat under the centre's own word list
    again = await regrade_all(settings, risk_config(settings))
    assert (again.records, again.alerts) == (1, 0)  # nothing rose this time
