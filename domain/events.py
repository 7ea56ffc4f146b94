"""Record changes as events (记录变更事件): what a sync announces and subscribers receive.

A message on the ``records`` channel lists the records one committed batch created, updated
or withdrew, by id, kind, source and region code. It never carries personal information:
a subscriber that wants a record reads it through the API, within its own jurisdiction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.enums import RecordChangeKind, RecordKind, SourceSystem

RECORDS_CHANNEL = "records"


@dataclass(frozen=True, slots=True)
class ChangedRecord:
    """One record a batch created, updated or withdrew: ids and codes, no personal data."""

    record_id: int
    kind: RecordKind
    source: SourceSystem
    region_code: str | None
    change: RecordChangeKind


class FollowUpIncomplete(Exception):
    """A listener of committed changes that finished only part of them: ``remaining`` are
    the changes it did not take in (what it did is committed), to hand it again later."""

    def __init__(self, remaining: Sequence[ChangedRecord], cause: str) -> None:
        super().__init__(f"{len(remaining)} changed records not followed up ({cause})")
        self.remaining = list(remaining)
        self.cause = cause


@dataclass(frozen=True, slots=True)
class RecordChangeEvent:
    """A :class:`ChangedRecord` as a subscriber receives it, with when it was announced."""

    record: ChangedRecord
    announced_at: datetime


def change_message(changes: Sequence[ChangedRecord], at: datetime) -> dict[str, Any]:
    """The JSON message announcing ``changes`` (one committed batch)."""
    return {
        "at": at.isoformat(),
        "changes": [
            {
                "id": change.record_id,
                "kind": change.kind.value,
                "source": change.source.value,
                "regionCode": change.region_code,
                "change": change.change.value,
            }
            for change in changes
        ],
    }


def read_change_message(message: dict[str, Any]) -> list[RecordChangeEvent]:
    """The events in a message; a malformed message (another version, a stray publisher)
    yields nothing rather than breaking every subscriber."""
    try:
        at = datetime.fromisoformat(message["at"])
        return [
            RecordChangeEvent(
                ChangedRecord(
                    record_id=int(item["id"]),
                    kind=RecordKind(item["kind"]),
                    source=SourceSystem(item["source"]),
                    region_code=item["regionCode"],
                    change=RecordChangeKind(item["change"]),
                ),
                at,
            )
            for item in message["changes"]
        ]
    except (KeyError, TypeError, ValueError):
        return []


# -- matters (事项事件) --------------------------------------------------------------------------

MATTERS_CHANNEL = "matters"


class MatterEventKind(StrEnum):
    """What happened to a matter, as subscribers hear it (事项事件类型)."""

    OPENED = "OPENED"  # 登记
    STEP_CHANGED = "STEP_CHANGED"  # 环节变化 (or an action that kept the step)
    RECORD_JOINED = "RECORD_JOINED"  # 关联记录并入
    WARNING = "WARNING"  # 预警
    OVERDUE = "OVERDUE"  # 逾期
    SUPERVISED = "SUPERVISED"  # 督办


@dataclass(frozen=True, slots=True)
class MatterAnnouncement:
    """One matter event: ids and codes only (the matter is read through the API)."""

    matter_id: int
    kind: MatterEventKind
    step: str
    region_code: str | None
    assigned_org: str | None
    detail: str
    """An action, a rung key with its rule id, a supervision level: codes, never text."""
    at: datetime
    previous_org: str | None = None
    """The organisation the step took the matter from (改派, 重新办理): it hears this event
    too, its last about the matter."""


def matter_message(events: Sequence[MatterAnnouncement]) -> dict[str, Any]:
    return {
        "events": [
            {
                "matterId": e.matter_id,
                "kind": e.kind.value,
                "step": e.step,
                "regionCode": e.region_code,
                "assignedOrg": e.assigned_org,
                "detail": e.detail,
                "at": e.at.isoformat(),
                "previousOrg": e.previous_org,
            }
            for e in events
        ]
    }


def read_matter_message(message: dict[str, Any]) -> list[MatterAnnouncement]:
    """The announcements in a message; a malformed one yields nothing."""
    try:
        return [
            MatterAnnouncement(
                matter_id=int(item["matterId"]),
                kind=MatterEventKind(item["kind"]),
                step=str(item["step"]),
                region_code=item["regionCode"],
                assigned_org=item["assignedOrg"],
                detail=str(item["detail"]),
                at=datetime.fromisoformat(item["at"]),
                previous_org=item.get("previousOrg"),
            )
            for item in message["events"]
        ]
    except (KeyError, TypeError, ValueError):
        return []
