"""Source records: one shared ``records`` table plus one table per kind (joined inheritance).

Every record keeps its source's own key, status and payload beside the unified columns, so
nothing the source said is lost in mapping. The raw payload is sealed: it carries personal
information as the source delivered it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, UtcDateTime, enum_column, utcnow
from db.pii import SealedJSON
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.stats import KpiClass

FIGURES_INDEX_COLUMNS = (
    "region_code", "occurred_at", "deleted", "kind", "source", "category", "status", "risk_level",
    "kpi_class", "id",
)  # fmt: skip


class Record(Base):
    """The columns every kind shares (记录公共字段)."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[RecordKind] = mapped_column(enum_column(RecordKind))
    source: Mapped[SourceSystem] = mapped_column(enum_column(SourceSystem))
    source_key: Mapped[str] = mapped_column(String(64))
    category: Mapped[DisputeCategory] = mapped_column(enum_column(DisputeCategory))
    title: Mapped[str] = mapped_column(String(256))
    summary: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    region_code: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus))
    risk_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel), default=RiskLevel.NONE)
    """The grade govhub shows (风险等级): computed by the risk rules, or a staff override."""
    source_risk_level: Mapped[RiskLevel] = mapped_column(
        enum_column(RiskLevel), default=RiskLevel.NONE
    )
    """The grade the source itself gave (来源定级): one fact among those the rules read."""
    source_status: Mapped[str | None] = mapped_column(String(64))
    source_category: Mapped[str | None] = mapped_column(String(64))
    source_updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source_version: Mapped[str | None] = mapped_column(String(64))
    external_ref: Mapped[str | None] = mapped_column(String(64))
    """The reference a writer stamped into the source's record (外部编号): a write-back's
    reference (court externalRef = Idempotency-Key, mediation externalRef, grid bizNo), so the
    record the department created is attached to the matter that asked for it."""
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    raw: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    kpi_class: Mapped[KpiClass | None] = mapped_column(enum_column(KpiClass))
    """What it counts as in a KPI beyond its kind (domain.stats.kpi_class), set on ingest."""
    repeat_petition: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A repeat petition (重复信访): its source counts it repeated (重复信访次数 ≥ 1) or the links
    pair it with an earlier petition; kept by triggers on links, records and petitions
    (``db.models.figure_triggers.LINK_FLAGS``), never written by code."""
    referred: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A mediation case names it as its source (转人民调解, 警情分流); kept the same way."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"polymorphic_on": "kind"}  # noqa: RUF012 -- SQLAlchemy's declared form
    __table_args__ = (
        UniqueConstraint("source", "source_key"),
        # re-linking finds a record by a case number another source cites, source unknown
        Index("ix_records_source_key", "source_key"),
        # The filters dashboards use: kind, region prefix (range scan), category, status, risk,
        # time; ordering is occurred_at desc then id.
        Index("ix_records_kind_occurred_at", "kind", "occurred_at"),
        Index("ix_records_region_code", "region_code"),
        # Risk grading looks up 110 alerts at one address (repeat calls from one home).
        Index("ix_records_address", "address"),
        Index("ix_records_category", "category"),
        Index("ix_records_status", "status"),
        Index("ix_records_risk_level", "risk_level"),
        Index("ix_records_occurred_at_id", "occurred_at", "id"),
        # Dashboard figures (db.stats): a region's records over a period, grouped by any of
        # these, read from the index alone (migration 0003).
        Index("ix_records_figures", *FIGURES_INDEX_COLUMNS),
        Index("ix_records_external_ref", "external_ref"),
    )


def _record_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)


class Dispute(Record):
    """矛盾纠纷 / 人民调解案件 from the people's mediation platform."""

    __tablename__ = "disputes"
    __mapper_args__ = {"polymorphic_identity": RecordKind.DISPUTE}  # noqa: RUF012 -- as above

    id: Mapped[int] = _record_fk()
    mediation_org: Mapped[str | None] = mapped_column(String(128))
    mediation_org_code: Mapped[str | None] = mapped_column(String(18))
    mediator: Mapped[str | None] = mapped_column(String(64))
    agreement_number: Mapped[str | None] = mapped_column(String(64))
    agreement_signed_on: Mapped[date | None] = mapped_column(Date)
    judicial_confirmation_status: Mapped[str | None] = mapped_column(String(32))
    judicial_confirmation_applied_on: Mapped[date | None] = mapped_column(Date)
    judicial_confirmation_confirmed_on: Mapped[date | None] = mapped_column(Date)
    judicial_confirmation_case_number: Mapped[str | None] = mapped_column(String(64), index=True)
    amount_involved: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    party_count: Mapped[int | None]
    alert_number: Mapped[str | None] = mapped_column(String(64), index=True)
    accepted_on: Mapped[date | None] = mapped_column(Date)


