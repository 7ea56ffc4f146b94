"""Candidate persons by blocking key, fetched from the database (候选人员分块查询).

Incremental resolution compares a new mention only with the most recent
:data:`~domain.linking.persons.BLOCK_WINDOW` stored members of each of its blocks (the latest
one for an ID number), and a name block over
:data:`~domain.linking.persons.MAX_NAME_BLOCK` members adds no pairs at all. So a batch needs
those members and, for a full window, the block's size up to that cap — not every person of
its counties. Name blocks live in ``person_blocking_keys``; ID numbers and phones are found by
the blind indexes on ``party_mentions``. On PostgreSQL each key is one ``LATERAL`` index scan
that stops at its limit; SQLite (embedded, small) ranks the members with window functions.
A member counts only once resolution has placed it (``person_id`` set).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.linking.persons import BLOCK_WINDOW, MAX_NAME_BLOCK

_CHUNK = 500

NAME_KEYS = ("person_blocking_keys b JOIN party_mentions m ON m.id = b.mention_id", "b.key",
             "b.mention_id")  # fmt: skip
# Members by ID number or phone are ordered by ``m.id + 0``: ordered by ``m.id`` itself,
# PostgreSQL walked the primary key backwards filtering every row until one matched, not the
# blind index's few rows (seconds a chunk at 1,000,000 records for an old key). For the same
# reason a member is "placed" by ``m.person_id + 0``: statistics taken while a batch's
# mentions wait for resolution price ``person_id IS NOT NULL`` at one row, and PostgreSQL then
# scanned every placed mention by ``ix_party_mentions_person_id`` for each name key (160 ms a
# chunk of 20,000 records) instead of joining one mention by its primary key.
_ID = ("party_mentions m", "m.id_number_index", "m.id + 0")
_PHONE = ("party_mentions m", "m.phone_index", "m.id + 0")


@dataclass
class Candidates:
    """Stored mentions to index, and the size (up to the cap) of each name block they fill."""

    mention_ids: set[int] = field(default_factory=set)
    block_sizes: dict[str, int] = field(default_factory=dict)


def _chunks(values: Collection[str]) -> list[list[str]]:
    items = sorted(set(values))
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


PLACED = "m.person_id + 0 IS NOT NULL"
"""A member counts once resolution has placed it; written so that no plan reaches the mentions
through ``ix_party_mentions_person_id`` (see above)."""


def latest_sql(source: tuple[str, str, str]) -> str:
    """PostgreSQL's statement for :func:`_latest`: one ``LATERAL`` index scan per value."""
    tables, column, order = source
    return (
        f"SELECT k.v, c.id FROM unnest(CAST(:values AS text[])) AS k(v) "  # noqa: S608 -- fixed names
        f"CROSS JOIN LATERAL (SELECT {order} AS id FROM {tables} WHERE {column} = k.v "
        f"AND {PLACED} ORDER BY {order} DESC LIMIT :limit) c"
    )


async def _latest(
    session: AsyncSession, source: tuple[str, str, str], values: list[str], limit: int
) -> list[tuple[str, int]]:
    """(block value, mention id) of the ``limit`` most recent placed members per value."""
    tables, column, order = source
    if session.get_bind().dialect.name == "postgresql":
        statement = text(latest_sql(source))
    else:
        statement = text(
            f"SELECT v, id FROM (SELECT {column} AS v, {order} AS id, row_number() OVER "  # noqa: S608 -- fixed names
            f"(PARTITION BY {column} ORDER BY {order} DESC) AS rank FROM {tables} "
            f"WHERE {column} IN :values AND m.person_id IS NOT NULL) WHERE rank <= :limit"
        ).bindparams(bindparam("values", expanding=True))
    rows = await session.execute(statement, {"values": values, "limit": limit})
    return [(value, mention_id) for value, mention_id in rows]


async def _sizes(session: AsyncSession, keys: list[str]) -> dict[str, int]:
    """Each name block's placed members, counted up to one over the cap."""
    tables, column, _ = NAME_KEYS
    cap = MAX_NAME_BLOCK + 1
    if session.get_bind().dialect.name == "postgresql":
        statement = text(
            f"SELECT k.v, (SELECT count(*) FROM (SELECT 1 FROM {tables} WHERE {column} = k.v "  # noqa: S608 -- fixed names
            f"AND {PLACED} LIMIT :cap) t) FROM unnest(CAST(:values AS text[])) "
            f"AS k(v)"
        )
    else:
        statement = text(
            f"SELECT {column}, min(count(*), :cap) FROM {tables} WHERE {column} IN :values "  # noqa: S608 -- fixed names
            f"AND m.person_id IS NOT NULL GROUP BY {column}"
        ).bindparams(bindparam("values", expanding=True))
    rows = await session.execute(statement, {"values": keys, "cap": cap})
    return {key: int(size) for key, size in rows}


async def candidates(
    session: AsyncSession,
    name_keys: Collection[str],
    id_indexes: Collection[str] = (),
    phone_indexes: Collection[str] = (),
) -> Candidates:
    """The stored mentions a batch with these blocking keys can be compared with."""
    found = Candidates()
    for source, values, limit in (
        (_ID, id_indexes, 1),
        (_PHONE, phone_indexes, BLOCK_WINDOW),
    ):
        for chunk in _chunks(values):
            found.mention_ids.update(i for _, i in await _latest(session, source, chunk, limit))
    for chunk in _chunks(name_keys):
        per_key: dict[str, int] = {}
        for key, mention_id in await _latest(session, NAME_KEYS, chunk, BLOCK_WINDOW):
            found.mention_ids.add(mention_id)
            per_key[key] = per_key.get(key, 0) + 1
        full = [key for key, count in per_key.items() if count >= BLOCK_WINDOW]
        if full:
            found.block_sizes.update(await _sizes(session, full))
    return found
