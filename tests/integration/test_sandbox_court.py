"""法院案件系统 over real HTTP: OAuth2 tokens that expire, 429 + Retry-After, idempotent filing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.systems.sample import sample_mutator, sample_world

SYSTEM = SourceSystem.COURT
FILING = {
    "caseType": "民事",
    "plaintiff": {"name": "张伟"},
    "defendant": {"name": "某物业公司"},
    "claims": "请求判令被告返还押金 3000 元",
}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sb(clock: FakeClock) -> AsyncIterator[Sandbox]:
    async with Sandbox(
        SandboxConfig(base_port=0), sample_world(30), mutator=sample_mutator, monotonic=clock
    ) as sandbox:
        yield sandbox


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sb.urls[SYSTEM]) as c:
        yield c


async def token(client: httpx.AsyncClient, secret: str = "court-secret-5b7e") -> httpx.Response:  # noqa: S107  # the sandbox's published dev secret
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "govhub", "client_secret": secret},
    )


async def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    response = await token(client)
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_client_credentials_grant_issues_an_expiring_bearer_token(
    client: httpx.AsyncClient,
) -> None:
    response = await token(client)

    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"
    assert response.json()["expires_in"] == 300


async def test_wrong_client_secret_is_401(client: httpx.AsyncClient) -> None:
    response = await token(client, secret="nope")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_expired_token_is_401_and_a_new_token_works(
    client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    await client.post("/_sandbox/control", json={"token_ttl_s": 60})
    headers = await bearer(client)
    assert (await client.get("/api/v1/cases", headers=headers)).status_code == 200

    clock.now += 61
    expired = await client.get("/api/v1/cases", headers=headers)
    fresh = await client.get("/api/v1/cases", headers=await bearer(client))

    assert expired.status_code == 401
    assert expired.json()["error"] == "invalid_token"
    assert fresh.status_code == 200


async def test_empty_bucket_answers_429_with_retry_after(
    client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    headers = await bearer(client)
    await client.post("/_sandbox/control", json={"rate_per_s": 0.5, "rate_burst": 2})
    statuses = [(await client.get("/api/v1/cases", headers=headers)) for _ in range(3)]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].headers["retry-after"] == "2"
    clock.now += 2
    assert (await client.get("/api/v1/cases", headers=headers)).status_code == 200


async def test_cases_modified_after_with_offset_paging(
    sb: Sandbox,
    client: httpx.AsyncClient,
) -> None:
    headers = await bearer(client)
    ordered = sorted(sb.world.records[SYSTEM], key=lambda r: (r.updated_at, r.key))
    after = ordered[9].updated_at.isoformat()

    pages = [
        (
            await client.get(
                "/api/v1/cases",
                headers=headers,
                params={"modifiedAfter": after, "offset": offset, "limit": 8},
            )
        ).json()
        for offset in (0, 8, 16)
    ]

    assert pages[0]["total"] == 20
    assert [i["caseNo"] for p in pages for i in p["items"]] == [r.key for r in ordered[10:]]


async def test_filing_needs_an_idempotency_key(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/filings", json=FILING, headers=await bearer(client))

    assert response.status_code == 400


async def test_filing_that_is_not_utf8_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/filings", content=json.dumps(FILING, ensure_ascii=False).encode("gbk"),
        headers={**await bearer(client), "Idempotency-Key": "GH-GBK",
                 "Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_same_idempotency_key_returns_the_same_filing(client: httpx.AsyncClient) -> None:
    headers = {**await bearer(client), "Idempotency-Key": "k-1"}

    first = await client.post("/api/v1/filings", json=FILING, headers=headers)
    again = await client.post(
        "/api/v1/filings", json=dict(reversed(FILING.items())), headers=headers
    )
    other: dict[str, Any] = {**FILING, "claims": "另一项诉求"}
    conflict = await client.post("/api/v1/filings", json=other, headers=headers)
    second = await client.post(
        "/api/v1/filings", json=other, headers={**headers, "Idempotency-Key": "k-2"}
    )

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert conflict.status_code == 422
    assert second.status_code == 201
    assert second.json()["filingId"] != first.json()["filingId"]
