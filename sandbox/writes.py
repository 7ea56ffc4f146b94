"""Write-side ground truth and write faults (回写真值与故障).

Every system that accepts writes keeps one :class:`WriteLedger`: each write it *applied*,
keyed by the reference the writer stamped into it (the court's ``Idempotency-Key``, the
mediation/grid ``externalRef``, the 110 feedback's ``BZ`` reference, the 信访件编号 of a
petition result). A second application under one reference is a duplicate — what a
write-back must never cause; a petition re-upload *replaces* its row and is counted as a
replacement, not a duplicate. ``/_sandbox/stats`` serves :meth:`WriteLedger.summary` under
``writes`` and ``GET /_sandbox/writes`` the full list.

Write faults (:class:`sandbox.faults.FaultSettings`), decided per write request:

``write_error_rate``
    a 5xx answered *before* applying (the write did not happen).
``write_lost_rate``
    the write is applied, then the connection is reset before the answer (unknown outcome).
``write_timeout_rate``
    the write is applied, then the answer hangs ``hang_seconds`` (the client times out).

A handler calls :func:`fail_before` first and :func:`after_apply` on its answer; the fault
middleware carries out the lost/hang decision it leaves in the request scope.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.faults import WRITE_FAULT_SCOPE_KEY, FaultState


@dataclass(slots=True)
class AppliedWrite:
    """One write as the system applied it."""

    reference: str
    operation: str
    target_id: str
    at: datetime
    replaced: bool = False


@dataclass(slots=True)
class WriteLedger:
    """What one system applied, in order, with duplicates and rejections counted."""

    applied: list[AppliedWrite] = field(default_factory=list)
    rejected: int = 0
    by_reference: Counter[str] = field(default_factory=Counter)

    def record(self, write: AppliedWrite) -> None:
        self.applied.append(write)
        if not write.replaced:
            self.by_reference[write.reference] += 1

    def reject(self) -> None:
        self.rejected += 1

    def summary(self) -> dict[str, Any]:
        duplicates = sum(n - 1 for n in self.by_reference.values() if n > 1)
        return {
            "applied": len(self.applied),
            "distinct": len(self.by_reference),
            "duplicates": duplicates,
            "replaced": sum(1 for w in self.applied if w.replaced),
            "rejected": self.rejected,
        }

    def listing(self) -> list[dict[str, Any]]:
        return [{"reference": w.reference, "operation": w.operation, "targetId": w.target_id,
                 "at": w.at.isoformat(), "replaced": w.replaced} for w in self.applied]


def fail_before(faults: FaultState, error: Response) -> Response | None:
    """``error`` (a 5xx in the system's own style) when a fault fails this write unapplied."""
    if faults.chance(faults.settings.write_error_rate):
        faults.count("write_error_before_apply")
        return error
    return None


def after_apply(faults: FaultState, request: Request, answer: Response) -> Response:
    """Leave a lost-answer or hang decision for the fault middleware; return the answer."""
    s = faults.settings
    if faults.chance(s.write_lost_rate):
        faults.count("write_lost_after_apply")
        request.scope[WRITE_FAULT_SCOPE_KEY] = "lost"
    elif faults.chance(s.write_timeout_rate):
        faults.count("write_timeout_after_apply")
        request.scope[WRITE_FAULT_SCOPE_KEY] = "hang"
    return answer
