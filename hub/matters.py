"""The closed loop's moving parts, owned by the app (事项闭环组装): the workflow service with
its rules and calendar from settings, the sync hook that opens and follows matters, and the
deadline scanner (one replica at a time, by lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.sync import ChangeListener
from connectors.tasks import cancel_and_wait
from db.clock_restamp import restamp_clocks
from db.deadline_scanner import SCANNER, hold_lease, release_lease, scan
from db.matter_intake import IntakeIncomplete, take_in
from db.matter_workflow import MatterWorkflow
from domain.calendar import ChineseWorkingCalendar, load_calendar_overrides
from domain.deadlines import DeadlineRuleError, RuleBook, load_rules
from domain.enums import CaseStatus, DisputeCategory, RecordKind, SourceSystem
from domain.events import (
    MATTERS_CHANNEL,
    ChangedRecord,
    FollowUpIncomplete,
    MatterAnnouncement,
    matter_message,
)
from domain.workflow.intake import IntakeRules
from hub.bus import EventBus
from hub.risk import risk_alert_announcer, risk_config
from hub.settings import ConfigErrorCode, Settings, SettingsError

log = structlog.get_logger(__name__)


def build_workflow(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus | None = None,
    now: Callable[[], datetime] | None = None,
) -> MatterWorkflow:
    """The workflow service under the configured rules and calendar (validated here: a bad
    rules file stops the start-up naming the rule and key)."""
    rules, calendar = deadline_config(settings)

    async def publish(events: Sequence[MatterAnnouncement]) -> None:
        if bus is not None:
            await bus.publish(MATTERS_CHANNEL, matter_message(events))

    workflow = MatterWorkflow(
        sessions, rules, calendar, publish,
        risk=risk_config(settings), on_risk_alerts=risk_alert_announcer(bus),
    )
    if now is not None:
        workflow.now = now
    return workflow


def deadline_config(settings: Settings) -> tuple[RuleBook, ChineseWorkingCalendar]:
    """The deadline rules (时限规则) and working calendar in force; a file that does not load
    is a :class:`SettingsError` with its code, naming the rule or override and key."""
    try:
        rules = load_rules(settings.deadline_rules_file)
    except (DeadlineRuleError, OSError) as exc:
        raise SettingsError(
            f"GOVHUB_DEADLINE_RULES_FILE: {exc}", ConfigErrorCode.INVALID_DEADLINE_RULES
        ) from exc
    try:
        overrides = (
            load_calendar_overrides(settings.calendar_overrides_file)
            if settings.calendar_overrides_file is not None
            else ()
        )
        calendar = ChineseWorkingCalendar(overrides)
    except (ValueError, OSError) as exc:  # CalendarOverrideError is a ValueError
        raise SettingsError(
            f"GOVHUB_CALENDAR_OVERRIDES_FILE: {exc}", ConfigErrorCode.INVALID_CALENDAR_OVERRIDES
        ) from exc
    return rules, calendar


def check_rule_files(settings: Settings) -> None:
    """Load every rules file the settings name (risk, deadlines, calendar) and which synced
    records open matters, so a command that would use them stops before it does anything:
    :class:`SettingsError` with its code."""
    risk_config(settings)
    deadline_config(settings)
    intake_rules(settings)


def intake_rules(settings: Settings) -> IntakeRules:
    """Which synced records open matters; a value that names no kind, category or status is
    a :class:`SettingsError` naming its variable."""
    for variable, values, known in (
        ("GOVHUB_MATTER_OPEN_KINDS", settings.matter_open_kinds, RecordKind),
        ("GOVHUB_MATTER_OPEN_CATEGORIES", settings.matter_open_categories, DisputeCategory),
        ("GOVHUB_MATTER_OPEN_STATUSES", settings.matter_open_statuses, CaseStatus),
    ):
        names = [str(member.value) for member in known]
        unknown = [value for value in values if value not in names]
        if unknown:
            raise SettingsError(
                f"{variable}: {', '.join(unknown)} is not one of {', '.join(names)}"
            )
    return IntakeRules.of(
        settings.matter_open_kinds, settings.matter_open_categories, settings.matter_open_statuses
    )


def matter_intake(workflow: MatterWorkflow, rules: IntakeRules) -> ChangeListener:
    """The sync hook: after each batch is linked, open, join and feed back matters."""

    async def follow(source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
        try:
            await take_in(workflow, rules, [c.record_id for c in changes], source=source.value)
        except IntakeIncomplete as exc:  # the sync hands these to us again
            remaining = set(exc.remaining)
            left = [change for change in changes if change.record_id in remaining]
            raise FollowUpIncomplete(left, exc.cause) from exc

    return follow


@contextlib.asynccontextmanager
async def deadline_scanner(
    settings: Settings, workflow: MatterWorkflow
) -> AsyncIterator[asyncio.Task[None] | None]:
    """Scan every ``scan_interval_seconds`` while this replica holds the scanner lease; before
    each scan bring the stored deadlines to this process's calendar (:func:`restamp_clocks`)."""
    if not settings.scan_deadlines:
        yield None
        return
    holder = f"{socket.gethostname()}:{os.getpid()}"
    interval = settings.scan_interval_seconds
    ttl = timedelta(seconds=max(3 * interval, 30))

    async def held() -> bool:
        return await hold_lease(workflow.sessions, SCANNER, holder, workflow.now(), ttl)

    async def loop() -> None:
        while True:
            try:
                if await held():
                    # before every pass, not only the first: a replica of the release before
                    # (a rolling deploy) or a sync process stores clocks under its calendar
                    # meanwhile; finding none is two index look-ups. The lease is renewed
                    # before each batch: a restamp of many clocks outlasts it, and another
                    # replica would restamp and scan beside this one.
                    count = await restamp_clocks(workflow, still_held=held)
                    if count is None:  # another replica holds the lease now
                        log.info("clocks_restamp_handed_over")
                        await asyncio.sleep(interval)
                        continue
                    if count:
                        log.info("clocks_restamped", clocks=count,
                                 calendar=workflow.calendar.version)
                    result = await scan(workflow, workflow.now(), by=f"{SCANNER}:{holder}")
                    if result.warnings or result.breaches:
                        log.info("deadline_scan", clocks=result.clocks, warnings=result.warnings,
                                 breaches=result.breaches, supervised=result.supervised)
            except Exception:  # the scanner outlives any one pass's surprise
                log.exception("deadline_scan_failed")
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop(), name="deadline-scanner")
    try:
        yield task
    finally:
        await cancel_and_wait([task])
        with contextlib.suppress(Exception):
            await release_lease(workflow.sessions, SCANNER, holder)