class GridEvent(Record):
    """网格事件 from the grid-management platform."""

    __tablename__ = "grid_events"
    __mapper_args__ = {"polymorphic_identity": RecordKind.GRID_EVENT}  # noqa: RUF012 -- as above

    id: Mapped[int] = _record_fk()
    grid_code: Mapped[str | None] = mapped_column(String(32))
    reporter: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str | None] = mapped_column(String(32))
    longitude: Mapped[float | None]
    latitude: Mapped[float | None]


class PoliceAlert(Record):
    """110 警情 from the 110 dispatch platform."""

    __tablename__ = "police_alerts"
    __mapper_args__ = {"polymorphic_identity": RecordKind.POLICE_ALERT}  # noqa: RUF012 -- as above

    id: Mapped[int] = _record_fk()
    alert_number: Mapped[str] = mapped_column(String(64))
    alarm_time: Mapped[datetime] = mapped_column(UtcDateTime)
    category_code_l1: Mapped[str | None] = mapped_column(String(6))
    category_code_l2: Mapped[str | None] = mapped_column(String(6))
    category_code_l3: Mapped[str | None] = mapped_column(String(6))
    disposal_result: Mapped[str | None] = mapped_column(Text)


class Petition(Record):
    """信访件 from the petition system."""

    __tablename__ = "petitions"
    __mapper_args__ = {"polymorphic_identity": RecordKind.PETITION}  # noqa: RUF012 -- as above

    id: Mapped[int] = _record_fk()
    # Numbers as issued by each level (县/市/省信访局), e.g. {"county": "...", "city": "..."}.
    petition_numbers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    form: Mapped[str | None] = mapped_column(String(16))
    accepted_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    handling_unit: Mapped[str | None] = mapped_column(String(128))
    repeat_count: Mapped[int | None]
    petitioner_count: Mapped[int | None]
    cited_case_number: Mapped[str | None] = mapped_column(String(64), index=True)


class CourtFiling(Record):
    """诉讼 / 诉前调解 / 司法确认 cases from the court's case system."""

    __tablename__ = "court_filings"
    __mapper_args__ = {"polymorphic_identity": RecordKind.COURT_FILING}  # noqa: RUF012 -- as above

    id: Mapped[int] = _record_fk()
    case_number: Mapped[str] = mapped_column(String(64), index=True)
    cause: Mapped[str | None] = mapped_column(String(128))
    court: Mapped[str | None] = mapped_column(String(128))
    court_code: Mapped[str | None] = mapped_column(String(16))
    case_type: Mapped[str | None] = mapped_column(String(16))
    filed_on: Mapped[date | None] = mapped_column(Date)
    judge: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(128))
    mediation_case_number: Mapped[str | None] = mapped_column(String(64), index=True)


def kind_models() -> dict[RecordKind, type[Record]]:
    """Each kind's model, read off the polymorphic map its ``polymorphic_identity`` entered:
    a kind's ORM class is declared once, on the class."""
    return {
        RecordKind(identity): mapper.class_
        for identity, mapper in Record.__mapper__.polymorphic_map.items()
        if mapper.class_ is not Record
    }
