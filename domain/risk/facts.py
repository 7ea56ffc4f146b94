"""What risk rules are judged on (研判事实): a record, the records linked to it, and the
other records of the persons it names — dates, kinds, statuses, amounts, head counts, places.

Facts are plain values built by ``db.risk`` from stored rows; the rules never touch the
database. :func:`fingerprint` hashes them so a staff override can lapse when they change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import orjson

from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel

_ORDER = (RiskLevel.NONE, RiskLevel.BLUE, RiskLevel.YELLOW, RiskLevel.RED)


def level_rank(level: RiskLevel) -> int:
    """NONE < BLUE < YELLOW < RED (蓝 Ⅳ, 黄 Ⅲ, 红 Ⅰ: red is highest)."""
    return _ORDER.index(level)


def highest(levels: Iterable[RiskLevel]) -> RiskLevel:
    return max(levels, key=level_rank, default=RiskLevel.NONE)


class TargetKind(StrEnum):
    """What is graded (研判对象)."""

    RECORD = "RECORD"
    PERSON = "PERSON"
    MATTER = "MATTER"
    """A matter of the closed loop: its records' facts and its own (breaches, 督办)."""


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """One record as the rules see it."""

    record_id: int
    ref: str
    """How evidence names it: ``SOURCE/source_key``."""
    kind: RecordKind
    category: DisputeCategory
    status: CaseStatus
    occurred_at: datetime
    text: str = ""
    """Title and summary as the source wrote them (free text)."""
    place: str | None = None
    """The address, normalised (spaces dropped), or None."""
    person_ids: frozenset[int] = frozenset()
    mention_count: int = 0
    amount: Decimal | None = None
    party_count: int | None = None
    head_count: int | None = None
    """People on a petition (信访人数)."""
    repeat_count: int | None = None
    """Earlier petitions on the same matter, as the petition system counts them (重复信访次数)."""
    petition_levels: frozenset[str] = frozenset()
    """Levels that issued a number for a petition (county, city, province): 越级 above county."""
    source_grade: RiskLevel = RiskLevel.NONE
    _json: str | None = field(default=None, init=False, repr=False, compare=False)
    """Its canonical JSON once made (:func:`fingerprint`): a record is part of several grades."""
    _hits: tuple[int, tuple[object, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """The lexicon words in its text once found, with the id of the matcher that found them
    (``evaluate``; matchers live as long as the process): every lexicon rule of each grade it
    is part of reads them."""

    def __reduce__(self) -> tuple[type[RecordFacts], tuple[object, ...]]:
        """Pickled and copied as its facts alone: what a grade kept on it stays behind."""
        return (type(self), tuple(getattr(self, f.name) for f in fields(self) if f.init))

    @property
    def parties(self) -> int:
        return max(self.party_count or 0, self.mention_count, self.head_count or 0)

    def canonical(self) -> list[object]:
        return [
            self.record_id, self.kind.value, self.category.value, self.status.value,
            self.occurred_at.isoformat(), self.text, self.place, sorted(self.person_ids),
            self.mention_count, None if self.amount is None else str(self.amount),
            self.party_count, self.head_count, self.repeat_count, sorted(self.petition_levels),
            self.source_grade.value,
        ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class MatterFacts:
    """What a matter adds to its records' facts (事项自身事实)."""

    matter_id: int
    breaches: tuple[tuple[str, datetime], ...] = ()
    """Each clock breach (逾期) fired on the matter: (deadline rule id, the instant due)."""
    supervisions: tuple[tuple[str, datetime], ...] = ()
    """督办单 the matter is under (open or replied): (SupervisionLevel, issued at)."""

    def canonical(self) -> list[object]:
        return [
            sorted([rule, at.isoformat()] for rule, at in self.breaches),
            sorted([level, at.isoformat()] for level, at in self.supervisions),
        ]


@dataclass(frozen=True, slots=True)
class RiskFacts:
    """Everything one grade is decided on.

    ``subject``: the records that make up what is graded — a record and the records linked to
    it (the same matter), all of a person's records, or a matter's records and theirs.
    ``history``: other records of the persons they name, which only count through a pattern
    (repeat calls, escalation) that reaches a subject record. ``matter``: a matter's own facts.
    """

    target: TargetKind
    target_id: int
    subject: tuple[RecordFacts, ...]
    history: tuple[RecordFacts, ...] = field(default=())
    matter: MatterFacts | None = None
    """A matter's own facts, when a matter is graded; None for records and persons."""

    @property
    def all_records(self) -> tuple[RecordFacts, ...]:
        return self.subject + self.history

    @property
    def subject_ids(self) -> frozenset[int]:
        return frozenset(r.record_id for r in self.subject)


def fingerprint(facts: RiskFacts) -> str:
    """sha256 of the facts in a canonical order: equal fingerprints, same facts."""
    # The JSON of {"subject": [...], "history": [...], "matter": ...} written compactly, each
    # record's part taken from a cache: a record's facts are part of the grades of its linked
    # records and of its persons too.
    subject = ",".join(_canonical_json(r) for r in sorted(facts.subject, key=_by_id))
    history = ",".join(_canonical_json(r) for r in sorted(facts.history, key=_by_id))
    text = f'{{"subject":[{subject}],"history":[{history}]'
    if facts.matter is not None:  # records' and persons' fingerprints stay as they were
        text += f',"matter":{_json(facts.matter.canonical())}'
    return hashlib.sha256(f"{text}}}".encode()).hexdigest()


def _json(value: object) -> str:
    """Compact JSON, written by orjson (a grading pass writes every record's facts: the
    standard library took four times as long). For the strings, integers, ``None`` and lists
    a fingerprint holds it is byte for byte the standard library's ``json.dumps(value,
    ensure_ascii=False, separators=(",", ":"), default=str)`` (tested over every character),
    so a fingerprint stored before (a staff override's) still compares equal. What orjson
    refuses (an integer beyond 64 bits, a lone surrogate) takes the standard library."""
    try:
        return orjson.dumps(value, default=str).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _canonical_json(record: RecordFacts) -> str:
    """A grading pass reads each record's part several times (its own grade, its persons',
    its linked records'): it is kept on the facts object, which the pass shares among them
    (looked up by value instead, each look-up hashed the record's fifteen fields)."""
    made = record._json
    if made is None:
        made = _json(record.canonical())
        object.__setattr__(record, "_json", made)
    return made


def _by_id(record: RecordFacts) -> int:
    return record.record_id
