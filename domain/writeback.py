"""Write-back (回写 / 推送) vocabulary: what the hub writes to which system, and its states.

A write-back is one row of the transactional outbox. Its life::

    PENDING ──claim──> SENDING ──answer──> CONFIRMED (the target's id stored) | SENT
                          │                 FAILED (the target rejected it: never retried)
                          └─ no answer ──> UNKNOWN (reconciling: read back before resending)
    PENDING / UNKNOWN ── attempts exhausted ──> DEAD (a human decides: replay or cancel)

Attempts are sends (``max_attempts`` of them); a read-back spends none, but ``max_attempts``
read-backs in a row that the target leaves unanswered end the row DEAD too.

A claim is a lease: a worker that dies while SENDING leaves the row to be reclaimed when the
lease ends, and the next worker treats it as UNKNOWN (the target may have applied it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from domain.enums import SourceSystem


class WriteState(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    UNKNOWN = "UNKNOWN"
    SENT = "SENT"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    DEAD = "DEAD"
    CANCELLED = "CANCELLED"


OPEN_STATES = frozenset({WriteState.PENDING, WriteState.SENDING, WriteState.UNKNOWN})
"""States that still hold back a later write of the same matter to the same target."""


class WriteOperation(StrEnum):
    """One kind of write to one target system."""

    COURT_FILING = "court.filing"  # 网上立案 / 诉前调解 filing
    MEDIATION_REFERRAL = "mediation.referral"  # 委派调解
    GRID_ASSIGN = "grid.assign"  # 交办
    GRID_FEEDBACK = "grid.feedback"  # 网格事件 处置反馈
    POLICE_FEEDBACK = "police.feedback"  # 非警务警情 处理结果反馈
    PETITION_RESULT = "petition.result"  # 信访件 办理结果

    @property
    def target(self) -> SourceSystem:
        return OPERATION_TARGETS[self]


OPERATION_TARGETS: dict[WriteOperation, SourceSystem] = {
    WriteOperation.COURT_FILING: SourceSystem.COURT,
    WriteOperation.MEDIATION_REFERRAL: SourceSystem.MEDIATION,
    WriteOperation.GRID_ASSIGN: SourceSystem.GRID,
    WriteOperation.GRID_FEEDBACK: SourceSystem.GRID,
    WriteOperation.POLICE_FEEDBACK: SourceSystem.POLICE_110,
    WriteOperation.PETITION_RESULT: SourceSystem.PETITION,
}


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How hard the relay tries: attempts, backoff, lease and read-back before a resend."""

    max_attempts: int = 8
    """Sends of one write before it is DEAD; also how many read-backs in a row may go
    unanswered (a read-back spends no send's attempt)."""
    initial_backoff: float = 2.0
    max_backoff: float = 300.0
    lease_seconds: float = 60.0
    reconcile_reads: int = 2
    """Reads that must all miss before a write with an unknown outcome is sent again."""
    reconcile_delay: float = 1.0
    """Seconds between those reads: one immediate read can miss a commit that lands later."""
    batch_size: int = 20
    concurrency: int = 4
    """Writes of one target in flight at once (a batch never holds two of one matter)."""

    def backoff(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds before attempt ``attempts + 1``: exponential, capped, with full jitter."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** max(0, attempts - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)  # jitter, not crypto


DISPATCH_OPERATIONS: dict[str, WriteOperation] = {
    "PEOPLES_MEDIATION": WriteOperation.MEDIATION_REFERRAL,  # 委派调解 to the 调委会
    "PRE_FILING_MEDIATION": WriteOperation.COURT_FILING,  # 诉前调解 filed with the court
    "COURT_FILING": WriteOperation.COURT_FILING,  # 网上立案
    "GRID": WriteOperation.GRID_ASSIGN,  # 交办 to the 属地网格
}
"""Which write a dispatch (分流) into a track causes, keyed by the track's name; tracks not
listed (POLICE, PETITION, JUDICIAL_OFFICE, DEPARTMENT) are handled inside govhub."""

RESULT_OPERATIONS: dict[SourceSystem, WriteOperation] = {
    SourceSystem.GRID: WriteOperation.GRID_FEEDBACK,  # 网格事件 处置反馈
    SourceSystem.POLICE_110: WriteOperation.POLICE_FEEDBACK,  # 非警务警情 handling result
    SourceSystem.PETITION: WriteOperation.PETITION_RESULT,  # 信访件 办理结果
}
"""Which write a matter's result (反馈) causes for the system its source record came from."""


def dispatch_operation(track: str) -> WriteOperation | None:
    """The write a dispatch into ``track`` causes, or None when nothing leaves govhub."""
    return DISPATCH_OPERATIONS.get(track)


def writeback_reference(matter_number: str, version: int, operation: WriteOperation) -> str:
    """A write's stable reference: one per matter step and operation, reused on every retry.

    It is the court's Idempotency-Key and the number stamped into the other systems, so it
    must not change between attempts (never a timestamp or a random value).
    """
    return f"{matter_number}-{version}-{operation.target.value[:4]}"[:64]
