"""A source record mapped onto the unified model, before it is stored (统一记录).

Connectors turn each source's payload into a :class:`ParsedRecord`; the ingest step stores it.
Keeping this free of SQLAlchemy lets mapping be tested (and replayed from dead letters) alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import operator
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
from domain.jsontext import digest_json
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
        """A digest of the mapped content, so an unchanged re-delivery writes nothing: the
        SHA-256 of its JSON (:func:`~domain.jsontext.digest_json`) in URL-safe base64, 43
        characters.

        The raw payload is left out: a source adding an unknown field (schema drift) to the
        same version of a record is not a change of the record. A record stored before the
        digest took this form holds its :meth:`legacy_content_hash` until it changes: compare
        with :meth:`holds_content`, which knows both.
        """
        # The values in field order, a party's as a tuple: nothing is copied into dicts.
        # A float can only be one of its own fields' values: the rest are typed.
        values = (_hashed_values(self), [_party_values(p) for p in self.parties])
        document = digest_json(values, floats_in=self.fields)
        return base64.urlsafe_b64encode(hashlib.sha256(document).digest()).decode()[:43]

    def legacy_content_hash(self) -> str:
        """The digest records were stored with before :meth:`content_hash` (64 hexadecimal
        characters, of the standard library's JSON of the content as dicts)."""
        document = {name: getattr(self, name) for name in _HASHED}
        document["parties"] = [
            {name: getattr(party, name) for name in _PARTY_FIELDS} for party in self.parties
        ]
        return hashlib.sha256(
            json.dumps(document, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
        ).hexdigest()

    def holds_content(self, stored: str | None, digest: str) -> bool:
        """Whether ``stored``, a stored record's digest, is this content's: ``digest`` (this
        record's :meth:`content_hash`) or, written in the earlier form, its legacy one."""
        if stored == digest:
            return True
        return (
            stored is not None
            and len(stored) == LEGACY_DIGEST_LENGTH
            and (stored == self.legacy_content_hash())
        )


LEGACY_DIGEST_LENGTH = 64
"""A content digest in hexadecimal, as records were stored before it was base64 (43)."""

_HASHED = tuple(f.name for f in fields(ParsedRecord) if f.name != "raw")
_PARTY_FIELDS = tuple(f.name for f in fields(ParsedParty))
_hashed_values = operator.attrgetter(*(name for name in _HASHED if name != "parties"))
_party_values = operator.attrgetter(*_PARTY_FIELDS)
