"""Matters from synced records (自动立项与自动反馈), as rules with no storage.

Which records open a matter is configuration (:class:`IntakeRules`: kinds, categories,
statuses); by default only a record still being handled opens one (a case synced already
closed is history). A record
linked SAME_MATTER / ESCALATED_TO / REFERRED_FROM to a record of an open matter joins that
matter instead. A dispatched matter takes its feedback from the source record of the kind its
track works in (:data:`FEEDBACK_KIND`): RESOLVED or FAILED there is the department's result
(结果反馈), accepted or in progress there is its 签收 and progress.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from domain.enums import CaseStatus, DisputeCategory, RecordKind
from domain.linking.matters import LinkKind
from domain.workflow.vocabulary import DispatchTrack

JOINING_LINKS = frozenset({LinkKind.SAME_MATTER, LinkKind.ESCALATED_TO, LinkKind.REFERRED_FROM})
"""Links that make a record part of the same matter (同一事项、升级、来源)."""

STILL_OPEN = frozenset({
    CaseStatus.REPORTED, CaseStatus.ACCEPTED, CaseStatus.ASSESSED, CaseStatus.DISPATCHED,
    CaseStatus.IN_PROGRESS,
})  # fmt: skip
"""Source statuses of a record still being handled: only these open a matter."""

PROGRESS = frozenset({CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS})

FEEDBACK_KIND: dict[DispatchTrack, RecordKind] = {
    DispatchTrack.PEOPLES_MEDIATION: RecordKind.DISPUTE,
    DispatchTrack.JUDICIAL_OFFICE: RecordKind.DISPUTE,
    DispatchTrack.PRE_FILING_MEDIATION: RecordKind.COURT_FILING,
    DispatchTrack.COURT_FILING: RecordKind.COURT_FILING,
    DispatchTrack.PETITION: RecordKind.PETITION,
    DispatchTrack.POLICE: RecordKind.POLICE_ALERT,
    DispatchTrack.GRID: RecordKind.GRID_EVENT,
}
"""The record kind whose status is a track's feedback (DEPARTMENT has no source system)."""


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """Which synced records open a matter: their kinds, categories (None: any) and source
    statuses (by default those still being handled; a centre taking over a backlog lists
    more)."""

    kinds: frozenset[RecordKind] = frozenset(RecordKind)
    categories: frozenset[DisputeCategory] | None = None
    statuses: frozenset[CaseStatus] = STILL_OPEN

    @classmethod
    def of(
        cls,
        kinds: Collection[str] | None,
        categories: Collection[str] | None,
        statuses: Collection[str] | None = None,
    ) -> IntakeRules:
        return cls(
            kinds=frozenset(RecordKind(k) for k in kinds) if kinds else frozenset(RecordKind),
            categories=frozenset(DisputeCategory(c) for c in categories) if categories else None,
            statuses=frozenset(CaseStatus(s) for s in statuses) if statuses else STILL_OPEN,
        )

    def opens(self, kind: RecordKind, category: DisputeCategory, status: CaseStatus) -> bool:
        return (
            kind in self.kinds
            and (self.categories is None or category in self.categories)
            and status in self.statuses
        )


def feedback_from(track: DispatchTrack | None, kind: RecordKind) -> bool:
    """Whether a record of ``kind`` reports for a matter dispatched on ``track``."""
    return track is not None and FEEDBACK_KIND.get(track) is kind
