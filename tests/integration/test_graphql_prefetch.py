"""The page prefetch reads what the loaders would: parties with persons in one statement."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db import people_queries
from db.queries import RecordScope
from domain.enums import RecordKind
from tests.integration.graphql_world import seed_world, unlink_regions

SCOPES = [
    RecordScope(kinds=frozenset(RecordKind), region_prefixes=("41",)),
    RecordScope(kinds=frozenset(RecordKind), region_prefixes=("411221",)),
    RecordScope(kinds=frozenset({RecordKind.DISPUTE}), region_prefixes=("4112",)),
    RecordScope(kinds=frozenset(RecordKind), region_prefixes=("99",)),
]


@pytest.mark.parametrize("scope", SCOPES)
async def test_parties_with_persons_match_the_two_statements_they_replace(
    committing_engine: AsyncEngine, scope: RecordScope
) -> None:
    # given a world with deleted records, and persons some scopes cannot see
    world = await seed_world(committing_engine, records=40)
    try:
        async with committing_engine.connect() as connection:
            ids = world.record_ids  # withdrawn ones too, as includeDeleted lists them
            by_ids = {people_queries.RECORD_IDS: ids}
            combined = (
                (await connection.execute(people_queries.parties_with_persons(scope), by_ids))
                .mappings()
                .all()
            )
            parties = (
                (await connection.execute(people_queries.parties_of_records(), by_ids))
                .mappings()
                .all()
            )
            person_ids = sorted({p["person_id"] for p in parties if p["person_id"] is not None})
            visible = {
                row["id"]: dict(row)
                for row in (
                    await connection.execute(people_queries.persons_by_id(person_ids, scope))
                )
                .mappings()
                .all()
            }
    finally:
        await unlink_regions(committing_engine)
    # then the parties are the same, in the same order
    assert [{k: row[k] for k in parties[0]} for row in combined] == [dict(p) for p in parties]
    # and each party's person is there exactly when persons_by_id answers it
    label = people_queries.PERSON_LABEL
    for row in combined:
        expected = visible.get(row["person_id"]) if row["person_id"] is not None else None
        got = (
            None
            if row[label + "id"] is None
            else {key: row[label + key] for key in ("id", "name", "region_code",
                                                     "sealed_id_number", "sealed_phone")}
        )  # fmt: skip
        assert got == expected
