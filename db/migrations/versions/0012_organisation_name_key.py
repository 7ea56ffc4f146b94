"""organisations.name_key: the name as resolution compares it, indexed, so a resolution pass
finds the organisations its mentions can match by name without reading every organisation of
their counties

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.linking.organisations import normalise_organisation_name

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def upgrade() -> None:
    op.add_column("organisations", sa.Column("name_key", sa.String(length=256), nullable=True))
    _backfill()
    op.create_index("ix_organisations_name_key", "organisations", ["name_key"])


def _backfill() -> None:
    """Key the organisations already stored, by pages of ids (a city holds many)."""
    connection = op.get_bind()
    page = sa.text(
        "SELECT id, name FROM organisations WHERE id > :after ORDER BY id LIMIT :batch"
    )
    organisations = sa.table("organisations", sa.column("id"), sa.column("name_key"))
    keyed = (
        sa.update(organisations)
        .where(organisations.c.id == sa.bindparam("oid"))
        .values(name_key=sa.bindparam("key"))
    )
    after = 0
    while rows := connection.execute(page, {"after": after, "batch": _BATCH}).all():
        after = rows[-1][0]
        connection.execute(
            keyed, [{"oid": oid, "key": normalise_organisation_name(name)} for oid, name in rows]
        )


def downgrade() -> None:
    op.drop_index("ix_organisations_name_key", table_name="organisations")
    op.drop_column("organisations", "name_key")
