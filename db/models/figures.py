"""The record figures summaries (记录统计汇总): how many records share each combination of what a
dashboard groups and filters by, kept exactly current by triggers.

``record_figures`` has one row per kind, source, category, status, risk level, KPI class,
finest region code, Beijing calendar day and withdrawn flag that some record has;
``record_figures_monthly`` one per county code, Beijing month, kind, source, category, KPI
class and withdrawn flag, with how many of those records are concluded and resolved. The
triggers on ``records`` (``db.models.figure_triggers``) add and take away within the very
statement that changes a record, so the summaries are consistent with the records inside
every sync transaction, and no code path (sync, risk grading, a staff override, a migration)
can forget them. ``db.figure_summary`` answers figures from them when it can.

Key columns are never NULL, so a key is one index entry on both databases: a record without a
region code (区划不明) is counted under ``region_code = ''``, one without a KPI class under
``kpi_class = ''``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import DDL, Boolean, Date, Integer, PrimaryKeyConstraint, String, event
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, enum_column
from db.models.figure_triggers import KEY_COLUMNS, MONTHLY_KEY_COLUMNS, install_statements
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem

NO_REGION = ""
"""``region_code`` of the records without one (区划不明)."""
NO_KPI_CLASS = ""
"""``kpi_class`` of the records without one."""


class RecordFigure(Base):
    """How many records share one combination of grouping values (统计汇总格)."""

    __tablename__ = "record_figures"

    # The key, region and day first: a dashboard reads one jurisdiction's range over a period.
    region_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    """The Beijing calendar day (北京时间日期) the records occurred on."""
    kind: Mapped[RecordKind] = mapped_column(enum_column(RecordKind))
    source: Mapped[SourceSystem] = mapped_column(enum_column(SourceSystem))
    category: Mapped[DisputeCategory] = mapped_column(enum_column(DisputeCategory))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus))
    risk_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel))
    kpi_class: Mapped[str] = mapped_column(String(32))
    deleted: Mapped[bool] = mapped_column(Boolean)
    repeat_petition: Mapped[bool] = mapped_column(Boolean)
    referred: Mapped[bool] = mapped_column(Boolean)
    record_count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        PrimaryKeyConstraint(*KEY_COLUMNS),
        # SQLite: the table is its primary key's b-tree, so a range of it is read once.
        {"sqlite_with_rowid": False},
    )


class RecordFigureMonthly(Base):
    """How many records share a county (or coarser) code, Beijing month, kind, source, category
    and KPI class (月度统计汇总), with how many of them are concluded and resolved: the grain of
    a city's dashboard, a few dozen times smaller than the records."""

    __tablename__ = "record_figures_monthly"

    region_code: Mapped[str] = mapped_column(String(32))
    """The county code (its first six digits) or the record's own coarser one; ``''``: none."""
    month: Mapped[date] = mapped_column(Date)
    """The first day of the Beijing calendar month (北京时间月份)."""
    kind: Mapped[RecordKind] = mapped_column(enum_column(RecordKind))
    source: Mapped[SourceSystem] = mapped_column(enum_column(SourceSystem))
    category: Mapped[DisputeCategory] = mapped_column(enum_column(DisputeCategory))
    kpi_class: Mapped[str] = mapped_column(String(32))
    deleted: Mapped[bool] = mapped_column(Boolean)
    repeat_petition: Mapped[bool] = mapped_column(Boolean)
    referred: Mapped[bool] = mapped_column(Boolean)
    record_count: Mapped[int] = mapped_column(Integer)
    concluded_count: Mapped[int] = mapped_column(Integer)
    """Of them, concluded (办结: resolved, failed or closed)."""
    resolved_count: Mapped[int] = mapped_column(Integer)
    """Of them, resolved (调解成功)."""

    __table_args__ = (
        PrimaryKeyConstraint(*MONTHLY_KEY_COLUMNS),
        {"sqlite_with_rowid": False},
    )


# A schema created from the models (``metadata.create_all``) rather than the migrations counts
# the same way: the triggers are installed once every table is there.
for _dialect in ("sqlite", "postgresql"):
    for _statement in install_statements(_dialect):
        _ddl = DDL(_statement)  # type: ignore[no-untyped-call]  # untyped in SQLAlchemy
        event.listen(Base.metadata, "after_create", _ddl.execute_if(dialect=_dialect))
