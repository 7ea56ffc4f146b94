"""The append-only, hash-chained audit log (审计日志)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, utcnow


class AuditEntry(Base):
    """One GraphQL operation or staff decision; ``hash`` chains it to the previous row."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    principal: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str | None] = mapped_column(String(32))
    org: Mapped[str | None] = mapped_column(String(128))
    operation: Mapped[str | None] = mapped_column(String(128))
    document_hash: Mapped[str | None] = mapped_column(String(64))
    variables: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    record_ids: Mapped[list[int] | None] = mapped_column(JSON)
    person_ids: Mapped[list[int] | None] = mapped_column(JSON)
    matter_ids: Mapped[list[int] | None] = mapped_column(JSON)
    """Matters whose intake parties (personal data) the operation returned."""
    purpose: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32))
    duration_ms: Mapped[float | None] = mapped_column(Float)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    scheme: Mapped[str | None] = mapped_column(String(16))
    """``hmac-sha256`` (keyed chain); null on rows chained with plain SHA-256 before it."""


class KeyCheck(Base):
    """Which key sealed this database's personal data (密钥校验): a keyed digest of a fixed
    text, never the key, so a process started with another key is refused (``db.key_check``)."""

    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
