"""a petition the petition system counts as repeated (重复信访次数 ≥ 1) is a repeat petition
(重复信访) too: the flag triggers reinstalled with the new rule (and triggers on petitions),
the stored petitions' flags recomputed, the figures summaries moving with them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from db.models.figure_triggers import drop_statements, install_statements, refresh_petition_flags

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _reinstall(*, source_repeats: bool) -> None:
    # In one transaction: the new triggers are in place before the flags are recomputed, and
    # the recompute is an update of records, so the figures triggers move the counts of the
    # petitions whose flag changes (and only theirs).
    dialect = op.get_bind().dialect.name
    for statement in drop_statements(dialect):
        op.execute(statement)
    for statement in install_statements(dialect, source_repeats=source_repeats):
        op.execute(statement)
    op.execute(refresh_petition_flags(source_repeats=source_repeats))


def upgrade() -> None:
    _reinstall(source_repeats=True)


def downgrade() -> None:
    _reinstall(source_repeats=False)
