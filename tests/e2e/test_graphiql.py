"""GraphiQL in Chromium with the network cut off: every request that is not to govhub is
aborted, and the page still loads, holds the demo token, answers a query and streams a
subscription over its WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from playwright.async_api import Route, async_playwright
from starlette.applications import Starlette

from db.migrate import migrated_engine
from domain.enums import RecordChangeKind, RecordKind, SourceSystem
from domain.events import ChangedRecord
from domain.roles import Role
from hub.app import create_app
from hub.bus import record_announcer
from tests.conftest import service_missing
from tests.integration.auth_support import token
from tests.integration.graphql_world import hub_settings, seed_world, unlink_regions

# Debian's Chromium (`apt-get install chromium`; .ci/run does), or another build's binary.
CHROMIUM = Path(os.environ.get("GOVHUB_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_INSTALLED = CHROMIUM.exists()
SUBSCRIPTION = "subscription { recordChanges { recordId kind change committedAt } }"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(pii_key: bytes) -> AsyncIterator[tuple[str, Starlette]]:
    """govhub on a real port (dev mode, a demo token in its data directory), seeded."""
    with tempfile.TemporaryDirectory() as directory:
        async with migrated_engine(f"sqlite+aiosqlite:///{directory}/e2e.db") as engine:
            await seed_world(engine, records=12)
            data_dir = Path(directory) / "data"
            data_dir.mkdir()
            (data_dir / "demo-token.txt").write_text(token(Role.ADMIN) + "\n", encoding="ascii")
            app = create_app(hub_settings(pii_key, data_dir=data_dir), engine=engine)
            port = _free_port()
            config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
            server = uvicorn.Server(config)
            task = asyncio.create_task(server.serve())
            try:
                while not server.started:  # noqa: ASYNC110  (uvicorn offers a flag, no event)
                    await asyncio.sleep(0.05)
                yield f"http://127.0.0.1:{port}", app
            finally:
                server.should_exit = True
                await task
                await unlink_regions(engine)


async def test_graphiql_offline_runs_a_query_and_a_subscription(pii_key: bytes) -> None:
    if not CHROMIUM_INSTALLED:
        service_missing(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    async with serving(pii_key) as (base, app), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = await browser.new_page()
            blocked: list[str] = []

            async def only_govhub(route: Route) -> None:
                if route.request.url.startswith(base):
                    await route.continue_()
                else:  # the intranet: nothing else answers
                    blocked.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_govhub)
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
