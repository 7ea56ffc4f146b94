"""outbox: write-back delivery state (lease, backoff, read-back, target id, ordering key)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def _moment() -> sa.DateTime:
    return sa.DateTime(timezone=True)


_COLUMNS = (
    ("aggregate_type", lambda: sa.String(length=32)),
    ("aggregate_id", lambda: sa.String(length=64)),
    ("next_attempt_at", _moment),
    ("last_error_code", lambda: sa.String(length=64)),
    ("target_ref", lambda: sa.String(length=128)),
    ("claimed_by", lambda: sa.String(length=64)),
    ("claimed_until", _moment),
    ("claim_token", lambda: sa.String(length=32)),
    ("confirmed_at", _moment),
    ("updated_at", _moment),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_(), nullable=True))
        batch.add_column(sa.Column("lookups", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_outbox_target_status_next_attempt_at",
                           ["target", "status", "next_attempt_at"])
        batch.create_index("ix_outbox_aggregate", ["aggregate_type", "aggregate_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_aggregate")
        batch.drop_index("ix_outbox_target_status_next_attempt_at")
        batch.drop_column("lookups")
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
