"""Early-warning events (风险预警): a target's shown grade rose to the alert level.

An alert names the target (record, person or matter), its new and previous grade, its region and the
kinds of the records behind it — never personal data: a subscriber reads the assessment
through the API, within its own kinds and jurisdiction. A person's alert also carries the kind
and region of each record behind the grade (``reach``): it is heard only by a subscriber who
can read one of them, as only such a reader can read the person. One alert per rise: a recomputation
that keeps the grade, or a fall, raises none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import RecordKind, RiskLevel
from domain.risk.facts import TargetKind, level_rank

RISK_CHANNEL = "risk"


def is_rise_to(alert_level: RiskLevel, before: RiskLevel, after: RiskLevel) -> bool:
    """Whether going from ``before`` to ``after`` crosses up into ``alert_level`` or above."""
    threshold = level_rank(alert_level)
    return level_rank(after) >= threshold > level_rank(before)


@dataclass(frozen=True, slots=True)
class RiskAlert:
    target: TargetKind
    target_id: int
    level: RiskLevel
    previous: RiskLevel
    region_code: str | None
    kinds: frozenset[RecordKind]
    raised_at: datetime
    reach: frozenset[tuple[RecordKind, str | None]] = frozenset()
    """A person's: the kind and region of each of their records behind the grade."""


def alert_message(alerts: list[RiskAlert]) -> dict[str, Any]:
    """The JSON message announcing ``alerts`` (one grading step)."""
    return {
        "alerts": [
            {
                "target": alert.target.value, "id": alert.target_id, "level": alert.level.value,
                "previous": alert.previous.value, "regionCode": alert.region_code,
                "kinds": sorted(kind.value for kind in alert.kinds),
                "at": alert.raised_at.isoformat(),
                "reach": sorted([kind.value, region] for kind, region in alert.reach),
            }
            for alert in alerts
        ]
    }  # fmt: skip


def read_alert_message(message: dict[str, Any]) -> list[RiskAlert]:
    """The alerts in a message; a malformed one yields nothing."""
    try:
        return [
            RiskAlert(
                target=TargetKind(item["target"]), target_id=int(item["id"]),
                level=RiskLevel(item["level"]), previous=RiskLevel(item["previous"]),
                region_code=item["regionCode"],
                kinds=frozenset(RecordKind(kind) for kind in item["kinds"]),
                raised_at=datetime.fromisoformat(item["at"]),
                # from a process before reach was sent: none, so a person's alert is heard by
                # no one rather than by a reader who may not see the person
                reach=frozenset(
                    (RecordKind(kind), region) for kind, region in item.get("reach", ())
                ),
            )
            for item in message["alerts"]
        ]  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return []
