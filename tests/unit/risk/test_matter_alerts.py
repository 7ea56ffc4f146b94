"""Who hears a matter's risk alert (事项风险预警): staff whose jurisdiction holds the matter;
not staff elsewhere, not partners (they reach matters by assignment, which an alert does not
carry), not roles without the matters right."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.enums import RiskLevel
from domain.risk import TargetKind
from domain.risk.alerts import RiskAlert
from domain.roles import Principal, Role
from resolvers.risk import _alert_id, _may_hear
from schema.ids import global_id
from schema.security import RequestSecurity

ALERT = RiskAlert(TargetKind.MATTER, 5, RiskLevel.RED, RiskLevel.YELLOW, "411202001",
                  frozenset(), datetime(2026, 3, 1, tzinfo=UTC))  # fmt: skip


@pytest.mark.parametrize(
    ("principal", "hears"),
    [
        (Principal("s", Role.CENTER_STAFF, org="centre", regions=("411202",)), True),
        (Principal("s", Role.CENTER_STAFF, org="centre", regions=("510129",)), False),
        (Principal("m", Role.MEDIATOR, org="org:tjw-huibin-001", regions=("411202",)), False),
        (Principal("v", Role.DASHBOARD_VIEWER, regions=("411202",)), False),
    ],
)
def test_a_matter_alert_reaches_staff_of_its_jurisdiction_only(
    principal: Principal, hears: bool
) -> None:
    assert _may_hear(RequestSecurity(principal), ALERT) is hears


def test_a_matter_alert_names_the_matter() -> None:
    assert _alert_id(ALERT) == global_id("Matter", 5)
