"""Reads behind ``syncStatus`` and the auditor's ``auditLog`` (运行状态与审计查询)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import defer

from db.models import AuditEntry, DeadLetter, SyncRun, SyncState
from domain.enums import SourceSystem

AnySelect: TypeAlias = Select[*tuple[Any, ...]]


def sync_states() -> AnySelect:
    return select(SyncState.__table__)


def latest_sync_runs() -> AnySelect:
    """The newest run of each source."""
    newest = (
        select(SyncRun.source, func.max(SyncRun.id).label("run_id"))
        .group_by(SyncRun.source)
        .subquery()
    )
    return select(SyncRun.__table__).join(newest, and_(SyncRun.id == newest.c.run_id))


def open_dead_letter_counts() -> AnySelect:
    return (
        select(DeadLetter.source, func.count().label("open_count"))
        .where(DeadLetter.resolved_at.is_(None))
        .group_by(DeadLetter.source)
    )


def _audit_conditions(
    principal: str | None, occurred_from: datetime | None, occurred_to: datetime | None
) -> list[ColumnElement[bool]]:
    c = AuditEntry.__table__.c
    conditions: list[ColumnElement[bool]] = []
    if principal is not None:
        conditions.append(c.principal == principal)
    if occurred_from is not None:
        conditions.append(c.occurred_at >= occurred_from)
    if occurred_to is not None:
        conditions.append(c.occurred_at < occurred_to)
    return conditions


def audit_page(
    *,
    principal: str | None,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
    before_id: int | None,
    limit: int,
) -> AnySelect:
    """Audit entries, newest first, strictly before ``before_id`` (the keyset)."""
    table = AuditEntry.__table__
    statement = select(table).where(*_audit_conditions(principal, occurred_from, occurred_to))
    if before_id is not None:
        statement = statement.where(table.c.id < before_id)
    return statement.order_by(table.c.id.desc()).limit(limit)


def audit_count(
    *, principal: str | None, occurred_from: datetime | None, occurred_to: datetime | None
) -> Select[int]:
    conditions = _audit_conditions(principal, occurred_from, occurred_to)
    return select(func.count()).select_from(AuditEntry.__table__).where(*conditions)


def _dead_letter_conditions(
    source: SourceSystem | None, include_resolved: bool
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if source is not None:
        conditions.append(DeadLetter.source == source)
    if not include_resolved:
        conditions.append(DeadLetter.resolved_at.is_(None))
    return conditions


def dead_letter_page(
    *, source: SourceSystem | None, include_resolved: bool, before_id: int | None, limit: int
) -> Select[DeadLetter]:
    """Dead letters, newest first, strictly before ``before_id`` (the keyset); payloads stay
    sealed and unloaded."""
    statement = (
        select(DeadLetter)
        .options(defer(DeadLetter.raw))
        .where(*_dead_letter_conditions(source, include_resolved))
    )
    if before_id is not None:
        statement = statement.where(DeadLetter.id < before_id)
    return statement.order_by(DeadLetter.id.desc()).limit(limit)


def dead_letter_count(*, source: SourceSystem | None, include_resolved: bool) -> Select[int]:
    conditions = _dead_letter_conditions(source, include_resolved)
    return select(func.count()).select_from(DeadLetter).where(*conditions)
