"""clocks: an index on the calendar version each clock was derived under

The deadline scanner, when it starts, derives again every clock stored under a calendar
other than the one in force (``db.clock_restamp``). Without an index, finding that there are
none read every clock on every start; ``ix_clocks_calendar_version`` (version, id) makes it
two index look-ups, and walks only the clocks to restamp when there are some.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_clocks_calendar_version", "clocks", ["calendar_version", "id"])


def downgrade() -> None:
    op.drop_index("ix_clocks_calendar_version", table_name="clocks")
