"""The audit chain on both databases: intact verifies; edit, delete, reorder are each named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import AuditEvent, append_events, verify_chain
from db.models import AuditEntry


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        principal=f"user{n}", role="partner_police", org="湖滨分局", operation=f"Op{n}",
        document_hash="ab" * 32, variables={"first": n}, record_ids=[n, n + 1],
        purpose="案件核查" if n % 2 else None, outcome="OK", duration_ms=1.5 * n,
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=n),
    )  # fmt: skip


async def _chain(session: AsyncSession, rows: int = 6) -> None:
    await append_events(session, [_event(n) for n in range(1, 4)])
    await append_events(session, [_event(n) for n in range(4, rows + 1)])
    session.expunge_all()


async def test_an_untouched_chain_verifies(session: AsyncSession) -> None:
    await _chain(session)
    assert await verify_chain(session) == (6, None)


async def test_an_edited_row_is_named(session: AsyncSession) -> None:
    await _chain(session)
    await session.execute(update(AuditEntry).where(AuditEntry.id == 4).values(principal="x"))
    checked, problem = await verify_chain(session)
    assert problem is not None and (problem.row_id, problem.problem) == (4, "EDITED")
    assert checked == 3


async def test_a_deleted_row_is_named(session: AsyncSession) -> None:
    await _chain(session)
    await session.execute(delete(AuditEntry).where(AuditEntry.id == 3))
    _, problem = await verify_chain(session)
    assert problem is not None and (problem.row_id, problem.problem) == (4, "DELETED_BEFORE")


async def test_two_reordered_rows_are_named(session: AsyncSession) -> None:
    await _chain(session)
    rows = {r.id: r for r in (await session.scalars(select(AuditEntry))).all()}
    columns = [c.key for c in AuditEntry.__table__.columns if c.key != "id"]
    two, five = ({c: getattr(rows[i], c) for c in columns} for i in (2, 5))
    session.expunge_all()
    await session.execute(update(AuditEntry).where(AuditEntry.id == 5).values(hash="swap"))
    await session.execute(update(AuditEntry).where(AuditEntry.id == 2).values(**five))
    await session.execute(update(AuditEntry).where(AuditEntry.id == 5).values(**two))
    _, problem = await verify_chain(session)
    assert problem is not None and problem.row_id == 2 and problem.problem in {"EDITED", "MOVED"}
