"""No N+1: a page costs the same few statements whatever its size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.graphql_world import graphql, graphql_client, seed_world, unlink_regions

QUERY_PAGE = """
query Page($first: Int!) {
  records(first: $first) {
    edges { node {
      id title
      region { code name level }
      parties { role name idNumber person { id name } }
      ... on Dispute { mediator }
      ... on GridEvent { gridCode }
      ... on PoliceAlert { alertNumber }
      ... on Petition { handlingUnit }
      ... on CourtFiling { caseNumber }
    } }
  }
}
"""


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    await seed_world(committing_engine, records=120)
    async with graphql_client(committing_engine, pii_key) as client:
        yield client
    await unlink_regions(committing_engine)


@contextmanager
def counting_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The operation's audit row (group commit) is not a read: count only the reads.
        if "audit_log" not in statement and "pg_advisory_xact_lock" not in statement:
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_page_of_10_and_of_100_cost_the_same_few_statements(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # when a page of 10 and a page of 100 are read with region, parties, persons, kind fields
    with counting_statements(committing_engine) as small:
        small_body = await graphql(client, QUERY_PAGE, {"first": 10})
    with counting_statements(committing_engine) as large:
        large_body = await graphql(client, QUERY_PAGE, {"first": 100})
    # then both answered in full
    assert len(small_body["data"]["records"]["edges"]) == 10
    assert len(large_body["data"]["records"]["edges"]) == 100
    # and each took the same number of statements, at most 5 (the page with its regions
    # beside the records, and the parties with their persons beside them)
    assert len(small) == len(large) <= 5, (small, large)
    assert len(small) == 2


# The entries' roles keep this on the general path (loaders) on both databases; PostgreSQL
# builds the selection without them as JSON in one statement (test_page_json.py).
QUERY_PERSONS_RECORDS = """
query Nested($first: Int!) {
  records(first: $first) {
    edges { node { id parties { role person { id name records { roles record { id title } } } } } }
  }
}
"""


async def test_a_pages_persons_records_cost_the_same_few_statements_at_any_size(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # when pages of 5 and of 40 records are read with each party's person's records
    with counting_statements(committing_engine) as small:
        small_body = await graphql(client, QUERY_PERSONS_RECORDS, {"first": 5})
    with counting_statements(committing_engine) as large:
        large_body = await graphql(client, QUERY_PERSONS_RECORDS, {"first": 40})
    # then both answered, persons with their records
    people = [
        party["person"]
        for edge in large_body["data"]["records"]["edges"]
        for party in edge["node"]["parties"]
        if party["person"] is not None
    ]
    assert "errors" not in small_body and people and all(p["records"] for p in people)
    # and the timelines of every person came in the same two statements, whatever the page
    # (persons and merges; mentions with their records): four with the page and its parties
    assert len(small) == len(large) == 4, (small, large)
