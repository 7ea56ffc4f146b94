"""Signed checkpoints of the audit chain (审计链锚点), kept outside the database.

A checkpoint says "the chain had ``sequence`` rows and its newest hash was ``head`` at
``at``", signed with the audit key. It is appended to a file (``GOVHUB_AUDIT_CHECKPOINT_FILE``,
one JSON object a line) and logged (``audit_checkpoint``, for a syslog sink or an external
notary): somewhere someone with write access to the database alone cannot rewrite. ``govhub
audit verify`` then compares the chain with the newest checkpoint, so rows deleted from the
tail — the last one, the last ten, every one — are reported with how many are missing.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import keyed_digest
from db.models import AuditEntry

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    sequence: int
    head: str
    at: str
    signature: str = ""

    def _message(self) -> str:
        return f"govhub audit checkpoint v1|{self.sequence}|{self.head}|{self.at}"

    def signed(self) -> Checkpoint:
        return Checkpoint(self.sequence, self.head, self.at, keyed_digest(self._message()))

    @property
    def valid(self) -> bool:
        return hmac.compare_digest(self.signature, keyed_digest(self._message()))


class CheckpointFile:
    """Append-only JSON lines; the newest validly signed line is the checkpoint in force."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(asdict(checkpoint), ensure_ascii=False) + "\n")
        log.info("audit_checkpoint", **asdict(checkpoint))

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint whose signature holds; forged or garbled lines are skipped
        (and logged), so a forged line cannot lower what the chain is checked against."""
        if not self.path.exists():
            return None
        newest: Checkpoint | None = None
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                checkpoint = Checkpoint(**json.loads(line))
            except (ValueError, TypeError):
                log.warning("audit_checkpoint_unreadable")
                continue
            if not checkpoint.valid:
                log.warning("audit_checkpoint_forged", sequence=checkpoint.sequence)
                continue
            if newest is None or checkpoint.sequence >= newest.sequence:
                newest = checkpoint
        return newest


async def chain_head(session: AsyncSession) -> Checkpoint | None:
    """An (unsigned) checkpoint of the chain as it is now; ``None`` while it is empty."""
    last = (
        await session.execute(
            select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
        )
    ).first()
    if last is None:
        return None
    return Checkpoint(last[0], last[1], datetime.now(UTC).isoformat())


async def write_checkpoint(session: AsyncSession, sink: CheckpointFile) -> Checkpoint | None:
    head = await chain_head(session)
    if head is None:
        return None
    checkpoint = head.signed()
    sink.append(checkpoint)
    return checkpoint
