"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Base


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
