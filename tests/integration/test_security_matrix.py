"""Who sees what: every role × every record kind × inside/outside the jurisdiction.

The principal's jurisdiction is 湖滨区 (411202); each kind has one record there and one in
双流区 (510129). Visible, masked and refused are asserted for each cell.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay.utils import to_base64

from domain.enums import RecordKind
from domain.kinds import KINDS
from domain.roles import POLICIES, Role
from resolvers.rows import TYPE_OF_KIND
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import codes, graphql, graphql_client
from tests.integration.security_world import (
    INSIDE,
    LINK_ACROSS,
    MASKED_ID,
    MASKED_PHONE,
    OUTSIDE,
    SUMMARY,
    UNPLACED_ID,
    SecurityWorld,
    seed_security_world,
    wipe,
)

QUERY_NODE = "query($id: ID!) { node(id: $id) { id ... on Record { kind } } }"
QUERY_PARTIES = "query($id: ID!) { node(id: $id) { ... on Record { parties { idNumber phone } } } }"
QUERY_SUMMARY = "query($id: ID!) { node(id: $id) { ... on Record { summary address } } }"
QUERY_COORDINATES = (
    "query($id: ID!) { node(id: $id) { ... on GridEvent { longitude latitude } } }"
)
QUERY_KIND_LIST = "query { %s(first: 20) { totalCount nodes { id } } }"
QUERY_TOTAL = "query { records(first: 20) { totalCount nodes { id kind } } }"
QUERY_RECORDS_OF_KIND = (
    "query($kind: [RecordKind!]) { records(first: 20, filter: {kind: $kind}) "
    "{ totalCount nodes { id } } }"
)
QUERY_LINKS = (
    "query($id: ID!) { node(id: $id) { ... on Record { linkedRecords { record { id } } } } }"
)
QUERY_PERSONS = "query { persons { totalCount nodes { name } } }"
QUERY_FIGURES = "query { recordStats(groupBy: [KIND]) { key { kind } count suppressed } }"
LIST_FIELD = {spec.kind: spec.list_field for spec in KINDS}


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> AsyncIterator[SecurityWorld]:
    await wipe(engine)
    yield await seed_security_world(engine)
    await wipe(engine)


@pytest.fixture(scope="module")
async def client(
    engine: AsyncEngine, pii_key: bytes, world: SecurityWorld
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(engine, pii_key, role=None) as client:
        yield client


def _gid(kind: RecordKind, pk: int) -> str:
    return to_base64(TYPE_OF_KIND[kind].__name__, pk)


def _unplaced(role: Role, kind: RecordKind) -> list[str]:
    """The record without a region: listed for admin only (it is a dispute)."""
    if role is Role.ADMIN and kind is RecordKind.DISPUTE:
        return [_gid(kind, UNPLACED_ID)]
    return []


async def _ask(
    client: httpx.AsyncClient, role: Role, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    return await graphql(client, query, variables, headers=bearer(role, [INSIDE]))


@pytest.mark.parametrize("kind", list(RecordKind))
@pytest.mark.parametrize("role", list(Role))
async def test_role_kind_and_jurisdiction(
    client: httpx.AsyncClient, world: SecurityWorld, role: Role, kind: RecordKind
) -> None:
    policy = POLICIES[role]
    reads_kind = kind in policy.kinds
    for region in (INSIDE, OUTSIDE):
        gid = _gid(kind, world.ids[(kind, region)])
        visible = reads_kind and region == INSIDE
        # node(): visible, or NOT_FOUND (its existence does not leak); auditor reads no records,
        # the dashboard figures only
        body = await _ask(client, role, QUERY_NODE, {"id": gid})
        if not policy.kinds or not policy.records:
            assert codes(body) == ["FORBIDDEN"] and body["data"] is None
            continue
        if visible:
            assert body["data"]["node"] == {"id": gid, "kind": kind.value}, (role, region)
        else:
            assert body["data"]["node"] is None and codes(body) == ["NOT_FOUND"], (role, region)
            continue
        # parties: masked for roles that read parties, refused for the rest
        body = await _ask(client, role, QUERY_PARTIES, {"id": gid})
        if policy.parties:
            assert body["data"]["node"]["parties"] == [
                {"idNumber": MASKED_ID[region], "phone": MASKED_PHONE[region]}
            ]
        else:
            assert codes(body) == ["FORBIDDEN"] and body["data"] is None
        # free text: summary and address, refused without the right
        body = await _ask(client, role, QUERY_SUMMARY, {"id": gid})
        if policy.free_text:
            assert body["data"]["node"]["summary"] == SUMMARY
        else:
            assert codes(body) == ["FORBIDDEN", "FORBIDDEN"]  # summary and address, each named
            assert body["data"] is None
    # the kind's own list: only the record inside, counted alone; refused if the kind is not read
    body = await _ask(client, role, QUERY_KIND_LIST % LIST_FIELD[kind])
    if reads_kind and policy.records:
        listed = body["data"][LIST_FIELD[kind]]
        expected = [_gid(kind, world.ids[kind, INSIDE]), *_unplaced(role, kind)]
        assert listed == {"totalCount": len(expected), "nodes": [{"id": i} for i in expected]}
    else:
        assert codes(body) == ["FORBIDDEN"] and body["data"] is None
    # records filtered by the kind: the same answer as the kind's own list, FORBIDDEN included
    body = await _ask(client, role, QUERY_RECORDS_OF_KIND, {"kind": [kind.value]})
    if reads_kind and policy.records:
        listed = body["data"]["records"]
        expected = [_gid(kind, world.ids[kind, INSIDE]), *_unplaced(role, kind)]
        assert listed == {"totalCount": len(expected), "nodes": [{"id": i} for i in expected]}
    else:
        assert codes(body) == ["FORBIDDEN"] and body["data"] is None, role


@pytest.mark.parametrize("role", list(Role))
async def test_records_and_totals_hold_only_readable_kinds_inside(
    client: httpx.AsyncClient, world: SecurityWorld, role: Role
) -> None:
    body = await _ask(client, role, QUERY_TOTAL)
    policy = POLICIES[role]
    if not policy.kinds or not policy.records:
        assert codes(body) == ["FORBIDDEN"]
        return
    page = body["data"]["records"]
    expected = {_gid(kind, world.ids[(kind, INSIDE)]) for kind in policy.kinds}
    expected |= set(_unplaced(role, RecordKind.DISPUTE))
    assert {node["id"] for node in page["nodes"]} == expected
    assert page["totalCount"] == len(expected)


async def test_records_without_a_region_are_seen_by_admin_only(
    client: httpx.AsyncClient, world: SecurityWorld
) -> None:
    gid = _gid(RecordKind.DISPUTE, UNPLACED_ID)
    admin = await graphql(client, QUERY_NODE, {"id": gid}, headers=bearer(Role.ADMIN, [INSIDE]))
    staff = await graphql(
        client, QUERY_NODE, {"id": gid}, headers=bearer(Role.CENTER_STAFF, ["410000", "510000"])
    )
    assert admin["data"]["node"] == {"id": gid, "kind": "DISPUTE"}
    assert staff["data"]["node"] is None and codes(staff) == ["NOT_FOUND"]


async def test_a_link_to_a_record_outside_is_not_shown(
    client: httpx.AsyncClient, world: SecurityWorld
) -> None:
    gid = _gid(RecordKind.DISPUTE, LINK_ACROSS[0])
    inside = await _ask(client, Role.CENTER_STAFF, QUERY_LINKS, {"id": gid})
    both = await graphql(
        client, QUERY_LINKS, {"id": gid}, headers=bearer(Role.CENTER_STAFF, [INSIDE, OUTSIDE])
    )
    assert inside["data"]["node"]["linkedRecords"] == []
    assert both["data"]["node"]["linkedRecords"] == [
        {"record": {"id": _gid(RecordKind.DISPUTE, LINK_ACROSS[1])}}
    ]


async def test_persons_are_those_named_by_records_in_reach(
    client: httpx.AsyncClient, world: SecurityWorld
) -> None:
    staff = await _ask(client, Role.CENTER_STAFF, QUERY_PERSONS)
    viewer = await _ask(client, Role.DASHBOARD_VIEWER, QUERY_PERSONS)
    assert staff["data"]["persons"] == {"totalCount": 1, "nodes": [{"name": "张三"}]}
    assert codes(viewer) == ["FORBIDDEN"] and viewer["data"] is None


async def test_no_regions_means_nothing(client: httpx.AsyncClient, world: SecurityWorld) -> None:
    body = await graphql(client, QUERY_TOTAL, headers=bearer(Role.CENTER_STAFF, []))
    assert body["data"]["records"] == {"totalCount": 0, "nodes": []}


@pytest.mark.parametrize("role", list(Role))
async def test_figures_count_only_readable_kinds_inside(
    client: httpx.AsyncClient, world: SecurityWorld, role: Role
) -> None:
    body = await _ask(client, role, QUERY_FIGURES)
    policy = POLICIES[role]
    if not policy.kinds:
        assert codes(body) == ["FORBIDDEN"] and body["data"] is None
        return
    expected = {kind: 1 + len(_unplaced(role, kind)) for kind in policy.kinds}
    # one record each: a cell too small to show a role that may not read parties
    assert {
        RecordKind(row["key"]["kind"]): (row["count"], row["suppressed"])
        for row in body["data"]["recordStats"]
    } == {
        kind: (count, False) if policy.parties else (None, True)
        for kind, count in expected.items()
    }


QUERY_TITLE = "query($id: ID!) { node(id: $id) { ... on Record { title } } }"
QUERY_PAGE_TITLES = "query { records(first: 20) { nodes { id title } } }"
QUERY_FILTERED = "query($filter: RecordFilter) { records(filter: $filter) { totalCount } }"


@pytest.mark.parametrize("role", [r for r in Role if POLICIES[r].kinds and POLICIES[r].records])
async def test_titles_are_the_sources_only_for_roles_reading_parties_and_free_text(
    client: httpx.AsyncClient, world: SecurityWorld, role: Role
) -> None:
    policy = POLICIES[role]
    full = policy.parties and policy.free_text
    kind = next(iter(sorted(policy.kinds)))
    record_id = world.ids[(kind, INSIDE)]
    # a title names parties and places: the source's for roles that read both, else
    # category and region (this world has no region names: the category alone)
    expected = f"纠纷{record_id}" if full else "邻里纠纷"
    body = await _ask(client, role, QUERY_TITLE, {"id": _gid(kind, record_id)})
    assert body["data"]["node"] == {"title": expected}, role
    # and so on every title of a page
    page = (await _ask(client, role, QUERY_PAGE_TITLES))["data"]["records"]["nodes"]
    assert page and all((node["title"] == "邻里纠纷") != full for node in page), role


@pytest.mark.parametrize(
    "role", [r for r in Role if RecordKind.GRID_EVENT in POLICIES[r].kinds and POLICIES[r].records]
)
async def test_a_grid_events_coordinates_are_refused_with_its_address(
    client: httpx.AsyncClient, world: SecurityWorld, role: Role
) -> None:
    # the grid places an event at the door: its coordinates say what its address says
    variables = {"id": _gid(RecordKind.GRID_EVENT, world.ids[(RecordKind.GRID_EVENT, INSIDE)])}
    address = await _ask(client, role, QUERY_SUMMARY, variables)
    coordinates = await _ask(client, role, QUERY_COORDINATES, variables)
    if POLICIES[role].free_text:
        assert "errors" not in address and "errors" not in coordinates, role
        assert coordinates["data"]["node"] == {"longitude": 111.2, "latitude": 34.77}
    else:
        assert set(codes(address)) == set(codes(coordinates)) == {"FORBIDDEN"}, role
        assert coordinates["data"] is None


@pytest.mark.parametrize("role", [r for r in Role if POLICIES[r].kinds and POLICIES[r].records])
@pytest.mark.parametrize(
    ("condition", "needs"),
    [({"partyName": "张"}, "parties"), ({"search": "噪音"}, "free_text"),
     ({"search": "纠纷"}, "free_text")],
    ids=["partyName", "search-summary", "search-title"],
)  # fmt: skip
async def test_a_filter_on_a_field_the_role_may_not_read_is_forbidden(
    client: httpx.AsyncClient, world: SecurityWorld, role: Role, condition: dict[str, str],
    needs: str,
) -> None:  # fmt: skip
    policy = POLICIES[role]
    # search tests titles, summaries and addresses: it needs parties and free text both
    allowed = policy.parties and (needs == "parties" or policy.free_text)
    body = await _ask(client, role, QUERY_FILTERED, {"filter": condition})
    if allowed:
        # every readable kind's record inside names 张三 and says 噪音 (admin's unplaced
        # record too, which names no one)
        unplaced = len(_unplaced(role, RecordKind.DISPUTE)) if "search" in condition else 0
        assert body["data"]["records"]["totalCount"] == len(policy.kinds) + unplaced, role
    else:
        assert codes(body) == ["FORBIDDEN"] and body["data"] is None, role
