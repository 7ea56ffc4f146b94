"""person_blocking_keys: the name keys resolution finds candidate persons by; partial indexes
on unresolved mentions and merged persons; indexes on the columns re-linking looks records
up by (a mention's organisation, the case numbers a record cites)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.linking.evidence import stored_blocking_keys
from domain.linking.organisations import looks_like_organisation

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNRESOLVED = sa.text("person_id IS NULL AND organisation_id IS NULL")
_MERGED = sa.text("merged_into_id IS NOT NULL")
_BATCH = 5000
_LOOKED_UP = (
    ("records", "source_key"),
    ("party_mentions", "organisation_id"),
    ("disputes", "alert_number"),
    ("disputes", "judicial_confirmation_case_number"),
    ("petitions", "cited_case_number"),
)


def upgrade() -> None:
    op.create_table(
        "person_blocking_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["party_mentions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "mention_id"),
    )
    op.create_index("ix_person_blocking_keys_mention_id", "person_blocking_keys", ["mention_id"])
    op.create_index(
        "ix_party_mentions_unresolved",
        "party_mentions",
        ["record_id"],
        postgresql_where=_UNRESOLVED,
        sqlite_where=_UNRESOLVED,
    )
    op.create_index(
        "ix_persons_merged_into_id",
        "persons",
        ["merged_into_id"],
        postgresql_where=_MERGED,
        sqlite_where=_MERGED,
    )
    for table, column in _LOOKED_UP:
        op.create_index(f"ix_{table}_{column}", table, [column])
    _backfill()


def _backfill() -> None:
    """Keys for the person mentions already stored (names and regions are plaintext)."""
    connection = op.get_bind()
    keys = sa.table("person_blocking_keys", sa.column("key"), sa.column("mention_id"))
    rows = connection.execute(
        sa.text(
            "SELECT m.id, m.name, m.is_organisation, m.uscc, r.region_code "
            "FROM party_mentions m JOIN records r ON r.id = m.record_id ORDER BY m.id"
        )
    ).all()
    pending: list[dict[str, object]] = []
    for mention_id, name, is_organisation, uscc, region in rows:
        if is_organisation or uscc or looks_like_organisation(name):
            continue
        pending.extend(
            {"key": key, "mention_id": mention_id} for key in stored_blocking_keys(name, region)
        )
        if len(pending) >= _BATCH:
            connection.execute(sa.insert(keys), pending)
            pending = []
    if pending:
        connection.execute(sa.insert(keys), pending)


def downgrade() -> None:
    for table, column in _LOOKED_UP:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    op.drop_index("ix_persons_merged_into_id", table_name="persons")
    op.drop_index("ix_party_mentions_unresolved", table_name="party_mentions")
    op.drop_index("ix_person_blocking_keys_mention_id", table_name="person_blocking_keys")
    op.drop_table("person_blocking_keys")
