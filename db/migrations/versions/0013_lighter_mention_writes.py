"""Lighter writes of party mentions: ``person_blocking_keys`` no longer checks each key's
mention by a foreign key (ingest deletes a replaced mention's keys itself, and the candidate
lookup joins them to their mentions), and the unused index on a mention's name goes

A first load writes three or four name keys per person mention; the foreign key's check of
each (a row lock on the mention it names) cost more than the key's own row and index entries.
No statement looks mentions up by their exact name (a party-name filter is a case-insensitive
prefix match, which a b-tree on the name cannot serve), so that index was only written.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY_MENTION = "fk_person_blocking_keys_mention_id_party_mentions"


def upgrade() -> None:
    with op.batch_alter_table("person_blocking_keys") as batch:
        batch.drop_constraint(_KEY_MENTION, type_="foreignkey")
    with op.batch_alter_table("party_mentions") as batch:
        batch.drop_index("ix_party_mentions_name")


def downgrade() -> None:
    with op.batch_alter_table("party_mentions") as batch:
        batch.create_index("ix_party_mentions_name", ["name"], unique=False)
    # keys whose mention went while no foreign key held them would fail the constraint
    op.execute(
        "DELETE FROM person_blocking_keys WHERE mention_id NOT IN (SELECT id FROM party_mentions)"
    )
    with op.batch_alter_table("person_blocking_keys") as batch:
        batch.create_foreign_key(
            _KEY_MENTION, "party_mentions", ["mention_id"], ["id"], ondelete="CASCADE"
        )
