"""Every operation needs a valid bearer token; each refusal is HTTP 401, UNAUTHENTICATED, and
audited."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import AuditEntry
from domain.roles import Role
from hub.settings import Settings
from tests.integration.auth_support import JWT_SECRET, token
from tests.integration.graphql_world import codes, graphql, graphql_client

QUERY_VERSION = "query Version { version }"
AUDIENCE, ISSUER = "govhub", "https://idp.example.gov.cn"


def _claims(**overrides: Any) -> dict[str, Any]:
    claims = {"sub": "u1", "role": "center_staff", "regions": ["411202"], "aud": AUDIENCE,
              "iss": ISSUER, "exp": int(time.time()) + 60}  # fmt: skip
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _signed(claims: dict[str, Any], secret: str = JWT_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


REFUSED = {
    "missing header": None,
    "not bearer": "Token abc",
    "empty bearer": "Bearer ",
    "garbage": "Bearer not.a.jwt",
    "forged signature": "Bearer " + _signed(_claims(), "y" * 32),
    "expired": "Bearer " + _signed(_claims(exp=int(time.time()) - 10)),
    "alg none": "Bearer " + jwt.encode(_claims(), key=None, algorithm="none"),
    "wrong audience": "Bearer " + _signed(_claims(aud="someone-else")),
    "wrong issuer": "Bearer " + _signed(_claims(iss="https://evil.example")),
    "no audience": "Bearer " + _signed(_claims(aud=None)),
    "missing role": "Bearer " + _signed(_claims(role=None)),
    "missing sub": "Bearer " + _signed(_claims(sub=None)),
    # an audit row must name who asked: an empty subject names no one
    "empty sub": "Bearer " + _signed(_claims(sub="")),
    "blank sub": "Bearer " + _signed(_claims(sub="   ")),
    # a partner's org decides which matters it sees: only a name is one
    "org not a string": "Bearer " + _signed(_claims(org={"name": "湖滨区人民法院"})),
    "name not a string": "Bearer " + _signed(_claims(name=["王"])),
    "missing exp": "Bearer " + _signed(_claims(exp=None)),
    "unknown role": "Bearer " + _signed(_claims(role="superuser")),
}


@pytest.fixture
async def client(
    committing_engine: AsyncEngine, pii_key: bytes
) -> AsyncIterator[httpx.AsyncClient]:
    async with graphql_client(
        committing_engine, pii_key, role=None, jwt_audience=AUDIENCE, jwt_issuer=ISSUER
    ) as client:
        yield client


async def _audit_rows(engine: AsyncEngine) -> list[AuditEntry]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [AuditEntry(**row._mapping) for row in rows]


@pytest.mark.parametrize("why", list(REFUSED))
async def test_a_refused_credential_is_unauthenticated_and_audited(
    client: httpx.AsyncClient, committing_engine: AsyncEngine, why: str
) -> None:
    # when an operation comes with a credential that must be refused
    authorization = REFUSED[why]
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.post("/graphql", json={"query": QUERY_VERSION}, headers=headers)
    # then nothing ran: HTTP 401 with a Bearer challenge, one UNAUTHENTICATED error, no data
    assert response.status_code == 401, why
    assert response.headers["www-authenticate"].startswith("Bearer "), why
    body = response.json()
    assert body["data"] is None
    assert codes(body) == ["UNAUTHENTICATED"], why
    # and the attempt is on the record, with no principal
    [row] = await _audit_rows(committing_engine)
    assert (row.principal, row.role, row.outcome) == (None, None, "UNAUTHENTICATED")
    assert row.document_hash is not None and len(row.document_hash) == 64


async def test_a_valid_token_with_audience_and_issuer_is_accepted(
    client: httpx.AsyncClient, committing_engine: AsyncEngine
) -> None:
    settings = Settings(jwt_secret=JWT_SECRET, jwt_audience=AUDIENCE, jwt_issuer=ISSUER)
    minted = token(Role.CENTER_STAFF, ["411202"], settings=settings, sub="staff-7", org="综治中心")
    body = await graphql(client, QUERY_VERSION, headers={"Authorization": f"Bearer {minted}"})
    assert body["data"]["version"] and "errors" not in body
    [row] = await _audit_rows(committing_engine)
    assert (row.principal, row.role, row.org, row.outcome, row.operation) == (
        "staff-7",
        "center_staff",
        "综治中心",
        "OK",
        "Version",
    )


async def test_health_and_readiness_stay_open(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
