"""A bounded fuzzing run (bench/graphql_fuzz.py runs thousands against uvicorn): hostile
documents, arguments, bodies and headers never produce an internal error."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.root import schema
from tests.integration.graphql_fuzz import fuzz
from tests.integration.graphql_world import graphql_client, seed_world


async def test_fuzzed_requests_never_fail_internally(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    await seed_world(committing_engine, records=40)
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        tally = await fuzz(client, schema._schema, requests=400, seed=2026)
    assert tally.internal == [], tally.report()
    # and the run reached past authentication: answered, refused and malformed alike
    assert tally.codes["(none)"] > 20 and tally.codes["BAD_USER_INPUT"] > 10
    assert tally.statuses[400] > 10
