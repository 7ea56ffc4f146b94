"""The hash-chained audit log (审计日志): append in batches, verify the chain.

Each row's ``hash`` is SHA-256 over its own id and content plus the previous row's hash, so
editing a row, deleting one or moving rows breaks the chain at a row that ``verify_chain``
names. Appends are serialised (a PostgreSQL transaction-level advisory lock across processes)
and grouped: many requests' rows share one transaction (group commit), so auditing every
read does not become the bottleneck.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 0x60B4A0D1  # advisory-lock key reserved for audit appends


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited operation, before it is chained."""

    principal: str | None
    role: str | None
    org: str | None
    operation: str | None
    document_hash: str | None
    variables: dict[str, Any] | None
    record_ids: list[int] | None
    purpose: str | None
    outcome: str
    duration_ms: float | None
    occurred_at: datetime
    person_ids: list[int] | None = None


def _fields(entry: AuditEntry) -> dict[str, Any]:
    fields = {
        "id": entry.id,
        "occurred_at": entry.occurred_at.astimezone(UTC).isoformat(),
        "principal": entry.principal,
        "role": entry.role,
        "org": entry.org,
        "operation": entry.operation,
        "document_hash": entry.document_hash,
        "variables": entry.variables,
        "record_ids": entry.record_ids,
        "purpose": entry.purpose,
        "outcome": entry.outcome,
        "duration_ms": None if entry.duration_ms is None else round(entry.duration_ms, 3),
        "prev_hash": entry.prev_hash,
    }
    # Only when set: rows written before the column existed hash exactly as they did.
    if entry.person_ids is not None:
        fields["person_ids"] = entry.person_ids
    return fields


def chain_hash(entry: AuditEntry) -> str:
    document = json.dumps(_fields(entry), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


async def append_events(session: AsyncSession, events: list[AuditEvent]) -> list[AuditEntry]:
    """Chain and insert ``events`` in order; the caller commits."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = (
        await session.execute(
            select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        )
    ).first()
    next_id, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entries = []
    for event in events:
        entry = AuditEntry(
            id=next_id,
            occurred_at=event.occurred_at,
            principal=event.principal,
            role=event.role,
            org=event.org,
            operation=event.operation,
            document_hash=event.document_hash,
            variables=event.variables,
            record_ids=event.record_ids,
            person_ids=event.person_ids,
            purpose=event.purpose,
            outcome=event.outcome,
            duration_ms=event.duration_ms,
            prev_hash=prev,
        )
        entry.hash = chain_hash(entry)
        session.add(entry)
        entries.append(entry)
        prev, next_id = entry.hash, next_id + 1
    await session.flush()
    return entries


@dataclass(frozen=True, slots=True)
class ChainProblem:
    row_id: int
    problem: str  # EDITED | DELETED_BEFORE | MOVED

    def describe(self) -> str:
        return {
            "EDITED": f"row {self.row_id} was edited (its hash no longer matches its content)",
            "DELETED_BEFORE": f"a row before row {self.row_id} was deleted",
            "MOVED": f"row {self.row_id} was moved (it does not follow the row before it)",
        }[self.problem]


async def verify_chain(session: AsyncSession, batch: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in id order; return (rows checked, the first problem or None)."""
    expected_prev, expected_id, checked = GENESIS, 1, 0
    after = 0
    while True:
        rows = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
            )
        ).all()
        if not rows:
            return checked, None
        for entry in rows:
            if entry.id != expected_id:
                return checked, ChainProblem(entry.id, "DELETED_BEFORE")
            if chain_hash(entry) != entry.hash:
                return checked, ChainProblem(entry.id, "EDITED")
            if entry.prev_hash != expected_prev:
                return checked, ChainProblem(entry.id, "MOVED")
            expected_prev, expected_id, checked = entry.hash, entry.id + 1, checked + 1
        after = rows[-1].id
