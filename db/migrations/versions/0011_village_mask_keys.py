"""person_blocking_keys: a name's one-character-masked keys (``mk:王_明@…``) lie within its
village instead of its county, and a mention coded no finer than a township has none (see
:func:`domain.linking.evidence.name_block_keys`); the pinyin keys are unchanged

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from domain.linking.names import name_key
from domain.linking.organisations import looks_like_organisation
from domain.linking.places import canonical_region

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000
_MENTIONS = (
    "SELECT m.id, m.name, m.is_organisation, m.uscc, r.region_code "
    "FROM party_mentions m JOIN records r ON r.id = m.record_id WHERE m.id > :after"
)


def upgrade() -> None:
    # only a code of 12 digits or more can name a village (canonical_region decides)
    _replace_masks(_village, f"{_MENTIONS} AND length(r.region_code) >= 12")


def downgrade() -> None:
    _replace_masks(_county, _MENTIONS)


def _village(region: str | None) -> str | None:
    return region[:12] if region and len(region) >= 12 else None


def _county(region: str | None) -> str | None:
    return region[:6] if region else "?"


def _replace_masks(scope_of: Callable[[str | None], str | None], mentions: str) -> None:
    """Drop every masked key, then key each person mention's masked name forms within the
    scope ``scope_of`` gives its canonical division code (none: no masked keys). Names and
    regions are plaintext."""
    connection = op.get_bind()
    connection.execute(sa.text("DELETE FROM person_blocking_keys WHERE key LIKE 'mk:%'"))
    keys = sa.table("person_blocking_keys", sa.column("key"), sa.column("mention_id"))
    page = sa.text(f"{mentions} ORDER BY m.id LIMIT {_BATCH}")
    after = 0
    while rows := connection.execute(page, {"after": after}).all():  # a city's mentions, by pages
        after = rows[-1][0]
        pending: list[dict[str, object]] = []
        for mention_id, name, is_organisation, uscc, region in rows:
            scope = scope_of(canonical_region(region))
            if scope is None or is_organisation or uscc or looks_like_organisation(name):
                continue
            pending.extend(
                {"key": f"{mask}@{scope}", "mention_id": mention_id}
                for mask in name_key(name).mask_keys
            )
        if pending:
            connection.execute(sa.insert(keys), pending)
