"""Risk grading as the hub runs it (风险研判配置): the rules in force, and where alerts go."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from connectors.sync import RiskListener
from db.risk import RiskConfig, default_rules
from domain.enums import RiskLevel
from domain.risk import RiskRuleError, load_risk_rules
from domain.risk.alerts import RISK_CHANNEL, RiskAlert, alert_message
from hub.bus import EventBus
from hub.metrics import RISK_ALERTS
from hub.settings import ConfigErrorCode, Settings, SettingsError


def risk_config(settings: Settings) -> RiskConfig:
    """The configured rules (strictly loaded: a bad file stops start-up, naming the rule)."""
    try:
        rules = (
            load_risk_rules(settings.risk_rules_file)
            if settings.risk_rules_file is not None
            else default_rules()
        )
    except (RiskRuleError, OSError) as exc:
        raise SettingsError(
            f"GOVHUB_RISK_RULES_FILE: {exc}", ConfigErrorCode.INVALID_RISK_RULES
        ) from exc
    return RiskConfig(rules, alert_level=RiskLevel(settings.risk_alert_level))


def risk_alert_announcer(bus: EventBus | None) -> RiskListener:
    """Counts each alert (Prometheus) and publishes it on ``risk`` when there is a bus."""

    async def announce(alerts: Sequence[RiskAlert]) -> None:
        for alert in alerts:
            RISK_ALERTS.labels(target=alert.target.value, level=alert.level.value).inc()
        if bus is not None:
            message = alert_message(list(alerts))
            message["sentAt"] = datetime.now(UTC).isoformat()
            await bus.publish(RISK_CHANNEL, message)

    return announce
