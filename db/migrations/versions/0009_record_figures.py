"""record figures summaries (记录统计汇总): counts per grouping key, finest and monthly, kept
current by triggers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models.base import enum_column
from db.models.figure_triggers import (
    KEY_COLUMNS,
    MONTHLY_KEY_COLUMNS,
    backfill_statements,
    drop_statements,
    install_statements,
)
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # What the links make of a record (its flags are summary keys, so the linked KPIs'
    # numerators are summed as the rest are), filled through the triggers below.
    for flag in ("repeat_petition", "referred"):
        op.add_column(
            "records", sa.Column(flag, sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "record_figures",
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", enum_column(RecordKind), nullable=False),
        sa.Column("source", enum_column(SourceSystem), nullable=False),
        sa.Column("category", enum_column(DisputeCategory), nullable=False),
        sa.Column("status", enum_column(CaseStatus), nullable=False),
        sa.Column("risk_level", enum_column(RiskLevel), nullable=False),
        sa.Column("kpi_class", sa.String(length=32), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("repeat_petition", sa.Boolean(), nullable=False),
        sa.Column("referred", sa.Boolean(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY_COLUMNS, name=op.f("pk_record_figures")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "record_figures_monthly",
        sa.Column("region_code", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kind", enum_column(RecordKind), nullable=False),
        sa.Column("source", enum_column(SourceSystem), nullable=False),
        sa.Column("category", enum_column(DisputeCategory), nullable=False),
        sa.Column("kpi_class", sa.String(length=32), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("repeat_petition", sa.Boolean(), nullable=False),
        sa.Column("referred", sa.Boolean(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("concluded_count", sa.Integer(), nullable=False),
        sa.Column("resolved_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*MONTHLY_KEY_COLUMNS, name=op.f("pk_record_figures_monthly")),
        sqlite_with_rowid=False,
    )
    dialect = op.get_bind().dialect.name
    # Triggers first, then the fill, in one transaction: creating a trigger locks records
    # against writes until the commit, so no record is counted twice or missed. The repeat
    # rule of this revision is the links' alone (0016 adds the petition system's own count).
    for statement in install_statements(dialect, source_repeats=False):
        op.execute(statement)
    for statement in backfill_statements(dialect, source_repeats=False):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("record_figures_monthly")
    op.drop_table("record_figures")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("referred")
        batch.drop_column("repeat_petition")
