"""All mapped tables; importing this module registers them on ``Base.metadata``."""

from db.models.audit import AuditEntry, KeyCheck
from db.models.base import Base
from db.models.figures import RecordFigure, RecordFigureMonthly
from db.models.matters import (
    ClockRow,
    ClockRung,
    Lease,
    Matter,
    MatterEvent,
    MatterNumber,
    MatterParty,
    MatterRecord,
    SealedParty,
    Supervision,
)
from db.models.parties import Link, Organisation, PartyMention, Person, PersonBlockingKey
from db.models.records import CourtFiling, Dispute, GridEvent, Petition, PoliceAlert, Record
from db.models.regions import Region
from db.models.risk import RiskAssessment, RiskGradeChange
from db.models.sync import DeadLetter, OutboxMessage, SyncRun, SyncState

__all__ = [
    "AuditEntry",
    "Base",
    "ClockRow",
    "ClockRung",
    "CourtFiling",
    "DeadLetter",
    "Dispute",
    "GridEvent",
    "KeyCheck",
    "Lease",
    "Link",
    "Matter",
    "MatterEvent",
    "MatterNumber",
    "MatterParty",
    "MatterRecord",
    "Organisation",
    "OutboxMessage",
    "PartyMention",
    "Person",
    "PersonBlockingKey",
    "Petition",
    "PoliceAlert",
    "Record",
    "RecordFigure",
    "RecordFigureMonthly",
    "Region",
    "RiskAssessment",
    "RiskGradeChange",
    "SealedParty",
    "Supervision",
    "SyncRun",
    "SyncState",
]
