"""The audit chain on both databases: intact verifies; every tampering case is named — edit,
delete (middle, tail, all), reorder, re-chain without the key, a forged row appended."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import GENESIS, KEYED, AuditEvent, append_events, chain_fields, verify_chain
from db.audit_checkpoints import Checkpoint, CheckpointFile, chain_head
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


# --- keyed chain and checkpoints: every tampering case is reported ---------------------------


async def _checkpointed(session: AsyncSession, rows: int = 6) -> Checkpoint:
    await _chain(session, rows)
    head = await chain_head(session)
    assert head is not None
    return head.signed()


def _plain_hash(entry: AuditEntry, scheme: str | None) -> str:
    """What someone without the key can compute: the plain SHA-256 chain hash."""
    entry.scheme = scheme
    fields = chain_fields(entry)
    document = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


async def _rechain_from(session: AsyncSession, first: int, scheme: str | None) -> None:
    """Recompute every hash from row ``first`` on, as an attacker without the key would."""
    rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    prev = rows[first - 2].hash if first > 1 else GENESIS
    for entry in rows[first - 1 :]:
        entry.prev_hash = prev
        entry.hash = prev = _plain_hash(entry, scheme)
    await session.flush()
    session.expunge_all()


async def test_a_checkpointed_untouched_chain_verifies(session: AsyncSession) -> None:
    checkpoint = await _checkpointed(session)
    assert await verify_chain(session, checkpoint=checkpoint) == (6, None)
    # rows appended after the checkpoint verify too
    await append_events(session, [_event(7)])
    assert await verify_chain(session, checkpoint=checkpoint) == (7, None)


@pytest.mark.parametrize(
    ("deleted", "checked", "missing"),
    [({6}, 5, 1), ({3, 4, 5, 6}, 2, 4), ({1, 2, 3, 4, 5, 6}, 0, 6)],
    ids=["last-row", "last-four", "every-row"],
)
async def test_a_truncated_tail_is_reported_with_how_many_rows_are_missing(
    session: AsyncSession, deleted: set[int], checked: int, missing: int
) -> None:
    checkpoint = await _checkpointed(session)
    await session.execute(delete(AuditEntry).where(AuditEntry.id.in_(deleted)))
    result, problem = await verify_chain(session, checkpoint=checkpoint)
    assert problem is not None and (problem.problem, problem.missing) == ("TRUNCATED", missing)
    assert result == checked and f"newest {missing} rows" in problem.describe()


async def test_a_middle_row_deleted_is_named(session: AsyncSession) -> None:
    checkpoint = await _checkpointed(session)
    await session.execute(delete(AuditEntry).where(AuditEntry.id == 3))
    _, problem = await verify_chain(session, checkpoint=checkpoint)
    assert problem is not None and (problem.row_id, problem.problem) == (4, "DELETED_BEFORE")


@pytest.mark.parametrize("scheme", [KEYED, None], ids=["claiming-keyed", "plain"])
async def test_an_edit_rechained_without_the_key_is_named(
    session: AsyncSession, scheme: str | None
) -> None:
    checkpoint = await _checkpointed(session)
    await session.execute(update(AuditEntry).where(AuditEntry.id == 4).values(principal="x"))
    await _rechain_from(session, 4, scheme)
    _, problem = await verify_chain(session, checkpoint=checkpoint)
    assert problem is not None and problem.row_id == 4
    assert problem.problem == ("EDITED" if scheme == KEYED else "UNKEYED")


async def test_a_whole_chain_rewritten_without_the_key_differs_from_the_checkpoint(
    session: AsyncSession,
) -> None:
    checkpoint = await _checkpointed(session)
    await _rechain_from(session, 1, None)  # a consistent plain chain, as before keying
    _, problem = await verify_chain(session, checkpoint=checkpoint)
    assert problem is not None and (problem.row_id, problem.problem) == (6, "REWRITTEN")


@pytest.mark.parametrize("scheme", [KEYED, None], ids=["claiming-keyed", "plain"])
async def test_an_appended_forged_row_is_named(session: AsyncSession, scheme: str | None) -> None:
    checkpoint = await _checkpointed(session)
    last = (await session.scalars(select(AuditEntry).where(AuditEntry.id == 6))).one()
    forged = AuditEntry(
        id=7, occurred_at=last.occurred_at, principal="ghost", role="admin", org=None,
        operation="Forged", document_hash=None, variables=None, record_ids=None,
        purpose=None, outcome="OK", duration_ms=1.0, prev_hash=last.hash,
    )  # fmt: skip
    forged.hash = _plain_hash(forged, scheme)
    session.add(forged)
    await session.flush()
    session.expunge_all()
    _, problem = await verify_chain(session, checkpoint=checkpoint)
    assert problem is not None and problem.row_id == 7
    assert problem.problem == ("EDITED" if scheme == KEYED else "UNKEYED")


async def test_rows_chained_before_keying_still_verify(session: AsyncSession) -> None:
    # rows written before migration 0003 (plain SHA-256, no scheme), then keyed rows
    await _chain(session, 3)
    await _rechain_from(session, 1, None)
    await append_events(session, [_event(4), _event(5)])
    assert await verify_chain(session) == (5, None)


def test_a_checkpoint_file_keeps_the_newest_validly_signed_line(tmp_path: Path) -> None:
    sink = CheckpointFile(tmp_path / "checkpoints.jsonl")
    assert sink.latest() is None
    sink.append(Checkpoint(5, "a" * 64, "2026-11-30T00:00:00+00:00").signed())
    sink.append(Checkpoint(9, "b" * 64, "2026-11-30T00:01:00+00:00").signed())
    # a line forged by someone without the key (a lower sequence, to hide a truncation)
    with sink.path.open("a", encoding="utf-8") as file:
        file.write('{"sequence": 3, "head": "c", "at": "x", "signature": "00"}\nnot json\n')
    latest = sink.latest()
    assert latest is not None and (latest.sequence, latest.head) == (9, "b" * 64)
