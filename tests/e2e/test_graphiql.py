"""GraphiQL in Chromium with the network cut off: every request that is not to govhub is
aborted, and the page still loads, holds the demo token, answers a query and streams a
subscription over its WebSocket."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import async_playwright

from domain.enums import RecordChangeKind, RecordKind, SourceSystem
from domain.events import ChangedRecord
from hub.bus import record_announcer
from tests.e2e.serving import only_hub, require_chromium, serving

SUBSCRIPTION = "subscription { recordChanges { recordId kind change committedAt } }"


async def test_graphiql_offline_runs_a_query_and_a_subscription(pii_key: bytes) -> None:
    chromium = require_chromium()
    async with serving(pii_key) as (base, app), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        try:
            page = await browser.new_page()
            blocked: list[str] = []
            await page.route("**/*", only_hub(base, blocked))
            # when the page opens with the internet cut off
            await page.goto(f"{base}/graphql", wait_until="load")
            run = page.locator(".graphiql-execute-button")
            await run.wait_for(timeout=30_000)
            # then the header editor holds the demo token
            headers = page.locator(".graphiql-editor-tool")
            assert "Bearer ey" in (await headers.inner_text())
            # and the default query (records with their links) answers
            await run.click()
            result = page.locator(".result-window")
            await result.get_by_text('"totalCount"').wait_for(timeout=30_000)
            answer = await result.inner_text()
            assert '"linkedRecords"' in answer and '"errors"' not in answer, answer

            # and a subscription opened from the page hears a change the hub announces
            await page.goto(f"{base}/graphql?{urlencode({'q': SUBSCRIPTION})}")
            await run.wait_for(timeout=30_000)
            await run.click()
            heard = result.get_by_text('"change": "WITHDRAWN"')
            announce = record_announcer(app.state.govhub.bus)
            change = ChangedRecord(1, RecordKind.DISPUTE, SourceSystem.MEDIATION, "411202",
                                   RecordChangeKind.WITHDRAWN)  # fmt: skip
            for _ in range(60):  # until the subscription is registered and the event shown
                await announce(SourceSystem.MEDIATION, [change])
                if await heard.count():
                    break
                await asyncio.sleep(0.5)
            assert await heard.count(), await result.inner_text()
            assert "+08:00" in await result.inner_text()
            assert blocked == []
        finally:
            await browser.close()


@pytest.mark.parametrize("asset", ["graphiql.min.js", "react.production.min.js"])
async def test_assets_are_served_by_govhub(pii_key: bytes, asset: str) -> None:
    async with serving(pii_key) as (base, _app), httpx.AsyncClient(base_url=base) as client:
        response = await client.get(f"/graphiql-assets/{asset}")
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200 and len(response.content) > 1000
    assert page.status_code == 200 and "unpkg.com" not in page.text and "cdn" not in page.text
    assert "/graphiql-assets/graphiql.min.js" in page.text
