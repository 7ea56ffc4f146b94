"""sync_state: a closed breaker's failure count starts again, as it now counts requests

``consecutive_failures`` counted a source's failed attempts, each retry one, toward a
threshold of 5; it now counts requests that failed with their retries spent, toward 3. A
closed breaker stored with up to 4 failed attempts would open at the first failed request
after the upgrade: its count starts again at 0. An open or half-open breaker keeps its state
(and count) until its cool-down and trial, as before.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE sync_state SET consecutive_failures = 0 WHERE breaker_state = 'CLOSED'")


def downgrade() -> None:
    """Nothing to give back: a count of 0 is a count of attempts as well."""
