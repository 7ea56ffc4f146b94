"""Matters from synced records (自动立项与自动反馈), as rules with no storage.

Which records open a matter is configuration (:class:`IntakeRules`: kinds, categories,
statuses); by default only a record still being handled opens one (a case synced already
closed is history). A record
linked SAME_MATTER / ESCALATED_TO / REFERRED_FROM to a record of an open matter joins that
matter instead. A dispatched matter takes its feedback from the source record of the kind its
track works in (:data:`FEEDBACK_KIND`): RESOLVED or FAILED there is the department's result
(结果反馈), accepted or in progress there is its 签收 and progress.

A matter opened from a synced record runs on the source's own dates (:class:`SourceDates`):
its 登记 is the record's receipt (信访日期, 报警时间, 立案日期 …), and a record the source has
already accepted (受理, 办理中) is 受理 at the source's acceptance date, with the
``SOURCE_ACCEPTED`` fact starting the clocks the rules tie to it. A date the record lacks is
govhub's sync time, as a record's first sight always was.

Until the centre dispatches the matter (:data:`UNDISPATCHED`), its ORIGIN record's source is
the one handling it: when that record concludes there (:data:`SOURCE_CONCLUSIONS`), the matter
takes the ``SOURCE_CONCLUDED`` fact on the source's date (:class:`SourceConclusion`), which
stops the source's clocks; the centre still verifies and closes the matter itself.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import start_of_day
from domain.enums import CaseStatus, DisputeCategory, RecordKind
from domain.linking.matters import LinkKind
from domain.workflow.vocabulary import FEEDBACK_RESULTS, DispatchTrack, MatterStep

JOINING_LINKS = frozenset({LinkKind.SAME_MATTER, LinkKind.ESCALATED_TO, LinkKind.REFERRED_FROM})
"""Links that make a record part of the same matter (同一事项、升级、来源)."""

STILL_OPEN = frozenset({
    CaseStatus.REPORTED, CaseStatus.ACCEPTED, CaseStatus.ASSESSED, CaseStatus.DISPATCHED,
    CaseStatus.IN_PROGRESS,
})  # fmt: skip
"""Source statuses of a record still being handled: only these open a matter."""

PROGRESS = frozenset({CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS})
"""Source statuses that say the source system has accepted the record (已受理, 办理中)."""

ACCEPTANCE_FIELD: dict[RecordKind, str] = {
    RecordKind.PETITION: "accepted_on",  # 信访日期: the petition system's 办理期限 counts from it
    RecordKind.DISPUTE: "accepted_on",  # acceptDate: the 调委会's 受理
    RecordKind.COURT_FILING: "filed_on",  # 立案日期
    RecordKind.POLICE_ALERT: "alarm_time",  # 报警时间: 110 接警 is its 受理
}
"""Each kind's own field for the day (or instant) its source accepted it; a grid event has
none (its acceptance falls back to the sync time)."""

SOURCE_DEADLINE_FIELD: dict[RecordKind, str] = {RecordKind.PETITION: "deadline"}
"""A source's own deadline (办理期限), shown on the 受理 timeline row, never used to time a
clock: govhub counts every clock by its rules and calendar."""

SOURCE_CONCLUSIONS = FEEDBACK_RESULTS | {CaseStatus.CLOSED}
"""Source statuses that say the source system has concluded the record (办结): its results
(已答复, 调解成功/失败) and its own closure (已办结, 终止, 判决) — the records figures'
"concluded" (调解成功率)."""

UNDISPATCHED = frozenset({
    MatterStep.REGISTERED, MatterStep.ACCEPTED, MatterStep.ASSESSED, MatterStep.RETURNED,
})  # fmt: skip
"""Steps of a matter with no department working on it (not yet dispatched, or returned): it
takes no feedback, so its ORIGIN record's conclusion is a fact (``SOURCE_CONCLUDED``)."""

CONCLUSION_FIELD: dict[RecordKind, tuple[str, CaseStatus]] = {
    RecordKind.DISPUTE: ("agreement_signed_on", CaseStatus.RESOLVED),  # 调解协议签订: 调结
}
"""Each kind's own field for the day its source concluded it, and the status it dates; the
others (a petition's export carries no 办结日期) are concluded at their ``source_updated_at``,
the source's own time of its last change."""

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


