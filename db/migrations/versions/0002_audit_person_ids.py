"""audit rows name the persons they returned

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, and left out of a row's chain hash while null: earlier rows verify unchanged.
    op.add_column("audit_log", sa.Column("person_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("person_ids")
