"""Over the real schema and database, the lighter execution path answers as the general one."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from domain.roles import Principal, Role
from resolvers.dataloaders import LoaderContext
from resolvers.root import GovhubSchema, build_schema, schema
from resolvers.rows import global_id
from schema.fastpath.executor import PlainFieldExecutor
from tests.integration.graphql_world import seed_world, unlink_regions
from tests.integration.test_graphql_records import QUERY_RECORDS

STAFF = Principal(sub="staff", role=Role.CENTER_STAFF, regions=("41",))
PEOPLE = """
query { persons(search: "") { edges { node { id name regionCode idNumber phone
  records { occurredAt kind roles mentionIds
    record { __typename id status riskLevel title parties { role name person { id } } } } } } } }
"""
# Nodes load lazily (nothing prefetched): relations arrive as loader futures.
NODES = """
query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Record { title riskLevel
  region { code name parent { code } } parties { role name person { id name } } } } }
"""

# The seeded world's kinds take turns (records 1, 6, 11 … are disputes, 2, 7, 12 … grid events).
NODE_IDS = [global_id("Dispute", n) for n in range(1, 41, 5)] + [
    global_id("GridEvent", n) for n in range(2, 41, 5)
]

GENERAL = build_schema(streamlined=False)


async def _answer(
    on: GovhubSchema,
    engine: AsyncEngine,
    principal: Principal,
    document: str,
    variables: dict[str, object],
) -> str:
    result = await on.execute(
        document,
        variable_values=variables,
        context_value=LoaderContext(session_factory(engine), principal),
    )
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("principal", "document", "variables"),
    [
        (STAFF, QUERY_RECORDS, {"first": 40}),
        (STAFF, QUERY_RECORDS, {"last": 7}),
        (STAFF, PEOPLE, {}),
        (STAFF, NODES, {"ids": NODE_IDS}),
    ],
    ids=["records-first", "records-last", "persons", "nodes-lazy"],
)
async def test_answers_are_identical_on_both_execution_paths(
    committing_engine: AsyncEngine,
    pii_key: bytes,
    principal: Principal,
    document: str,
    variables: dict[str, object],
) -> None:
    await seed_world(committing_engine, records=40)
    try:
        assert schema.execution_context_class is PlainFieldExecutor
        assert GENERAL.execution_context_class is not PlainFieldExecutor
        fast = await _answer(schema, committing_engine, principal, document, variables)
        general = await _answer(GENERAL, committing_engine, principal, document, variables)
    finally:
        await unlink_regions(committing_engine)
    assert '"errors": []' in fast  # errors inside compiled fields: tests/unit/test_execution.py
    assert _objects(json.loads(fast)["data"]) > 10  # a real answer, not an empty one
    assert fast == general


async def test_nodes_with_bad_ids_answer_alike_on_both_paths(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    # given good ids and, between them, a malformed one and ids naming nothing of their type
    ids = [*NODE_IDS[:3], "not-an-id", global_id("Dispute", 2), global_id("Petition", 10**6)]
    await seed_world(committing_engine, records=40)
    try:
        fast = await _answer(schema, committing_engine, STAFF, NODES, {"ids": ids})
        general = await _answer(GENERAL, committing_engine, STAFF, NODES, {"ids": ids})
    finally:
        await unlink_regions(committing_engine)
    # then both paths answer the good ones, null the others, and the same error (the
    # malformed id's alone) in the same place
    answer = json.loads(fast)
    assert [node is not None for node in answer["data"]["nodes"]] == [True] * 3 + [False] * 3
    assert [error["path"] for error in answer["errors"]] == [["nodes", 3]]
    assert fast == general


def _objects(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(item) for item in value.values())
    if isinstance(value, list):
        return sum(_objects(item) for item in value)
    return 0
