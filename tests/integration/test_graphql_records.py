"""Reading records over GraphQL: one interface, five kinds, filters and keyset pages."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.kinds import KIND_SPECS
from domain.roles import Role
from tests.integration.graphql_world import (
    ID_NUMBER,
    PHONE,
    RECORD_REGIONS,
    World,
    codes,
    graphql,
    graphql_client,
    seed_world,
    unlink_regions,
)

QUERY_RECORDS = """
query Records($filter: RecordFilter, $orderBy: RecordOrder! = OCCURRED_AT_DESC,
              $first: Int, $after: String, $last: Int, $before: String) {
  records(filter: $filter, orderBy: $orderBy, first: $first, after: $after,
          last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      cursor
      node {
        id kind source sourceKey title occurredAt reportedAt regionCode status riskLevel
        region { code name level }
        parties { role name idNumber phone person { id name } }
        ... on Dispute { mediator amountInvolved }
        ... on GridEvent { gridCode }
        ... on PoliceAlert { alertNumber alarmTime }
        ... on Petition { handlingUnit numbers { level number } }
        ... on CourtFiling { caseNumber cause }
      }
    }
  }
}
"""

QUERY_POLICE_ALERTS = """
query { policeAlerts(first: 100) { totalCount nodes { __typename alertNumber kind } } }
"""

QUERY_NODE = """
query Node($id: ID!) { node(id: $id) { id __typename ... on Record { title } } }
"""

QUERY_NODES = """
query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id ... on Record { sourceKey } } }
"""

QUERY_LINKS = """
query { records(first: 2, orderBy: OCCURRED_AT_DESC) { nodes { sourceKey
  linkedRecords { direction linkKind confidence evidence record { sourceKey } } } } }
