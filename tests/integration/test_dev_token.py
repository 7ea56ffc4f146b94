"""``devToken`` (开发令牌): in dev, the console's role picker gets a working token without one;
in prod the mutation is refused; every call is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import AuditEntry
from domain.roles import Role
from tests.integration.auth_support import bearer
from tests.integration.graphql_world import codes, graphql, graphql_client

MUTATION_DEV_TOKEN = """
mutation DevToken($role: String!, $regions: [String!]!, $scopes: [String!]) {
  devToken(role: $role, regions: $regions, scopes: $scopes) {
    token role regions scopes expiresAt
  }
}
"""
MUTATION_DEV_TOKEN_AND_MORE = """
mutation Sneaky { devToken(role: "admin", regions: ["411202"]) { token }
                  rejectLink(id: "TGluazox") { __typename } }
"""
QUERY_WHO = "query Who { records(first: 1) { totalCount } }"
STAFF = {"role": "center_staff", "regions": ["411202"], "scopes": ["pii:read"]}


@pytest.fixture
async def anonymous(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(committing_engine, pii_key, role=None, env="dev") as client:
        yield client


async def _audit_rows(engine: AsyncEngine) -> list[AuditEntry]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [AuditEntry(**row._mapping) for row in rows]


async def test_in_dev_a_caller_without_a_token_gets_one_that_works(
    anonymous: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    # when the role picker asks for a center_staff token over 411202, with pii:read
    body = await graphql(anonymous, MUTATION_DEV_TOKEN, STAFF)
    # then it gets one for exactly that
    assert "errors" not in body, body
    minted = body["data"]["devToken"]
    assert (minted["role"], minted["regions"], minted["scopes"]) == (
        "center_staff",
        ["411202"],
        ["pii:read"],
    )
    assert minted["expiresAt"].endswith("+08:00")
    # and the token opens the API
    answer = await graphql(
        anonymous, QUERY_WHO, headers={"Authorization": f"Bearer {minted['token']}"}
    )
    assert "errors" not in answer and answer["data"]["records"]["totalCount"] >= 0
    # and the minting is on the record, with the role asked for, then the query by dev:center_staff
    minting, query = await _audit_rows(committing_engine)
    assert (minting.operation, minting.principal, minting.outcome) == ("DevToken", None, "OK")
    assert minting.variables is not None and "digest" in minting.variables  # kept as a digest
    assert "center_staff" in str(minting.variables["preview"])
    assert (query.principal, query.role) == ("dev:center_staff", "center_staff")


async def test_without_a_token_nothing_but_dev_token_runs(anonymous: httpx.AsyncClient) -> None:
    body = await graphql(anonymous, MUTATION_DEV_TOKEN_AND_MORE, status=401)
    assert codes(body) == ["UNAUTHENTICATED"] and body["data"] is None
    body = await graphql(anonymous, QUERY_WHO, status=401)
    assert codes(body) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "variables",
    [
        {"role": "superuser", "regions": ["411202"]},
        {"role": "admin", "regions": ["41120"]},
        {"role": "admin", "regions": []},
        {"role": "admin", "regions": ["411202"], "scopes": ["audit:write"]},
    ],
    ids=["unknown role", "bad region", "no region", "unknown scope"],
)
async def test_an_unknown_role_region_or_scope_is_bad_input(
    anonymous: httpx.AsyncClient, variables: dict[str, object]
) -> None:
    body = await graphql(anonymous, MUTATION_DEV_TOKEN, variables)
    assert codes(body) == ["BAD_USER_INPUT"], body


async def test_in_dev_a_signed_in_role_may_switch_role(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    async with graphql_client(committing_engine, pii_key, role=Role.MEDIATOR, env="dev") as client:
        body = await graphql(client, MUTATION_DEV_TOKEN, STAFF)
    assert "errors" not in body and body["data"]["devToken"]["token"]


async def test_in_prod_dev_token_is_refused(committing_engine: AsyncEngine, pii_key: bytes) -> None:
    async with graphql_client(committing_engine, pii_key, role=None, env="prod") as client:
        # without a token: unauthenticated, as every operation
        body = await graphql(client, MUTATION_DEV_TOKEN, STAFF, status=401)
        assert codes(body) == ["UNAUTHENTICATED"]
        # with an admin's token: forbidden, no role lists it
        body = await graphql(client, MUTATION_DEV_TOKEN, STAFF, headers=bearer(Role.ADMIN))
        assert codes(body) == ["FORBIDDEN"] and body["data"] is None
