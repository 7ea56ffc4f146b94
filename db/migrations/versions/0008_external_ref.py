"""records.external_ref (外部编号): the write-back reference a source record carries

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 04:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (no table rebuild on SQLite): existing records have no reference
    op.add_column('records', sa.Column('external_ref', sa.String(length=64), nullable=True))
    op.create_index('ix_records_external_ref', 'records', ['external_ref'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_records_external_ref', table_name='records')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('external_ref')
