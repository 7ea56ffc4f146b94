"""The contract between the world generator and the five simulated systems.

``sandbox.world.generate_world(seed, scale)`` builds one :class:`World`; each simulated
system (``sandbox.systems.*``) serves only its own slice, ``World.records[system]``, in its
own protocol. A :class:`SourceRecord` already carries the payload exactly as that system
would deliver it — its own field names, codes and time formats — so a server only has to
serialise it (JSON, SOAP/GBK XML, GBK CSV) and apply the faults it is told to inject.

Time: every datetime here is timezone-aware; payloads carry each system's own local
format (Beijing time, UTC+8) as documented in ``sandbox/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.enums import RegionLevel, RiskLevel, SourceSystem


@dataclass(slots=True)
class SourceRecord:
    """One record as one legacy system holds it."""

    system: SourceSystem
    key: str
    """The system's own key: JJDBH (110), eventNo (grid), caseNo (mediation),
    信访件编号 (petition), 案号 (court)."""
    updated_at: datetime
    """When the system last changed it; what incremental paging filters on."""
    payload: dict[str, Any]
    """The record in the system's own shape (field names, codes, formats)."""
    version: int = 1
    deleted: bool = False
    """A tombstone: the mediation platform delivers deletions as such."""
    export_day: date | None = None
    """Petition only: the daily CSV export (xf_YYYYMMDD.csv) the row belongs to."""
    first_payload: dict[str, Any] | None = None
    """Petition corrections only (version ≥ 2): the row as xf_YYYYMMDD.csv first published it;
    ``payload`` is the corrected row that the re-issued xf_YYYYMMDD_v2.csv carries."""


@dataclass(frozen=True, slots=True)
class GeneratedRegion:
    """A township (9-digit), village (12-digit) or grid below a seeded county."""

    code: str
    name: str
    level: RegionLevel
    parent_code: str
    population: int


@dataclass(slots=True)
class PartyTruth:
    """Ground truth for one party mention: which true person it is."""

    person_id: str
    role: str


@dataclass(frozen=True, slots=True)
class TruePerson:
    """Ground truth for one person or organisation: who they really are (canonical data)."""

    person_id: str
    """``P…`` a person, ``W…`` a grid worker (网格员, ``W`` + grid code), ``O…`` a company."""
    kind: str
    """``person`` or ``organisation``."""
    name: str
    id_number: str
    """The 18-digit resident ID number; the USCC for an organisation."""
    phones: tuple[str, ...]
    address: str


@dataclass(slots=True)
class RecordTruth:
    """Ground truth for one source record."""

    system: SourceSystem
    key: str
    matter_id: str
    """The storyline (事项) the record belongs to; records of one storyline are one matter."""
    storyline: str
    """The storyline kind, e.g. ``neighbour_quarrel``, ``domestic_repeat``, ``wage_arrears``."""
    parties: list[PartyTruth] = field(default_factory=list)
    """One entry per party in the payload, in payload order."""


@dataclass(frozen=True, slots=True)
class RiskTruth:
    """The risk of one matter as a careful analyst would grade it (风险研判真值)."""

    level: RiskLevel
    visible_at: datetime
    """When the sources first held what shows it (the deciding record's time)."""
    why: str


@dataclass(slots=True)
class World:
    """One generated city: deterministic for ``seed`` and ``scale``."""

    seed: int
    scale: int
    regions: list[GeneratedRegion]
    records: dict[SourceSystem, list[SourceRecord]]
    truth: dict[tuple[SourceSystem, str], RecordTruth]
    now: datetime
    """The world's "present"; records occur before it, mutations after it."""
    people: dict[str, TruePerson] = field(default_factory=dict)
    """Every true person and organisation that some record's truth points at."""
    risk: dict[str, RiskTruth] = field(default_factory=dict)
    """Matter id → the grade a careful analyst would give it; matters not listed: NONE."""
