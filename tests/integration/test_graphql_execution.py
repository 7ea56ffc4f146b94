"""Over the real schema and database, the lighter execution path answers as the general one."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from domain.roles import Principal, Role
from resolvers.dataloaders import LoaderContext
from schema.execution import PlainFieldExecutor
from schema.root import GovhubSchema, build_schema, schema
from tests.integration.graphql_world import seed_world, unlink_regions
from tests.integration.test_graphql_records import QUERY_RECORDS

STAFF = Principal(sub="staff", role=Role.CENTER_STAFF, regions=("41",))
PEOPLE = """
query { persons(search: "") { edges { node { id name regionCode idNumber phone
  records { occurredAt kind roles mentionIds
    record { __typename id status riskLevel title parties { role name person { id } } } } } } } }
"""


GENERAL = build_schema(streamlined=False)


async def _answer(
    on: GovhubSchema, engine: AsyncEngine, document: str, variables: dict[str, object]
) -> str:
    result = await on.execute(
        document,
        variable_values=variables,
        context_value=LoaderContext(session_factory(engine), STAFF),
    )
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("document", "variables"),
    [(QUERY_RECORDS, {"first": 40}), (QUERY_RECORDS, {"last": 7}), (PEOPLE, {})],
    ids=["records-first", "records-last", "persons"],
)
async def test_pages_are_identical_on_both_execution_paths(
    committing_engine: AsyncEngine,
    pii_key: bytes,
    document: str,
    variables: dict[str, object],
) -> None:
    await seed_world(committing_engine, records=40)
    try:
        assert schema.execution_context_class is PlainFieldExecutor
        assert GENERAL.execution_context_class is not PlainFieldExecutor
        fast = await _answer(schema, committing_engine, document, variables)
        general = await _answer(GENERAL, committing_engine, document, variables)
    finally:
        await unlink_regions(committing_engine)
    assert '"errors": []' in fast
    assert _objects(json.loads(fast)["data"]) > 40  # a real page, not an empty one
    assert fast == general


def _objects(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(item) for item in value.values())
    if isinstance(value, list):
        return sum(_objects(item) for item in value)
    return 0