"""


@pytest.fixture
async def world(committing_engine: AsyncEngine) -> AsyncIterator[World]:
    yield await seed_world(committing_engine, records=40)
    await unlink_regions(committing_engine)


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes, world: World
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key) as client:
        yield client


async def _records(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    body = await graphql(client, QUERY_RECORDS, variables)
    assert "errors" not in body, body
    records: dict[str, Any] = body["data"]["records"]
    return records


def _keys(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["sourceKey"] for edge in page["edges"]]


async def test_records_list_every_kind_with_its_own_fields(
    client: httpx.AsyncClient, world: World
) -> None:
    # when the first page is read with default arguments
    page = await _records(client)
    # then 20 live records come newest first, each as its kind's type with its own fields
    visible = [rid for rid in world.record_ids if rid not in world.deleted_ids]
    assert page["totalCount"] == len(visible)
    assert _keys(page) == [f"K{rid}" for rid in visible[:20]]
    by_kind = {edge["node"]["kind"]: edge["node"] for edge in page["edges"]}
    assert by_kind["DISPUTE"]["mediator"].startswith("调解员")
    assert by_kind["DISPUTE"]["amountInvolved"] == "1200.50"
    assert by_kind["POLICE_ALERT"]["alertNumber"].startswith("JJ")
    assert by_kind["PETITION"]["numbers"][0]["level"] == "county"
    assert by_kind["COURT_FILING"]["caseNumber"].startswith("(2026)")
    assert by_kind["GRID_EVENT"]["gridCode"].startswith("G")
    assert by_kind["DISPUTE"]["region"] == {"code": "411202", "name": "湖滨区", "level": "COUNTY"}


async def test_party_identifiers_are_masked(client: httpx.AsyncClient) -> None:
    # when parties are read
    page = await _records(client, first=5)
    parties = [party for edge in page["edges"] for party in edge["node"]["parties"]]
    # then ID numbers and phones come masked, never whole
    sealed = [party for party in parties if party["idNumber"] is not None]
    assert sealed
    assert {party["idNumber"] for party in sealed} == {"4112**********123X"}
    assert {party["phone"] for party in sealed} == {"138****5678"}
    assert ID_NUMBER not in str(page) and PHONE not in str(page)


async def test_paging_forwards_and_backwards_visits_every_record_once(
    client: httpx.AsyncClient, world: World
) -> None:
    # given the whole list in one page
    everything = _keys(await _records(client, first=100))
    # when it is walked forwards 7 at a time
    forwards: list[str] = []
    after = None
    while True:
        page = await _records(client, first=7, after=after)
        forwards += _keys(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # and backwards from the end, 6 at a time
    backwards: list[str] = []
    before = None
    while True:
        page = await _records(client, last=6, before=before)
        backwards = _keys(page) + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    # then both walks see each record once, in the same stable order
    assert forwards == everything
    assert backwards == everything


async def test_orderings_are_stable_and_distinct(client: httpx.AsyncClient) -> None:
    # when the list is read oldest first, and by report time
    oldest = _keys(await _records(client, first=100, orderBy="OCCURRED_AT_ASC"))
    newest = _keys(await _records(client, first=100, orderBy="OCCURRED_AT_DESC"))
    reported = await _records(client, first=100, orderBy="REPORTED_AT_DESC")
    # then ascending is descending reversed, and report order falls back to occurredAt
    assert oldest == list(reversed(newest))
    keys = [edge["node"]["reportedAt"] or edge["node"]["occurredAt"] for edge in reported["edges"]]
    assert keys == sorted(keys, reverse=True)
    # and paging by report time continues where it left off
    first = await _records(client, first=5, orderBy="REPORTED_AT_DESC")
    second = await _records(
        client, first=5, orderBy="REPORTED_AT_DESC", after=first["pageInfo"]["endCursor"]
    )
    assert _keys(first) + _keys(second) == _keys(reported)[:10]


async def test_region_filter_matches_everything_beneath_a_city(
    client: httpx.AsyncClient,
) -> None:
    # when records are filtered by the city 411200 and by the county 411202
    city = await _records(client, first=100, filter={"region": "411200"})
    county = await _records(client, first=100, filter={"region": "411202"})
    # then the city holds its counties and township, the county its township only
    city_codes = {edge["node"]["regionCode"] for edge in city["edges"]}
    county_codes = {edge["node"]["regionCode"] for edge in county["edges"]}
    assert city_codes == {"411202", "411221", "411202001"}
    assert county_codes == {"411202", "411202001"}
    assert city["totalCount"] == len(city["edges"])


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    # when filtering by kind list, text, party name, time range and risk
    kinds = await _records(client, first=100, filter={"kind": ["DISPUTE", "PETITION"]})
    text = await _records(client, first=100, filter={"search": "漏水"})
    party = await _records(client, first=100, filter={"partyName": "黄"})
    window = await _records(
        client,
        first=100,
        filter={
            "occurredFrom": "2026-03-01T08:00:00+00:00",
            "occurredTo": "2026-03-01T12:00:00+00:00",
        },
    )
    red = await _records(client, first=100, filter={"riskLevel": ["RED"], "source": ["GRID"]})
    # then each narrows the list as a user would expect
    assert {edge["node"]["kind"] for edge in kinds["edges"]} == {"DISPUTE", "PETITION"}
    assert text["edges"] and all("漏水" in edge["node"]["title"] for edge in text["edges"])
    assert party["edges"] and all(
        any(p["name"].startswith("黄") for p in edge["node"]["parties"]) for edge in party["edges"]
    )
    assert [edge["node"]["occurredAt"][11:] for edge in window["edges"]] == [
        "19:00:00+08:00", "18:00:00+08:00", "17:00:00+08:00", "16:00:00+08:00",
    ]  # fmt: skip  # 11:00 to 08:00 UTC, served in Beijing time
    assert all(
        edge["node"]["riskLevel"] == "RED" and edge["node"]["source"] == "GRID"
        for edge in red["edges"]
    )


async def test_deleted_records_are_hidden_unless_asked(
    client: httpx.AsyncClient, world: World
) -> None:
    # when listing with and without includeDeleted
    live = await _records(client, first=100)
    everything = await _records(client, first=100, filter={"includeDeleted": True})
    # then tombstoned records appear only when asked for
    deleted_keys = {f"K{rid}" for rid in world.deleted_ids}
    assert deleted_keys.isdisjoint(_keys(live))
    assert deleted_keys <= set(_keys(everything))


async def test_per_kind_connection_lists_only_that_kind(client: httpx.AsyncClient) -> None:
    body = await graphql(client, QUERY_POLICE_ALERTS)
    alerts = body["data"]["policeAlerts"]
    assert alerts["totalCount"] == len(alerts["nodes"]) > 0
    assert {node["__typename"] for node in alerts["nodes"]} == {"PoliceAlert"}


async def test_node_and_nodes_resolve_global_ids(client: httpx.AsyncClient) -> None:
    # given the ids of the first two records
    page = await _records(client, first=2)
    ids = [edge["node"]["id"] for edge in page["edges"]]
    # when fetched by node and nodes, with one unknown id of a known type
    one = await graphql(client, QUERY_NODE, {"id": ids[0]})
    unknown = "RGlzcHV0ZTo5OTk5OTk="  # Dispute:999999
    many = await graphql(client, QUERY_NODES, {"ids": [*ids, unknown]})
    # then each answers as Relay expects: nodes has null for the unknown id, and no error
    assert one["data"]["node"]["id"] == ids[0]
    assert [n and n["sourceKey"] for n in many["data"]["nodes"]] == [*_keys(page), None]
    assert "errors" not in many, many


async def test_nodes_answers_each_id_on_its_own(client: httpx.AsyncClient) -> None:
    # given two records' ids, a malformed id and a well-formed one that names nothing
    page = await _records(client, first=2)
    first, second = (edge["node"]["id"] for edge in page["edges"])
    unknown = "RGlzcHV0ZTo5OTk5OTk="  # Dispute:999999
    # when they are asked for in one list
    body = await graphql(client, QUERY_NODES, {"ids": [first, "not-an-id", unknown, second]})
    # then the two records are answered, the others are null in their places
    assert [n and n["sourceKey"] for n in body["data"]["nodes"]] == [
        _keys(page)[0], None, None, _keys(page)[1]
    ]  # fmt: skip
    # and only the malformed id has an error, coded, at its index (the unknown is Relay's null)
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["nodes", 1], "BAD_USER_INPUT")
    ]


async def test_nodes_out_of_jurisdiction_is_null_as_an_unknown_id_is(
    committing_engine: AsyncEngine, pii_key: bytes, world: World
) -> None:
    # given staff of 郑州市 (410100), a record there, one in 湖滨区 outside their reach and an
    # id of the same type naming nothing
    inside = world.record_ids[RECORD_REGIONS.index("410100")]
    outside = world.record_ids[RECORD_REGIONS.index("411202")]
    type_name = KIND_SPECS[world.kinds[outside]].type_name
    unknown = base64.b64encode(f"{type_name}:999999".encode()).decode()
    ids = [_global_id(world, inside), _global_id(world, outside)]
    async with graphql_client(
        committing_engine, pii_key, role=Role.CENTER_STAFF, regions=["410100"]
    ) as staff:
        body = await graphql(staff, QUERY_NODES, {"ids": ids})
        nothing = await graphql(staff, QUERY_NODES, {"ids": [ids[0], unknown]})
    # then only the record within their jurisdiction is answered; the other is null, without
    # an error, exactly as an id naming nothing is: the answer does not tell them apart
    assert [n and n["sourceKey"] for n in body["data"]["nodes"]] == [f"K{inside}", None]
    assert body == nothing and "errors" not in body, body


def _global_id(world: World, record_id: int) -> str:
    type_name = KIND_SPECS[world.kinds[record_id]].type_name
    return base64.b64encode(f"{type_name}:{record_id}".encode()).decode()


async def test_unknown_node_is_null_with_not_found(client: httpx.AsyncClient) -> None:
    body = await graphql(client, QUERY_NODE, {"id": "RGlzcHV0ZTo5OTk5OTk="})
    assert body["data"]["node"] is None
    assert codes(body) == ["NOT_FOUND"]


async def test_linked_records_show_both_directions(client: httpx.AsyncClient) -> None:
    body = await graphql(client, QUERY_LINKS)
    first, second = body["data"]["records"]["nodes"]
    assert first["linkedRecords"] == [
        {"direction": "OUTGOING", "linkKind": "SAME_PARTY", "confidence": 0.92,
         "evidence": [{"rule": "id_number_match"}], "record": {"sourceKey": second["sourceKey"]}}
    ]  # fmt: skip
    assert second["linkedRecords"][0]["direction"] == "INCOMING"
