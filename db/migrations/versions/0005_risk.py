"""risk grading: assessments, their history, the source's own grade beside the computed one

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEVEL = sa.Enum("RED", "YELLOW", "BLUE", "NONE", name="risklevel", native_enum=False, length=32)
_TARGET = sa.Enum("RECORD", "PERSON", name="targetkind", native_enum=False, length=32)


def upgrade() -> None:
    # Until now risk_level held the source's grade: keep it as the source's, and let the
    # first assessment replace risk_level with the computed one.
    with op.batch_alter_table("records") as batch:
        batch.add_column(
            sa.Column("source_risk_level", _LEVEL, nullable=False, server_default="NONE")
        )
    op.execute("UPDATE records SET source_risk_level = risk_level")
    with op.batch_alter_table("records") as batch:
        batch.alter_column("source_risk_level", server_default=None)
        # risk grading looks up 110 alerts at one address (repeat calls from one home)
        batch.create_index("ix_records_address", ["address"])
    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_kind", _TARGET, nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("level", _LEVEL, nullable=False),
        sa.Column("effective_level", _LEVEL, nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("facts_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=32), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("override_level", _LEVEL, nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("overridden_by", sa.String(length=128), nullable=True),
        sa.Column("overridden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("override_fingerprint", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_assessments")),
        sa.UniqueConstraint(
            "target_kind", "target_id", name=op.f("uq_risk_assessments_target_kind_target_id")
        ),
    )
    op.create_index(
        "ix_risk_assessments_effective_level", "risk_assessments", ["effective_level"]
    )
    op.create_table(
        "risk_grade_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_kind", _TARGET, nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("from_level", _LEVEL, nullable=False),
        sa.Column("to_level", _LEVEL, nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_grade_changes")),
    )
    op.create_index(
        "ix_risk_grade_changes_target", "risk_grade_changes", ["target_kind", "target_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_risk_grade_changes_target", table_name="risk_grade_changes")
    op.drop_table("risk_grade_changes")
    op.drop_index("ix_risk_assessments_effective_level", table_name="risk_assessments")
    op.drop_table("risk_assessments")
    op.execute("UPDATE records SET risk_level = source_risk_level")
    with op.batch_alter_table("records") as batch:
        batch.drop_index("ix_records_address")
        batch.drop_column("source_risk_level")
