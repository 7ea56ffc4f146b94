"""Persons, regions and sync status over GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import PartyMention, Person
from domain.enums import PartyRole, Role
from resolvers.rows import global_id
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import (
    graphql,
    graphql_client,
    seed_sync,
    seed_world,
    unlink_regions,
)
from tests.integration.security_world import (
    INSIDE,
    OUTSIDE,
    UNPLACED_ID,
    seed_security_world,
)

QUERY_PERSONS = """
query($search: String, $first: Int, $after: String) {
  persons(search: $search, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name idNumber phone region { name } }
  }
}
"""
QUERY_PERSON = (
    "query($id: ID!) { person(id: $id) { name } node(id: $id) { ... on Person { name } } }"
)
QUERY_REGIONS = """
query { top: regions { code } city: regions(parent: "411200") { code name level }
        region(code: "411202001") { name level parent { code parent { code } } } }
"""
QUERY_HOME_REGION = """
query($id: ID!) {
  person(id: $id) { regionCode region { code } }
  persons(search: "张") { nodes { regionCode } }
  disputes(first: 5) { nodes { parties { person { regionCode } } } }
}
"""
QUERY_PERSONS_EVERYWHERE = """
query($id: ID!) {
  person(id: $id) { id regionCode }
  persons { nodes { id regionCode } }
  records(first: 20) { nodes { id parties { person { id regionCode } } } }
}
"""
QUERY_SYNC = """
query { syncStatus { source watermark breakerState consecutiveFailures lastSuccessAt
  openDeadLetters lastRun { status fetched inserted updated deadLettered error } } }
