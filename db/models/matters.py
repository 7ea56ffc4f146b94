"""The closed loop at rest (事项闭环存储): matters, their records, parties, timeline, clocks and
supervision orders.

A matter row holds the state machine's :class:`~domain.workflow.state.MatterState` column by
column, with ``version`` for optimistic concurrency (an update names the version it read).
Its number (一案一码) comes from ``matter_numbers``, one counter per region and year that
only ever grows, so a number is never given twice. The timeline is append-only. A clock row
stores its budget and ledger (suspensions, extensions, stop) and, beside them, the instants
derived from them (``due_at``, ``next_rung_at``), recomputed whenever the ledger changes, so
the scanner and the overdue filters read an index. A rung fires once: its ``clock_rungs`` row
is the claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, enum_column, utcnow
from db.models.parties import _SealedIdentity
from db.pii import Sealed
from domain.enums import CaseStatus, DisputeCategory, PartyRole, RiskLevel
from domain.workflow.vocabulary import (
    ActorKind,
    ComplexityTier,
    DispatchTrack,
    MatterOrigin,
    MatterOutcome,
    MatterStep,
    Satisfaction,
    SupervisionLevel,
)


class MatterNumber(Base):
    """The counter behind 一案一码: the last sequence number given per region and year."""

    __tablename__ = "matter_numbers"

    region: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Matter(Base):
    """One matter (事项): what the centre works on, through the loop."""

    __tablename__ = "matters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    summary: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[MatterOrigin] = mapped_column(enum_column(MatterOrigin))
    category: Mapped[DisputeCategory] = mapped_column(enum_column(DisputeCategory))
    region_code: Mapped[str | None] = mapped_column(String(32))
    risk: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel))
    tier: Mapped[ComplexityTier | None] = mapped_column(enum_column(ComplexityTier))
    lead_org: Mapped[str | None] = mapped_column(String(100))
    assigned_org: Mapped[str | None] = mapped_column(String(100))
    track: Mapped[DispatchTrack | None] = mapped_column(enum_column(DispatchTrack))
    step: Mapped[MatterStep] = mapped_column(enum_column(MatterStep))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus))
    result: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    outcome: Mapped[MatterOutcome | None] = mapped_column(enum_column(MatterOutcome))
    satisfaction: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction))
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    running_clocks: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    """Running clocks by rule id with the extension granted so far (the machine's view)."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    opened_by: Mapped[str] = mapped_column(String(128))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_matters_region_code", "region_code"),
        Index("ix_matters_assigned_org", "assigned_org"),
        Index("ix_matters_step", "step"),
        Index("ix_matters_opened_at", "opened_at"),
    )


class MatterRecord(Base):
    """A source record belonging to a matter: the one that opened it, linked ones, attached."""

    __tablename__ = "matter_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    how: Mapped[str] = mapped_column(String(16))  # ORIGIN | LINKED | ATTACHED
    attached_by: Mapped[str] = mapped_column(String(128))
    attached_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("matter_id", "record_id"),
        Index("ix_matter_records_record_id", "record_id"),
    )


class MatterParty(_SealedIdentity, Base):
    """A party as intake recorded it (来访/来电登记), identifiers sealed like everywhere."""

    __tablename__ = "matter_parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole))
    name: Mapped[str] = mapped_column(String(128))
    id_number: Mapped[str | None] = mapped_column(Sealed)
    id_number_index: Mapped[str | None] = mapped_column(String(40), index=True)
    phone: Mapped[str | None] = mapped_column(Sealed)
    phone_index: Mapped[str | None] = mapped_column(String(40), index=True)

    __table_args__ = (UniqueConstraint("matter_id", "position"),)


class SealedParty(NamedTuple):
    """A :class:`MatterParty` as read for clients: identifiers still sealed, as stored."""

    role: PartyRole
    name: str
    sealed_id_number: str | None
    sealed_phone: str | None


class MatterEvent(Base):
    """One entry of a matter's timeline (办理记录); rows are only ever inserted."""

    __tablename__ = "matter_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    """A MatterAction, a SupervisionAction, or WARNING / OVERDUE from the scanner."""
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind))
    actor_sub: Mapped[str] = mapped_column(String(128))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    actor_org: Mapped[str] = mapped_column(String(100), default="")
    from_step: Mapped[MatterStep | None] = mapped_column(enum_column(MatterStep))
    to_step: Mapped[MatterStep | None] = mapped_column(enum_column(MatterStep))
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_matter_events_matter_id_id", "matter_id", "id"),)


class Supervision(Base):
    """A supervision order (督办单) on a matter."""

    __tablename__ = "supervisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    level: Mapped[SupervisionLevel] = mapped_column(enum_column(SupervisionLevel))
    target_org: Mapped[str] = mapped_column(String(100))
    issuing_region: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    breach_clock_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    """The breached clock that caused it: unique, so a breach supervises once."""
    breach_rule_id: Mapped[str | None] = mapped_column(String(100))
    rung: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    reply: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    running_clocks: Mapped[list[str]] = mapped_column(JSON, default=list)
    escalated_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervisions.id", ondelete="SET NULL"), index=True
    )
    """The order this one superseded on escalation (升级); None for an order issued afresh."""
    voided: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Closed because the breach it (or the order it escalated from) pressed did not happen
    (逾期不成立): left out of the next breach's rung and of the matter's risk facts."""

    __table_args__ = (Index("ix_supervisions_matter_id", "matter_id"),)


class ClockRow(Base):
    """One clock (计时器): budget, ledger, and the instants derived from them."""

    __tablename__ = "clocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    supervision_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervisions.id", ondelete="CASCADE")
    )
    rule_id: Mapped[str] = mapped_column(String(100))
    budget: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    start_day_counts: Mapped[bool] = mapped_column(Boolean, default=False)
    roll: Mapped[str] = mapped_column(String(24))
    suspendable: Mapped[bool] = mapped_column(Boolean, default=False)
    max_extension: Mapped[int | None] = mapped_column(Integer)
    warn_percents: Mapped[list[int]] = mapped_column(JSON, default=list)
    ledger: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """{"suspensions": [[start, end|null, reason]], "extensions": [[amount, at, approval,
    reason]]}, instants as ISO text."""
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stop_reason: Mapped[str] = mapped_column(String(64), default="")
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_rung_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    calendar_version: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        Index("ix_clocks_matter_id", "matter_id"),
        Index("ix_clocks_next_rung_at", "next_rung_at"),
        Index("ix_clocks_due_at", "due_at"),
        Index("ix_clocks_calendar_version", "calendar_version", "id"),
    )


class ClockRung(Base):
    """A rung that fired (预警/逾期): the primary key makes each fire once."""

    __tablename__ = "clock_rungs"

    clock_id: Mapped[int] = mapped_column(
        ForeignKey("clocks.id", ondelete="CASCADE"), primary_key=True
    )
    rung: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fired_by: Mapped[str] = mapped_column(String(128))


class Lease(Base):
    """A named lease (租约) one process holds at a time, e.g. the deadline scanner's."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
