"""A matter's state as the machine sees it, and what one transition produces.

Storage keeps a :class:`MatterState` per matter (with its ``version`` for optimistic
concurrency), appends the :class:`TimelineEvent` s, and applies the
:class:`~domain.deadlines.ClockOp` s to the matter's clocks — nothing else to decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TypeVar

from domain.deadlines import ClockOp
from domain.enums import CaseStatus, DisputeCategory, RiskLevel
from domain.roles import Role
from domain.workflow.vocabulary import (
    ActorKind,
    ComplexityTier,
    DispatchTrack,
    MatterAction,
    MatterOrigin,
    MatterOutcome,
    MatterStep,
    Satisfaction,
    status_of,
)

V = TypeVar("V")


def frozen_map(mapping: Mapping[str, V] | None = None) -> Mapping[str, V]:
    """A read-only copy, so a state or an event cannot be changed after the fact."""
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class MatterState:
    """What the state machine needs to know about one matter (事项)."""

    step: MatterStep
    origin: MatterOrigin
    region_code: str | None
    version: int = 1
    category: DisputeCategory = DisputeCategory.OTHER
    risk: RiskLevel = RiskLevel.NONE
    tier: ComplexityTier | None = None
    lead_org: str | None = None
    """Lead department from 研判 (牵头单位)."""
    assigned_org: str | None = None
    """The organisation the matter is dispatched to (承办单位); partners act only on these."""
    track: DispatchTrack | None = None
    result: CaseStatus | None = None
    """The last feedback result (RESOLVED / FAILED)."""
    outcome: MatterOutcome | None = None
    satisfaction: Satisfaction | None = None
    suspended: bool = False
    clocks: Mapping[str, int] = field(default_factory=frozen_map)
    """Running clocks by rule id, each with the extension granted so far (in its unit)."""

    @property
    def status(self) -> CaseStatus:
        """The shared status (案件状态) dashboards count by."""
        return status_of(self.step, self.result)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One entry of a matter's append-only timeline (办理记录)."""

    action: MatterAction
    at: datetime
    actor_kind: ActorKind
    actor_sub: str
    actor_role: Role | None
    actor_org: str
    from_step: MatterStep | None
    to_step: MatterStep
    note: str = ""
    details: Mapping[str, str] = field(default_factory=frozen_map)
    """Codes and ids only (org, track, result, rule id…), never personal information."""


@dataclass(frozen=True, slots=True)
class Transition:
    """The machine's answer: the new state, the timeline entries and the clock changes."""

    state: MatterState
    events: tuple[TimelineEvent, ...]
    clock_ops: tuple[ClockOp, ...]
