"""outbox: read-backs that got no answer (``failed_reads``), counted apart from sends

A write whose outcome is unknown is read back before it is sent again. A read-back the
target does not answer (a timeout, a 5xx, with the read's own retries spent) used to spend
one of the write's attempts as a send would; it now counts here, so ``attempts`` is the
sends tried, and a write is not given up after one send because its target's reads were
slow. Rows stored before this revision start at 0.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("failed_reads", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("failed_reads")
