"""risk_assessments: the reasons staff gave for a grade override, masked as new ones are

An override's reason (调整理由) is free text staff type; an ID number or phone in it is now
masked before it is stored (``db.risk.override_grade``), as in a matter's notes. The reasons
stored before this revision are masked here the same way (``domain.masking.mask_text``);
one holding no identifier is left as it is. There is no way back to the plaintext.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 19:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.masking import mask_text

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, override_reason FROM risk_assessments "
                "WHERE override_reason IS NOT NULL")
    ).all()  # fmt: skip
    for row_id, reason in rows:  # overrides are staff decisions: few
        masked = mask_text(reason)
        if masked != reason:
            bind.execute(
                sa.text("UPDATE risk_assessments SET override_reason = :reason WHERE id = :id"),
                {"reason": masked, "id": row_id},
            )


def downgrade() -> None:
    """Nothing to give back: the plaintext is gone."""
