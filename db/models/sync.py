"""Sync bookkeeping: watermarks, runs, dead letters and the write-back outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, enum_column, utcnow
from db.pii import SealedJSON
from domain.enums import SourceSystem


class SyncState(Base):
    """Per source: where incremental sync resumes, and its circuit breaker (熔断器) state."""

    __tablename__ = "sync_state"

    source: Mapped[SourceSystem] = mapped_column(enum_column(SourceSystem), primary_key=True)
    watermark: Mapped[str | None] = mapped_column(String(256))
    cursor: Mapped[str | None] = mapped_column(Text)
    breaker_state: Mapped[str] = mapped_column(String(16), default="CLOSED")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    breaker_opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SyncRun(Base):
    """One sync of one source, with its counts (同步批次)."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[SourceSystem] = mapped_column(enum_column(SourceSystem))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="RUNNING")
    full: Mapped[bool] = mapped_column(default=False)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    dead_lettered: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_sync_runs_source_started_at", "source", "started_at"),)


class DeadLetter(Base):
    """A source record that could not be ingested, kept whole for replay (死信)."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[SourceSystem] = mapped_column(enum_column(SourceSystem))
    source_key: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[Any] = mapped_column(SealedJSON)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_dead_letters_source_key", "source", "source_key"),)


class OutboxMessage(Base):
    """A write-back to a source (e.g. 网上立案 to the court), one row per intended write.

    ``idempotency_key`` is the write's stable reference: the court's ``Idempotency-Key``, the
    external reference stamped into the other systems (see ``domain.writeback`` for states).
    ``aggregate_type``/``aggregate_id`` (e.g. ``matter``/its number) order the writes of one
    matter to one target. ``claimed_by``/``claimed_until``/``claim_token`` are the relay's
    lease. ``attempts`` counts the sends tried; ``lookups`` the read-backs that answered the
    write is absent since the outcome became unknown, ``failed_reads`` those the target did
    not answer in a row (neither spends a send's attempt).
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[SourceSystem] = mapped_column(enum_column(SourceSystem))
    operation: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[Any] = mapped_column(SealedJSON)
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    aggregate_type: Mapped[str | None] = mapped_column(String(32))
    aggregate_id: Mapped[str | None] = mapped_column(String(64))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=utcnow)
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    target_ref: Mapped[str | None] = mapped_column(String(128))
    lookups: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_reads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=utcnow,
                                                        onupdate=utcnow)

    __table_args__ = (
        Index("ix_outbox_status_created_at", "status", "created_at"),
        Index("ix_outbox_target_status_next_attempt_at", "target", "status", "next_attempt_at"),
        Index("ix_outbox_aggregate", "aggregate_type", "aggregate_id"),
    )
