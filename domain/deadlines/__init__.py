"""Legal time limits (法定时限) as data, and clocks that measure them.

:mod:`~domain.deadlines.rules` reads the rules file (one entry per clock: what starts and
stops it, budget, unit, counting, extension, warnings, legal basis);
:mod:`~domain.deadlines.clock` keeps one clock's ledger and derives its due instant, warning
rungs, state and remaining time under a :class:`~domain.calendar.WorkingCalendar`.
"""

from __future__ import annotations

from domain.deadlines.clock import (
    DUE,
    Clock,
    ClockOp,
    ClockOpKind,
    ClockReading,
    ClockState,
    Extension,
    Rung,
    Schedule,
    Suspension,
    warn_key,
)
from domain.deadlines.rules import (
    DeadlineRule,
    DeadlineRuleError,
    Duty,
    ExtensionApprover,
    RollRule,
    RuleBook,
    RuleConditions,
    RuleFacts,
    RuleScope,
    TimeUnit,
    Trigger,
    load_rules,
    parse_trigger,
)

__all__ = [
    "DUE",
    "Clock",
    "ClockOp",
    "ClockOpKind",
    "ClockReading",
    "ClockState",
    "DeadlineRule",
    "DeadlineRuleError",
    "Duty",
    "Extension",
    "ExtensionApprover",
    "RollRule",
    "RuleBook",
    "RuleConditions",
    "RuleFacts",
    "RuleScope",
    "Rung",
    "Schedule",
    "Suspension",
    "TimeUnit",
    "Trigger",
    "load_rules",
    "parse_trigger",
    "warn_key",
]
