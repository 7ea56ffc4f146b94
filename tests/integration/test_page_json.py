"""Record pages built as JSON by PostgreSQL answer exactly as the general path.

Every document is asked twice of the same app, as the same principal: POSTed as JSON (the
answer the database may build, ``resolvers.page_json``) and as a GET (Strawberry's view,
which never takes that path). The answers and the audit rows' record and person ids must be
the same; on PostgreSQL the supported documents must have taken the path, on SQLite none.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

import resolvers.queries
from db.models import AuditEntry, PartyMention, Person, Record
from domain.enums import RecordKind
from domain.roles import Role
from schema.ids import global_id
from schema.kinds import TYPE_OF_KIND
from tests.integration.graphql_world import (
    DriverReads,
    codes,
    graphql,
    graphql_client,
    seed_world,
    unlink_regions,
)
from tests.integration.test_graphql_loaders import counting_statements


def type_name(kind: str) -> str:
    """The GraphQL type of a record kind (``DISPUTE`` → ``Dispute``)."""
    return TYPE_OF_KIND[RecordKind(kind)].__name__


PAGE = """query Page { records(first: 50) { edges { node {
  id kind source sourceKey title occurredAt status
  region { code name level }
  parties { role name person { id name } }
} } } }"""

EVERY_FIELD = """
fragment Common on Record { __typename id kind source sourceKey category sourceCategory }
query Every($first: Int, $after: String, $last: Int, $before: String,
            $order: RecordOrder! = OCCURRED_AT_DESC, $filter: RecordFilter) {
  records(first: $first, after: $after, last: $last, before: $before, orderBy: $order,
          filter: $filter) {
    __typename
    info: pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    edges { __typename at: cursor item: node {
      ...Common
      ... on Record { heading: title occurredAt reportedAt occurredOn reportedOn }
      ... { regionCode status sourceStatus riskLevel sourceUpdatedAt updatedAt deleted }
      region { __typename code name level population }
      parties { __typename role sourceRole name isOrganisation
                person { __typename id name regionCode } }
    } }
  }
}"""

NODES = """query { records(last: 9) {
  nodes { id title region { name } } pageInfo { endCursor } } }"""

NO_PARTIES = """query { records(first: 30) {
  edges { node { id kind occurredAt region { code } } } } }"""

NESTED = """query Nested { records(first: 10) { edges { node {
  id title
  parties { role person { id name records { record { id title } } } }
} } } }"""

TIMELINES = """query($first: Int) { records(first: $first, orderBy: OCCURRED_AT_ASC) { nodes {
  __typename id
  parties { __typename person { __typename id name regionCode
    entries: records { __typename occurredAt kind
      record { __typename id ... on Record { kind sourceKey title occurredOn riskLevel } } } } }
} } }"""

STAFF_REGIONS = ["411200"]

ESCAPED = '引号"与反斜杠\\、换行\n制表\t\u0001控制符 </script> 😀'
"""A title JSON must escape: quotes, backslash, control characters, a non-BMP character."""

# Documents the path leaves to the general one: a total, identifiers opened in Python, a
# person's records, a directive, a kind's own field.
GENERAL_ONLY = [
    """query { records(first: 5) { totalCount edges { node { id } } } }""",
    """query { records(first: 5) { edges { node { parties { idNumber phone } } } } }""",
    """query { records(first: 5) { edges { node {
      parties { person { records { roles } } } } } } }""",
    """query { records(first: 5) { edges { node {
      parties { person { records { record { region { code } } } } } } } } }""",
    """query($x: Boolean!) { records(first: 5) {
      edges { node { id title @include(if: $x) } } } }""",
    """query { records(first: 5) { edges { node { id ... on Dispute { mediator } } } } }""",
]


async def _seed(engine: AsyncEngine, *, merged: bool = False) -> None:
    """The world, with the instants the serialisation must get right: microseconds, the
    summer offset of 1988 (+09:00), local mean time before 1901, no report time; a record
    whose region code names no region, and an unresolved party; a title, a party's name and a
    person's name that JSON must escape; a person named by a withdrawn record only; with
    ``merged``, the second person merged into the first (a timeline then spans both)."""
    world = await seed_world(engine, records=40)
    if merged:
        async with engine.begin() as connection:
            await connection.execute(
                update(Person)
                .where(Person.id == world.person_ids[1])
                .values(merged_into_id=world.person_ids[0])
            )
    moments = [
        datetime(2026, 3, 1, 1, 2, 3, 450_000, tzinfo=UTC),
        datetime(1988, 7, 1, 3, 0, tzinfo=UTC),
        datetime(1900, 6, 1, 12, 0, 0, 7, tzinfo=UTC),
        datetime(2025, 12, 31, 16, 0, tzinfo=UTC),
    ]
    async with engine.begin() as connection:
        for record_id, moment in zip(world.record_ids, moments, strict=False):
            await connection.execute(
                update(Record).where(Record.id == record_id).values(occurred_at=moment)
            )
        await connection.execute(
            update(Record).where(Record.id == world.record_ids[5]).values(reported_at=None)
        )
        await connection.execute(
            update(Record)
            .where(Record.id == world.record_ids[6])
            .values(region_code="411299")  # within 4112, but no such region
        )
        await connection.execute(
            update(PartyMention)
            .where(PartyMention.record_id == world.record_ids[7])
            .values(person_id=None)
        )
        await connection.execute(
            update(Record).where(Record.id == world.record_ids[8]).values(title=ESCAPED)
        )
        named = PartyMention.record_id == world.record_ids[8]
        # a person named by a withdrawn record only: hidden even where the page lists it
        hidden = max(world.person_ids) + 1
        await connection.execute(
            insert(Person).values(id=hidden, name="撤回方", region_code="411202")
        )
        await connection.execute(
            update(PartyMention)
            .where(PartyMention.record_id == world.deleted_ids[0], PartyMention.position == 0)
            .values(person_id=hidden)
        )
        await connection.execute(
            update(PartyMention)
            .where(PartyMention.record_id == world.record_ids[8], PartyMention.position == 0)
            .values(name='张"三\\')
        )
        await connection.execute(
            update(Person)
            .where(Person.id.in_(select(PartyMention.person_id).where(named)))
            .values(name="李\n四\t")
        )


@contextlib.asynccontextmanager
async def _world(
    engine: AsyncEngine,
    pii_key: bytes,
    *,
    role: Role = Role.CENTER_STAFF,
    regions: list[str] | None = STAFF_REGIONS,
    merged: bool = False,
) -> AsyncIterator[httpx.AsyncClient]:
    """The seeded world (:func:`_seed`) and a client of the app on it, as ``role``."""
    await _seed(engine, merged=merged)
    try:
        async with graphql_client(engine, pii_key, role=role, regions=regions) as client:
            yield client
    finally:
        await unlink_regions(engine)


async def _last_audit(engine: AsyncEngine) -> tuple[Any, Any]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(AuditEntry.record_ids, AuditEntry.person_ids)
                .order_by(AuditEntry.id.desc())
                .limit(1)
            )
        ).one()
    return row.record_ids, row.person_ids


async def _both(
    client: httpx.AsyncClient, engine: AsyncEngine, document: str, variables: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], tuple[Any, Any], tuple[Any, Any]]:
    posted = await client.post("/graphql", json={"query": document, "variables": variables})
    posted_audit = await _last_audit(engine)
    got = await client.get(
        "/graphql", params={"query": document, "variables": json.dumps(variables)}
    )
    got_audit = await _last_audit(engine)
    assert posted.status_code == got.status_code == 200, (posted.text, got.text)
    return posted.json(), got.json(), posted_audit, got_audit


class _Counted:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        answer = resolvers.queries.answer_page

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await answer(*args, **kwargs)

        monkeypatch.setattr(resolvers.queries, "answer_page", counted)


@pytest.mark.parametrize(
    ("role", "regions", "document", "variables", "built"),
    [
        (Role.CENTER_STAFF, ["411200"], PAGE, {}, True),
        (Role.CENTER_STAFF, ["411200"], EVERY_FIELD, {"first": 12}, True),
        (Role.CENTER_STAFF, ["411200"], EVERY_FIELD, {"last": 7, "order": "REPORTED_AT_ASC"}, True),
        (Role.CENTER_STAFF, ["411200"], EVERY_FIELD,
         {"first": 5, "filter": {"kind": ["DISPUTE"], "region": "411202"}}, True),
        (Role.CENTER_STAFF, ["411200"], EVERY_FIELD,
         {"first": 40, "filter": {"includeDeleted": True}}, True),
        (Role.ADMIN, None, NODES, {}, True),
        (Role.CENTER_STAFF, ["411200"], NESTED, {}, True),
        (Role.CENTER_STAFF, ["411200"], TIMELINES, {"first": 40}, True),
        (Role.PARTNER_POLICE, ["411200"], TIMELINES, {"first": 12}, True),
        (Role.PARTNER_POLICE, ["411200"], PAGE, {}, True),  # persons only through its own kinds
        (Role.PARTNER_JUDICIAL, ["411200"], NO_PARTIES, {}, True),
        (Role.PARTNER_JUDICIAL, ["411200"], PAGE, {}, False),  # its titles are redacted in Python
        (Role.DASHBOARD_VIEWER, ["411200"], NO_PARTIES, {}, False),  # refused before execution
    ],
    ids=["bench-page", "every-field", "backwards", "filtered", "withdrawn", "nodes", "nested",
         "timelines", "police-timelines", "police", "judicial", "judicial-titles", "dashboard"],
)  # fmt: skip
async def test_built_pages_answer_as_the_general_path(
    committing_engine: AsyncEngine,
    pii_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
    role: Role,
    regions: list[str] | None,
    document: str,
    variables: dict[str, Any],
    built: bool,
) -> None:
    counted = _Counted(monkeypatch)
    driver = DriverReads(monkeypatch)
    pages = 1
    async with _world(committing_engine, pii_key, role=role, regions=regions) as client:
        posted, got, posted_audit, got_audit = await _both(
            client, committing_engine, document, variables
        )
        # asked again: the statement seen before is run by the driver itself (PostgreSQL)
        again = await client.post("/graphql", json={"query": document, "variables": variables})
        assert again.json() == posted
        pages += 1
        page = (posted.get("data") or {}).get("records") or {}
        end = (page.get("info") or {}).get("endCursor")
        if end and "first" in variables:  # and the next page, after this one's last cursor
            more = await _both(client, committing_engine, document, {**variables, "after": end})
            assert more[0] == more[1]
            assert more[2] == more[3]
            pages += 1
    assert posted == got
    assert posted_audit == got_audit
    postgres = committing_engine.dialect.name == "postgresql"
    assert counted.calls == (pages if built and postgres else 0)
    assert (driver.calls >= 1) == (built and postgres) and driver.calls <= counted.calls
    if built:
        assert "errors" not in posted
        assert len(json.dumps(posted["data"])) > 300  # a real page, not an empty one


async def test_text_that_json_escapes_is_written_as_the_general_path_writes_it(
    committing_engine: AsyncEngine, pii_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _Counted(monkeypatch)
    async with _world(committing_engine, pii_key) as client:
        posted, got, _, _ = await _both(client, committing_engine, PAGE, {})
    nodes = [edge["node"] for edge in posted["data"]["records"]["edges"]]
    assert ESCAPED in [node["title"] for node in nodes]
    names = [party["name"] for node in nodes for party in node["parties"]]
    persons = [party["person"]["name"] for node in nodes for party in node["parties"]
               if party["person"]]  # fmt: skip
    assert '张"三\\' in names and "李\n四\t" in persons
    assert posted == got
    assert counted.calls == (1 if committing_engine.dialect.name == "postgresql" else 0)


@pytest.mark.parametrize("document", GENERAL_ONLY)
async def test_other_selections_take_the_general_path(
    committing_engine: AsyncEngine,
    pii_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
    document: str,
) -> None:
    counted = _Counted(monkeypatch)
    async with _world(committing_engine, pii_key) as client:
        posted, got, posted_audit, got_audit = await _both(
            client, committing_engine, document, {"x": True}
        )
    assert counted.calls == 0
    assert posted == got
    assert posted_audit == got_audit


@pytest.mark.parametrize("document", [NESTED, TIMELINES])
async def test_a_page_whose_persons_were_merged_answers_the_general_way(
    committing_engine: AsyncEngine,
    pii_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
    document: str,
) -> None:
    counted = _Counted(monkeypatch)
    async with _world(committing_engine, pii_key, merged=True) as client:
        posted, got, posted_audit, got_audit = await _both(
            client, committing_engine, document, {"first": 40}
        )
    assert posted == got
    assert posted_audit == got_audit
    assert "errors" not in posted
    # the statement ran and saw the merge (PostgreSQL), or never ran (SQLite)
    assert counted.calls == (1 if committing_engine.dialect.name == "postgresql" else 0)


BY_ID = """query ById($id: ID!) { node(id: $id) { id ... on Record {
  kind source sourceKey title occurredAt status region { code name level }
} } }"""

BY_ID_WIDE = """query ById($id: ID!) { record: node(id: $id) { __typename id
  ... on Person { name }
  ... on Matter { number }
  ... on Record { occurredOn reportedAt regionCode riskLevel deleted
    parties { role name person { id name records { kind record { id title } } } } }
} }"""


class _CountedNodes:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.built = 0
        answer = resolvers.queries.answer_node

        async def counted(*args: Any, **kwargs: Any) -> Any:
            found = await answer(*args, **kwargs)
            self.built += found is not None
            return found

        monkeypatch.setattr(resolvers.queries, "answer_node", counted)


@pytest.mark.parametrize("document", [BY_ID, BY_ID_WIDE], ids=["bench", "wide"])
async def test_a_record_by_id_answers_as_the_general_path(
    committing_engine: AsyncEngine,
    pii_key: bytes,
    monkeypatch: pytest.MonkeyPatch,
    document: str,
) -> None:
    counted = _CountedNodes(monkeypatch)
    driver = DriverReads(monkeypatch)
    answers = []
    async with _world(committing_engine, pii_key) as client:
        async with committing_engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(Record.id, Record.kind, Record.region_code).where(
                        Record.deleted.is_(False)
                    )
                )
            ).all()
        inside = [row for row in rows if (row.region_code or "").startswith("4112")][:6]
        outside = next(row for row in rows if not (row.region_code or "").startswith("4112"))
        for row in inside:
            answers.append(
                await _both(
                    client,
                    committing_engine,
                    document,
                    {"id": global_id(type_name(row.kind), row.id)},
                )
            )
        # out of scope, the wrong type, no such record: the general path's NOT_FOUND
        for wrong in (
            global_id(type_name(outside.kind), outside.id),
            global_id("PoliceAlert" if inside[0].kind != "POLICE_ALERT" else "Dispute",
                      inside[0].id),
            global_id("Dispute", 10**9),
        ):  # fmt: skip
            answers.append(await _both(client, committing_engine, document, {"id": wrong}))
    for posted, got, posted_audit, got_audit in answers:
        assert posted == got
        assert posted_audit == got_audit
    assert all("errors" not in answer[0] for answer in answers[: len(inside)])
    assert [codes(answer[0]) for answer in answers[len(inside) :]] == [["NOT_FOUND"]] * 3
    built = committing_engine.dialect.name == "postgresql"
    assert counted.built == (len(inside) if built else 0)
    # found or not, the records' statement (the same for all: one scope) was read by the
    # driver itself once seen
    assert (driver.calls >= len(inside) - 1) if built else (driver.calls == 0)


@pytest.mark.parametrize("first", [5, 40])
async def test_a_built_page_is_one_statement_at_any_size(
    committing_engine: AsyncEngine, pii_key: bytes, monkeypatch: pytest.MonkeyPatch, first: int
) -> None:
    async with _world(committing_engine, pii_key) as client:
        driver = DriverReads(monkeypatch)
        with counting_statements(committing_engine) as first_statements:
            first_body = await graphql(client, TIMELINES, {"first": first})
        first_reads, driver.calls = driver.calls, 0
        with counting_statements(committing_engine) as statements:
            body = await graphql(client, TIMELINES, {"first": first})
    assert body == first_body
    people = [
        party["person"]
        for node in body["data"]["records"]["nodes"]
        for party in node["parties"]
        if party["person"] is not None
    ]
    assert "errors" not in body and people and all(person["entries"] for person in people)
    if committing_engine.dialect.name == "postgresql":  # the general path: tests elsewhere
        assert len(first_statements) + first_reads == 1  # one statement, by either way
        assert (driver.calls, statements) == (1, [])  # once seen, run by the driver
