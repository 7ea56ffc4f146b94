"""A source record mapped onto the unified model, before it is stored (统一记录).

Connectors turn each source's payload into a :class:`ParsedRecord`; the ingest step stores it.
Keeping this free of SQLAlchemy lets mapping be tested (and replayed from dead letters) alone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from domain.enums import (
    CaseStatus,
    DisputeCategory,
    PartyRole,
    RecordKind,
    RiskLevel,
    SourceSystem,
)
from domain.kinds import KIND_OF_SOURCE


@dataclass(slots=True)
class ParsedParty:
    """A party as the record names it; identifiers already validated and normalised."""

    role: PartyRole
    name: str
    source_role: str | None = None
    id_number: str | None = None
    phone: str | None = None
    is_organisation: bool = False
    uscc: str | None = None
    address: str | None = None


@dataclass(slots=True)
class ParsedRecord:
    """One source record in unified terms; ``fields`` holds its kind's own columns."""

    source: SourceSystem
    source_key: str
    source_updated_at: datetime
    raw: dict[str, Any]
    deleted: bool = False
    category: DisputeCategory = DisputeCategory.OTHER
    title: str = ""
    summary: str | None = None
    occurred_at: datetime | None = None
    reported_at: datetime | None = None
    region_code: str | None = None
    address: str | None = None
    status: CaseStatus = CaseStatus.REPORTED
    risk_level: RiskLevel = RiskLevel.NONE
    source_status: str | None = None
    source_category: str | None = None
    source_version: str | None = None
    """Orders two versions that share ``source_updated_at`` (e.g. a re-issued petition file)."""
    external_ref: str | None = None
    """A reference a writer stamped into the record (外部编号, e.g. a write-back's reference)."""
    fields: dict[str, Any] = field(default_factory=dict)
    parties: list[ParsedParty] = field(default_factory=list)

    @property
    def kind(self) -> RecordKind:
        return KIND_OF_SOURCE[self.source]

    def version_key(self) -> tuple[datetime, str]:
        return (self.source_updated_at, self.source_version or "")

    def content_hash(self) -> str:
        """A digest of the mapped content, so an unchanged re-delivery writes nothing.

        The raw payload is left out: a source adding an unknown field (schema drift) to the
        same version of a record is not a change of the record.
        """
        # What ``asdict`` would give without the raw payload, without deep-copying it first (a
        # party's values are all scalars: its dict is what ``asdict`` gives).
        document = {name: getattr(self, name) for name in _HASHED}
        document["parties"] = [
            {name: getattr(party, name) for name in _PARTY_FIELDS} for party in self.parties
        ]
        return hashlib.sha256(
            json.dumps(document, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
        ).hexdigest()


_HASHED = tuple(f.name for f in fields(ParsedRecord) if f.name != "raw")
_PARTY_FIELDS = tuple(f.name for f in fields(ParsedParty))
