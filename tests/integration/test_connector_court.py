"""The court connector against the sandbox over HTTP, on both databases: OAuth tokens that
expire mid-sync, 429 storms, offset paging read by time, faults, and idempotent 网上立案."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.auth import OAuthClientCredentials
from connectors.court import CourtConnector
from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.connector_checks import (
    FAULTS,
    assert_matches_sandbox,
    connector_for,
    control,
    mutate,
    snapshot,
    stats,
    sync,
)

COURT = SourceSystem.COURT
FILING = {"caseType": "民初", "cause": "民间借贷纠纷", "plaintiff": "张伟", "amount": 5000}


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(base_port=0, scale=300, profile="clean")) as sandbox:
        yield sandbox


async def test_clean_sync_reconciles_then_a_rerun_writes_nothing_and_changes_arrive(
    committing_engine: AsyncEngine, sb: Sandbox
) -> None:
    db = committing_engine
    await control(sb, COURT, malformed_rate=0.08)
    async with connector_for(sb, COURT) as connector:
        first = await sync(db, connector)
        await assert_matches_sandbox(db, sb, COURT, connector)
        assert first.dead_lettered == len((await stats(sb, COURT))["malformed_keys"]) > 0

        before = await snapshot(db, COURT)
        again = await sync(db, connector)
        assert (again.counts.inserted, again.counts.updated) == (0, 0)
        assert await snapshot(db, COURT) == before

        changed = {c["key"] for c in await mutate(sb, COURT, 12)}
        incremental = await sync(db, connector)
    malformed = set((await stats(sb, COURT))["malformed_keys"])
    assert incremental.counts.inserted == len(changed - set(before) - malformed)
    assert incremental.counts.updated == len(changed & set(before))
    await assert_matches_sandbox(db, sb, COURT, connector)


async def test_expiring_tokens_and_429_storms_are_survived(
    committing_engine: AsyncEngine, sb: Sandbox
) -> None:
    db = committing_engine
    seen: list[tuple[str, int]] = []

    async def record(response: httpx.Response) -> None:
        seen.append((response.request.url.path, response.status_code))

    await control(
        sb,
        COURT,
        token_ttl_s=0.2,
        rate_per_s=40,
        rate_burst=4,
        latency_ms=30,
        storm_429=True,
        storm_period_s=1.0,
        storm_length_s=0.2,
        retry_after_s=1,
    )
    async with connector_for(sb, COURT, page_size=5) as connector:
        assert isinstance(connector, CourtConnector)
        auth = connector.client.auth
        assert isinstance(auth, OAuthClientCredentials)
        auth.clock, auth.margin_seconds = lambda: 0.0, 0  # never expired by our reckoning:
        # only the court's 401 can say so
        connector.client.http.event_hooks["response"].append(record)
        await sync(db, connector)
    await assert_matches_sandbox(db, sb, COURT, connector)
    assert ("/api/v1/cases", 401) in seen  # expired mid-sync, refreshed, re-sent
    assert any(status == 429 for _, status in seen)  # the storm or the token bucket
    assert sum(1 for path, status in seen if path == "/oauth/token" and status == 200) > 1


async def test_faults_do_not_change_what_converges(
    committing_engine: AsyncEngine, sb: Sandbox
) -> None:
    db = committing_engine
    async with connector_for(sb, COURT, page_size=5) as connector:
        await sync(db, connector)
        await mutate(sb, COURT, 15)  # earlier versions exist now, for out-of-order delivery
        await control(sb, COURT, **FAULTS)
        await sync(db, connector)
        await assert_matches_sandbox(db, sb, COURT, connector)
        await sync(db, connector, full=True)  # every stale copy again: nothing goes back
        await assert_matches_sandbox(db, sb, COURT, connector)
    injected = (await stats(sb, COURT))["faults_injected"]
    assert {"duplicate", "out_of_order", "schema_drift"} <= set(injected)


class ReplyLostOnce(httpx.AsyncBaseTransport):
    """Delivers the first filing to the court, then loses the reply: a read timeout."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lost = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == "/api/v1/filings" and not self.lost:
            await response.aread()
            self.lost = True
            raise httpx.ReadTimeout("reply lost", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_filing_retried_after_a_timeout_is_created_once(sb: Sandbox) -> None:
    transport = ReplyLostOnce()
    async with connector_for(sb, COURT) as built:
        assert isinstance(built, CourtConnector)
        async with httpx.AsyncClient(base_url=sb.urls[COURT], transport=transport) as http:
            built.client.http = http
            receipt = await built.file_online(FILING, "outbox-1")
            repeat = await built.file_online(FILING, "outbox-1")
            other = await built.file_online({**FILING, "plaintiff": "王芳"}, "outbox-2")
    assert transport.lost and built.client.retries >= 1
    assert receipt["filingId"] == repeat["filingId"] == "WSLA00000001"
    assert receipt["idempotencyKey"] == "outbox-1" and receipt["filing"] == FILING
    assert other["filingId"] == "WSLA00000002"  # the lost reply created exactly one filing
