"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import is_at_head, upgrade
from db.models import Base
from tests.conftest import scratch_schema


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    # given a database built by the migrations alone (the session's engine is migrated to head)
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    # then autogenerate finds nothing left to migrate: no model change went without a migration
    assert differences == []


@pytest.mark.postgres
async def test_replicas_starting_together_migrate_once_without_failing() -> None:
    # given a new, empty schema and three hub processes starting at once (each migrates first)
    async with scratch_schema("govhub_migrate") as (url, schema):
        replicas = [create_engine(url, schema=schema) for _ in range(3)]
        try:
            # when they upgrade concurrently (without a lock they block one another: fail, not hang)
            async with asyncio.timeout(60):
                await asyncio.gather(*(upgrade(engine) for engine in replicas))
            # then every one of them finds the schema at head
            assert [await is_at_head(engine) for engine in replicas] == [True, True, True]
        finally:
            for engine in replicas:
                await engine.dispose()
