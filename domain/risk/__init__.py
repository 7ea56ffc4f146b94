"""Risk grading and early warning (风险研判预警): rules as data over the facts govhub holds.

Nothing here touches the database: ``db.risk`` gathers :class:`RiskFacts`, :func:`assess`
grades them, and storage keeps the grade with the rules that fired.
"""

from domain.risk.evaluate import Assessment, FiredRule, Override, assess, effective_level
from domain.risk.facts import (
    MatterFacts,
    RecordFacts,
    RiskFacts,
    TargetKind,
    fingerprint,
    highest,
    level_rank,
)
from domain.risk.rules import RiskRule, RiskRuleBook, RiskRuleError, load_risk_rules

__all__ = [
    "Assessment",
    "FiredRule",
    "MatterFacts",
    "Override",
    "RecordFacts",
    "RiskFacts",
    "RiskRule",
    "RiskRuleBook",
    "RiskRuleError",
    "TargetKind",
    "assess",
    "effective_level",
    "fingerprint",
    "highest",
    "level_rank",
    "load_risk_rules",
]
