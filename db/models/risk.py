"""Risk grades (风险研判结果) and their history (等级变更记录).

One row per graded target (a record, a person or a matter): the computed
level with the rules that fired and their evidence, the fingerprint of the facts it was
computed on, and a staff override that holds while the facts keep that fingerprint. The
evidence can quote a record's text and address, so it is served as free text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, enum_column, utcnow
from domain.enums import RiskLevel
from domain.risk import TargetKind


class RiskAssessment(Base):
    """The current grade of one target."""

    __tablename__ = "risk_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind))
    target_id: Mapped[int] = mapped_column(Integer)
    level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel))
    """The computed grade: the highest level of the rules fired."""
    effective_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel))
    """What is shown and alerted on: the override's level while it holds, else ``level``."""
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    facts_fingerprint: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(32))
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    override_level: Mapped[RiskLevel | None] = mapped_column(enum_column(RiskLevel))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by: Mapped[str | None] = mapped_column(String(128))
    overridden_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    override_fingerprint: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("target_kind", "target_id"),
        Index("ix_risk_assessments_effective_level", "effective_level"),
    )


class RiskGradeChange(Base):
    """One change of a target's shown grade, and why (重新研判, 人工调整, 调整失效)."""

    __tablename__ = "risk_grade_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_kind: Mapped[TargetKind] = mapped_column(enum_column(TargetKind))
    target_id: Mapped[int] = mapped_column(Integer)
    from_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel))
    to_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel))
    cause: Mapped[str] = mapped_column(String(16))  # ASSESSED | OVERRIDDEN
    changed_by: Mapped[str | None] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_risk_grade_changes_target", "target_kind", "target_id"),)
