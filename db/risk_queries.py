"""The open risk list (风险清单): records at a risk level whose handling is not over yet."""

from __future__ import annotations

from sqlalchemy import Integer, literal, select

from db.queries import RECORDS, AnySelect, RecordCriteria, RecordScope, record_conditions
from domain.enums import CaseStatus, RiskLevel

FINISHED: tuple[CaseStatus, ...] = (
    CaseStatus.RESOLVED,
    CaseStatus.FAILED,
    CaseStatus.CLOSED,
    CaseStatus.REVISITED,
    CaseStatus.WITHDRAWN,
)
"""Statuses after which a record is no longer on a risk list (化解、办结、回访或撤回)."""

RISK_LIST_COLUMNS = ("id", "kind", "category", "status", "risk_level", "region_code",
                     "title", "occurred_at")  # fmt: skip


def open_risks(
    criteria: RecordCriteria, scope: RecordScope, level: RiskLevel, limit: int
) -> AnySelect:
    """Records at ``level`` within ``criteria`` and ``scope`` not yet finished, newest first."""
    c = RECORDS.c
    return (
        select(*(c[name] for name in RISK_LIST_COLUMNS))
        .where(
            *record_conditions(criteria, scope),
            c.risk_level == level,
            c.status.not_in(FINISHED),
        )
        .order_by(c.occurred_at.desc(), c.id.desc())
        .limit(literal(int(limit), Integer(), literal_execute=True))
    )
