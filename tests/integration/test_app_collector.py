"""The app's lifespan tunes the garbage collector (hub/app.py, domain/heap.py) and gives the
setting back."""

from __future__ import annotations

import gc

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.heap import YOUNG_COLLECTION_THRESHOLD
from tests.integration.graphql_world import graphql, graphql_client

QUERY_VERSION = "{ version }"


async def test_the_young_generation_is_collected_less_often_while_the_app_runs(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    # given the process's collector settings before the app starts
    before = gc.get_threshold()
    # when the app runs and answers a query
    async with graphql_client(committing_engine, pii_key) as client:
        body = await graphql(client, QUERY_VERSION)
        during = gc.get_threshold()
    # then it collected young objects every YOUNG_COLLECTION_THRESHOLD allocations, the
    # older generations as before, and gave the settings back when it stopped
    assert "errors" not in body
    assert during == (YOUNG_COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
