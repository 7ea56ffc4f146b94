"""PostgreSQL sessions keep one generic plan per prepared statement (db/engine.py).

At PostgreSQL's default a statement binding a list of ids is planned again at every
execution; govhub's sessions start with ``plan_cache_mode`` set so that it is planned once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import Integer, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import PLAN_CACHE_MODE, PlanCacheMode, create_engine
from tests.conftest import scratch_schema

pytestmark = pytest.mark.postgres

BY_IDS = text(
    "SELECT n FROM generate_series(1, 1000) AS n WHERE n = ANY(:ids) -- govhub plan cache test"
).bindparams(bindparam("ids", type_=ARRAY(Integer)))


@asynccontextmanager
async def _engine(mode: PlanCacheMode | None) -> AsyncIterator[tuple[AsyncEngine, str]]:
    async with scratch_schema("govhub_plans") as (url, schema):
        extra = {} if mode is None else {"plan_cache_mode": mode}
        engine = create_engine(url, schema=schema, **extra)
        try:
            yield engine, schema
        finally:
            await engine.dispose()


async def _plans_of_ten_reads(engine: AsyncEngine) -> tuple[int, int]:
    """How often PostgreSQL ran its one cached generic plan, and how often it planned the
    statement anew (a custom plan), over ten executions of one prepared statement."""
    async with engine.connect() as connection:
        for first in range(10):
            rows = (await connection.execute(BY_IDS, {"ids": [first + 1, first + 2]})).all()
            assert [row.n for row in rows] == [first + 1, first + 2]
        plans = await connection.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%govhub plan cache test%'"
                " AND statement NOT LIKE '%pg_prepared_statements%'"
            )
        )
        generic, custom = plans.one()
        return int(generic), int(custom)


async def test_a_session_starts_with_generic_plans_and_its_schema() -> None:
    async with _engine(None) as (engine, schema):
        async with engine.connect() as connection:
            mode = (await connection.execute(text("SHOW plan_cache_mode"))).scalar_one()
            path = (await connection.execute(text("SHOW search_path"))).scalar_one()
        assert mode == PLAN_CACHE_MODE == "force_generic_plan"
        assert schema in path


async def test_a_statement_binding_ids_is_planned_once_not_at_every_execution() -> None:
    async with _engine(None) as (engine, _):
        generic, custom = await _plans_of_ten_reads(engine)
        assert (generic, custom) == (10, 0)


async def test_auto_restores_postgresql_planning_each_execution_anew() -> None:
    async with _engine("auto") as (engine, _):
        async with engine.connect() as connection:
            assert (await connection.execute(text("SHOW plan_cache_mode"))).scalar_one() == "auto"
        generic, custom = await _plans_of_ten_reads(engine)
        assert (generic, custom) == (0, 10)  # what the setting exists to avoid