"""


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_world(committing_engine, records=10)
    await seed_sync(committing_engine)
    async with graphql_client(committing_engine, pii_key) as client:
        yield client
    await unlink_regions(committing_engine)


async def test_persons_search_by_name_prefix_with_masked_identifiers(
    client: httpx.AsyncClient,
) -> None:
    # when persons are searched by a surname
    body = await graphql(client, QUERY_PERSONS, {"search": "张"})
    persons = body["data"]["persons"]
    # then the matching person comes back, identifiers masked
    assert persons["totalCount"] == 1
    assert persons["nodes"] == [
        {"id": persons["nodes"][0]["id"], "name": "张三", "idNumber": "4112**********123X",
         "phone": "138****5678", "region": {"name": "湖滨区"}}
    ]  # fmt: skip


async def test_persons_page_through_everyone(client: httpx.AsyncClient) -> None:
    first = (await graphql(client, QUERY_PERSONS, {"first": 5}))["data"]["persons"]
    rest = (
        await graphql(client, QUERY_PERSONS, {"first": 5, "after": first["pageInfo"]["endCursor"]})
    )["data"]["persons"]
    names = [p["name"] for p in first["nodes"] + rest["nodes"]]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert len(names) == len(set(names)) == first["totalCount"] == 8


async def test_person_by_id_and_as_a_node(client: httpx.AsyncClient) -> None:
    search = await graphql(client, QUERY_PERSONS, {"search": "李"})
    person_id = search["data"]["persons"]["nodes"][0]["id"]
    body = await graphql(client, QUERY_PERSON, {"id": person_id})
    assert body["data"] == {"person": {"name": "李四"}, "node": {"name": "李四"}}


async def test_regions_walk_the_tree(client: httpx.AsyncClient) -> None:
    body = await graphql(client, QUERY_REGIONS)
    data = body["data"]
    assert [r["code"] for r in data["top"]] == ["410000"]
    assert [r["code"] for r in data["city"]] == ["411202", "411221"]
    assert data["region"] == {
        "name": "湖滨街道", "level": "TOWNSHIP",
        "parent": {"code": "411202", "parent": {"code": "411200"}},
    }  # fmt: skip


async def test_sync_status_reports_every_source(client: httpx.AsyncClient) -> None:
    body = await graphql(client, QUERY_SYNC)
    statuses = {s["source"]: s for s in body["data"]["syncStatus"]}
    assert set(statuses) == {"MEDIATION", "GRID", "POLICE_110", "PETITION", "COURT"}
    police = statuses["POLICE_110"]
    assert police["breakerState"] == "OPEN"
    assert police["consecutiveFailures"] == 3
    assert police["openDeadLetters"] == 2
    assert police["lastRun"] == {
        "status": "FAILED", "fetched": 10, "inserted": 4, "updated": 3, "deadLettered": 2,
        "error": "SERVER_ERROR: POLICE_110: server error 503",  # why the run FAILED
    }  # fmt: skip
    assert statuses["COURT"] == {
        "source": "COURT", "watermark": None, "breakerState": "CLOSED",
        "consecutiveFailures": 0, "lastSuccessAt": None, "openDeadLetters": 0, "lastRun": None,
    }  # fmt: skip


async def test_a_persons_region_outside_the_jurisdiction_is_not_shown(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    # given 张三, named by a record inside, whose most precise place came from a record of
    # theirs in another jurisdiction
    world = await seed_security_world(committing_engine)
    person_id = world.persons[INSIDE]
    async with committing_engine.begin() as connection:
        await connection.execute(
            update(Person).where(Person.id == person_id).values(region_code=OUTSIDE + "001")
        )
    variables = {"id": global_id("Person", person_id)}
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        inside = await graphql(client, QUERY_HOME_REGION, variables,
                               headers=bearer(Role.CENTER_STAFF, [INSIDE]))  # fmt: skip
        both = await graphql(client, QUERY_HOME_REGION, variables,
                             headers=bearer(Role.CENTER_STAFF, [INSIDE, OUTSIDE]))  # fmt: skip
    # then a reader of 湖滨区 alone is not told where else the person has a record, however
    # it reaches the person (by id, by search, through a party on a page)
    assert "errors" not in inside, inside
    data = inside["data"]
    assert data["person"] == {"regionCode": None, "region": None}
    assert data["persons"]["nodes"] == [{"regionCode": None}]
    assert _person_regions(data) == [None]
    # and a reader of both places is
    assert both["data"]["person"]["regionCode"] == OUTSIDE + "001"
    assert both["data"]["persons"]["nodes"] == [{"regionCode": OUTSIDE + "001"}]
    assert set(_person_regions(both["data"])) == {OUTSIDE + "001", OUTSIDE}


def _person_regions(data: dict[str, Any]) -> list[str | None]:
    return [
        party["person"]["regionCode"]
        for node in data["disputes"]["nodes"]
        for party in node["parties"]
    ]


async def test_an_administrator_without_regions_reads_persons_of_unplaced_records(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    # given 张三, named by the record without a region too, and an administrator whose token
    # carries no regions (no placed record within reach, the unplaced ones readable)
    world = await seed_security_world(committing_engine)
    person_id = world.persons[INSIDE]
    async with committing_engine.begin() as connection:
        await connection.execute(
            insert(PartyMention).values(
                record_id=UNPLACED_ID, position=0, role=PartyRole.APPLICANT, name="张三",
                is_organisation=False, person_id=person_id,
            )
        )  # fmt: skip
    person = global_id("Person", person_id)
    # when they read the person by id, the persons list and the record's parties
    async with graphql_client(committing_engine, pii_key, role=None) as client:
        body = await graphql(
            client, QUERY_PERSONS_EVERYWHERE, {"id": person}, headers=bearer(Role.ADMIN, [])
        )
    # then each answers the person, its region (湖滨区, outside their reach) not shown
    assert "errors" not in body, body
    data = body["data"]
    assert data["person"] == {"id": person, "regionCode": None}
    assert data["persons"]["nodes"] == [{"id": person, "regionCode": None}]
    assert data["records"]["nodes"] == [
        {"id": global_id("Dispute", UNPLACED_ID),
         "parties": [{"person": {"id": person, "regionCode": None}}]}
    ]  # fmt: skip
