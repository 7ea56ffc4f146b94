"""Canary of the lighter execution path: the benchmark page compiles fully.

The path leans on graphql-core and Strawberry internals. After an upgrade of either (or a
change to a type of the page), a field that silently stops compiling would make every page
slower without failing anything; this test fails instead, naming the fields that left it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from db.engine import session_factory
from domain.roles import Principal, Role
from resolvers.dataloaders import LoaderContext
from resolvers.root import schema
from schema.fastpath.handbacks import hand_back_counts
from tests.integration.graphql_world import seed_world, unlink_regions

STAFF = Principal(sub="staff", role=Role.CENTER_STAFF, regions=("41",))


def _bench_page() -> str:
    path = Path(__file__).parents[2] / "bench" / "page_query.py"
    spec = importlib.util.spec_from_file_location("page_query", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.QUERY_PAGE)


async def test_the_benchmark_page_compiles_fully(
    committing_engine: AsyncEngine, pii_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    general: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_field

    def counting(self: Any, parent_type: Any, source: Any, details: Any, *args: Any) -> Any:
        general.append(f"{parent_type.name}.{details[0].node.name.value}")
        return original(self, parent_type, source, details, *args)

    await seed_world(committing_engine, records=40)
    try:
        before = hand_back_counts()
        monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", counting)
        result = await schema.execute(
            _bench_page(),
            variable_values={"first": 40},
            context_value=LoaderContext(session_factory(committing_engine), STAFF),
        )
    finally:
        await unlink_regions(committing_engine)
    assert result.errors is None
    assert result.data is not None
    assert len(result.data["records"]["edges"]) > 20  # those in the jurisdiction
    # Only the root field (it takes arguments) runs on graphql-core's general path.
    assert general == ["Query.records"]
    assert hand_back_counts() == before
