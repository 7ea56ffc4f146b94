"""audit rows name the matters whose parties they returned

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, and left out of a row's chain hash while null: earlier rows verify unchanged.
    op.add_column("audit_log", sa.Column("matter_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("matter_ids")
