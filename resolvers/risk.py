"""Resolvers of risk grades: a staff override (人工调整) and the ``riskAlerts`` stream (风险预警).

Which roles may override is decided before execution (``schema.access``: the role's
``mutations``); here the target is checked against the principal's scope (a matter against
its matter scope: jurisdiction, own organisation), the override is
applied by :func:`db.risk.override_grade` with the principal's ``sub`` (its own audit row,
same transaction) and committed. Alerts reach a subscriber only for records it may read, and
for persons only when it may read parties and one of the kinds behind the grade there.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from sqlalchemy import func, select

from db.decision_scope import ensure_persons_within, within
from db.matters import matter_scope_conditions
from db.models import Matter, Record
from db.risk import GradeNotFound, override_grade
from domain.enums import RiskLevel
from domain.linking.errors import LinkingNotFound
from domain.risk import TargetKind
from domain.risk.alerts import RISK_CHANNEL, RiskAlert, is_rise_to, read_alert_message
from domain.workflow.visibility import MatterScope
from resolvers.cursors import parse_global_id
from resolvers.dataloaders import scoped_risk
from resolvers.rows import TYPE_OF_KIND, global_id
from schema.context import Info
from schema.errors import BadUserInput, Forbidden, ServiceUnavailable
from schema.risk import (
    OverrideRiskResult,
    RiskOverridden,
    RiskOverrideError,
    RiskOverrideErrorCode,
)
from schema.risk import RiskAlert as RiskAlertEvent
from schema.security import RequestSecurity

MAX_REASON = 500
_RECORD_TYPES = frozenset(t.__name__ for t in TYPE_OF_KIND.values())


def _target(value: str) -> tuple[TargetKind, int] | None:
    try:
        type_name, pk = parse_global_id(value)
    except BadUserInput:
        return None
    if type_name == "Person":
        return TargetKind.PERSON, pk
    if type_name == "Matter":
        return TargetKind.MATTER, pk
    if type_name in _RECORD_TYPES:
        return TargetKind.RECORD, pk
    return None


def _error(code: RiskOverrideErrorCode, message: str) -> RiskOverrideError:
    return RiskOverrideError(code=code, message=message)


async def resolve_override_risk_grade(
    info: Info,
    target_id: Annotated[
        strawberry.ID,
        strawberry.argument(description="The record, person or matter graded (研判对象 ID)."),
    ],
    level: Annotated[RiskLevel, strawberry.argument(description="The grade to show (调整后等级).")],
    reason: Annotated[
        str, strawberry.argument(description="Why, for the record (调整理由); required.")
    ],
) -> OverrideRiskResult:
    principal = info.context.security.principal
    if principal is None:  # unreachable: unauthenticated operations are never executed
        raise Forbidden("Authentication required.")
    target = _target(target_id)
    reason = reason.strip()
    if target is None:
        return _error(
            RiskOverrideErrorCode.BAD_USER_INPUT, "targetId names no record, person or matter"
        )
    if not reason or len(reason) > MAX_REASON:
        return _error(
            RiskOverrideErrorCode.BAD_USER_INPUT, f"give a reason of 1–{MAX_REASON} characters"
        )
    kind, pk = target
    scope = info.context.security.scope
    not_found = _error(RiskOverrideErrorCode.NOT_FOUND, f"{target_id} has no grade you can set")
    try:
        async with info.context.sessions.begin() as session:
            if kind is TargetKind.PERSON:
                await ensure_persons_within(session, [pk], scope)
            elif kind is TargetKind.MATTER:
                reach = matter_scope_conditions(MatterScope.of(principal))
                seen = await session.scalar(
                    select(func.count()).select_from(Matter).where(Matter.id == pk, *reach)
                )
                if not seen:
                    return not_found
            else:
                seen = await session.scalar(
                    select(func.count()).select_from(Record).where(Record.id == pk, *within(scope))
                )
                if not seen:
                    return not_found
            await override_grade(session, kind, pk, level, reason=reason, by=principal.sub)
    except (GradeNotFound, LinkingNotFound):
        return not_found
    found = await scoped_risk(info.context.sessions, kind, [pk], scope)
    return RiskOverridden(target_id=target_id, assessment=found[pk])


def _may_hear(security: RequestSecurity, alert: RiskAlert) -> bool:
    if alert.target is TargetKind.MATTER:
        # staff whose jurisdiction holds the matter; partners reach matters by assignment,
        # which an alert does not carry: they read the grade on the matter itself
        reach = MatterScope.of(security.principal)
        return reach.org is None and reach.admits(alert.region_code, None)
    scope = security.scope
    if alert.target is TargetKind.RECORD:
        return any(scope.admits(kind, alert.region_code) for kind in alert.kinds)
    principal = security.principal
    # a person is read through a record of theirs the reader can read, wherever the person
    # lives: the alert is heard by the readers of one of the records behind the grade
    return (
        principal is not None
        and principal.policy.parties
        and any(scope.admits(kind, region) for kind, region in alert.reach)
    )


def _alert_id(alert: RiskAlert) -> strawberry.ID:
    if alert.target is TargetKind.PERSON:
        return global_id("Person", alert.target_id)
    if alert.target is TargetKind.MATTER:
        return global_id("Matter", alert.target_id)
    (kind,) = alert.kinds
    return global_id(TYPE_OF_KIND[kind].__name__, alert.target_id)


async def resolve_risk_alerts(
    info: Info,
    at_least: Annotated[
        RiskLevel,
        strawberry.argument(
            description=(
                "Only rises to this level or above (预警等级); the hub raises alerts at its "
                "configured level (RED by default), so lower values add nothing."
            )
        ),
    ] = RiskLevel.RED,
    persons: Annotated[
        bool, strawberry.argument(description="Include persons' grades (含人员预警).")
    ] = True,
) -> AsyncGenerator[RiskAlertEvent, None]:
    security = info.context.security
    if not security.scope.kinds:
        raise Forbidden("This role reads no records, so it has no alerts to follow.")
    bus = info.context.bus
    if bus is None:
        raise ServiceUnavailable("Subscriptions need the running server (govhub serve).")
    async for message in bus.subscribe(RISK_CHANNEL):
        for alert in read_alert_message(message):
            if alert.target is TargetKind.PERSON and not persons:
                continue
            if not is_rise_to(at_least, alert.previous, alert.level):
                continue
            if not _may_hear(security, alert):
                continue
            yield RiskAlertEvent(
                target_id=_alert_id(alert), kinds=sorted(alert.kinds),
                region_code=alert.region_code, level=alert.level, previous=alert.previous,
                raised_at=alert.raised_at,
            )  # fmt: skip