EARLIEST_SOURCE_DATE = start_of_day(date(2000, 1, 1))
"""The earliest date a source may give a record: before it is a placeholder or a typo (a
receipt of 1900-01-01 is what an empty date column exports as), never a real receipt or 受理
— no source system govhub takes in holds records that old — so such a date is ignored and the
sync time stands in for it, flagged on the row (``source_date_ignored``)."""


@dataclass(frozen=True, slots=True)
class SourceDates:
    """The dates a synced record's own system gives, for the matter it opens (来源日期)."""

    received_at: datetime | None
    """When the source received it (the record's ``reported_at``); None: unknown."""
    accepted: bool = False
    """Whether the source reports it accepted (受理) or in progress (办理中)."""
    accepted_at: datetime | None = None
    """When the source accepted it; None: unknown (or not accepted)."""
    deadline: date | None = None
    """The source's own deadline (办理期限), for the record only."""
    source: str = ""
    """The source system and the record's key, for the timeline rows (e.g. ``PETITION X1``)."""
    record_id: int | None = None
    """The synced record the dates are from (the 受理 row's evidence)."""
    ignored: frozenset[str] = frozenset()
    """Dates the source gave but govhub ignored, before :data:`EARLIEST_SOURCE_DATE`
    (``received``, ``accepted``): the sync time stands in for them."""

    def opened_at(self, now: datetime) -> datetime:
        """The 登记 instant: the source's receipt, never after ``now`` (a clock skew or a
        date in the future is taken as now); ``now`` when unknown."""
        return min(self.received_at, now) if self.received_at is not None else now

    def admitted_at(self, now: datetime) -> datetime:
        """The 受理 instant: the source's acceptance, not before the receipt and not after
        ``now``; ``now`` when unknown."""
        if self.accepted_at is None:
            return now
        return min(max(self.accepted_at, self.opened_at(now)), now)


def source_dates_of(
    status: CaseStatus,
    received_at: datetime | None,
    accepted: date | datetime | None,
    *,
    deadline: date | None = None,
    source: str = "",
    record_id: int | None = None,
) -> SourceDates:
    """A record's :class:`SourceDates`: a date is the start of that Beijing day; one before
    :data:`EARLIEST_SOURCE_DATE` is ignored (noted in ``ignored``)."""
    accepted_at = _instant(accepted) if status in PROGRESS else None
    ignored = frozenset(
        name for name, value in (("received", received_at), ("accepted", accepted_at))
        if value is not None and value < EARLIEST_SOURCE_DATE
    )  # fmt: skip
    return SourceDates(
        received_at=None if "received" in ignored else received_at,
        accepted=status in PROGRESS,
        accepted_at=None if "accepted" in ignored else accepted_at,
        deadline=deadline, source=source, record_id=record_id, ignored=ignored,
    )


@dataclass(frozen=True, slots=True)
class SourceConclusion:
    """A synced record's conclusion by its own system (来源系统已办结), for the matter it
    opened."""

    record_id: int
    status: CaseStatus
    """The record's unified status: one of :data:`SOURCE_CONCLUSIONS`."""
    concluded_at: datetime
    """When the source concluded it (its own date, see :data:`CONCLUSION_FIELD`)."""
    source: str = ""
    """The source system, the record's key and the source's own status word, for the row."""

    def at(self, not_before: datetime | None, now: datetime) -> datetime:
        """The fact's instant: the source's, never after ``now`` nor before ``not_before``
        (the last event of a clock it stops: a clock's events are in time order)."""
        at = min(self.concluded_at, now)
        return max(at, not_before) if not_before is not None else at


def source_conclusion_of(
    record_id: int,
    status: CaseStatus,
    updated_at: datetime,
    concluded: date | datetime | None,
    *,
    dated_status: CaseStatus | None = None,
    source: str = "",
) -> SourceConclusion:
    """A concluded record's :class:`SourceConclusion`: its kind's date (the start of that
    Beijing day) when it has one for this status, else its ``source_updated_at``."""
    own = _instant(concluded) if status is dated_status else None
    return SourceConclusion(record_id, status, own or updated_at, source)


def _instant(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return start_of_day(value)


def feedback_from(track: DispatchTrack | None, kind: RecordKind) -> bool:
    """Whether a record of ``kind`` reports for a matter dispatched on ``track``."""
    return track is not None and FEEDBACK_KIND.get(track) is kind
