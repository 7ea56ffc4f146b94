"""督办单 lineage and voiding: an order escalated from another names it
(``escalated_from_id``), and an order whose breach did not happen is marked ``voided``, so
closing a breach that turned out met follows exactly its own escalations, and neither it nor
they count toward the next breach's rung or the matter's risk

Orders escalated before this revision are not linked (their lineage was not stored); none is
voided.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("supervisions") as batch:
        batch.add_column(sa.Column("escalated_from_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("voided", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            "fk_supervisions_escalated_from_id_supervisions", "supervisions",
            ["escalated_from_id"], ["id"], ondelete="SET NULL",
        )  # fmt: skip
        batch.create_index("ix_supervisions_escalated_from_id", ["escalated_from_id"])


def downgrade() -> None:
    with op.batch_alter_table("supervisions") as batch:
        batch.drop_index("ix_supervisions_escalated_from_id")
        batch.drop_constraint("fk_supervisions_escalated_from_id_supervisions", type_="foreignkey")
        batch.drop_column("voided")
        batch.drop_column("escalated_from_id")
