"""govhub on a real port for browser tests, and the browser that only reaches it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.async_api import Browser, Page, Route
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from db.migrate import migrated_engine
from domain.roles import Role
from hub.app import create_app
from tests.conftest import service_missing
from tests.integration.auth_support import token
from tests.integration.graphql_world import hub_settings, seed_world, unlink_regions

# Debian's Chromium (`apt-get install chromium`; .ci/run does), or another build's binary.
CHROMIUM = Path(os.environ.get("GOVHUB_TEST_CHROMIUM", "/usr/bin/chromium"))


def require_chromium() -> str:
    if not CHROMIUM.exists():
        service_missing(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    return str(CHROMIUM)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _seed_small_world(engine: AsyncEngine) -> None:
    await seed_world(engine, records=12)


@contextlib.asynccontextmanager
async def serving(
    pii_key: bytes, seed: Callable[[AsyncEngine], Awaitable[None]] = _seed_small_world
) -> AsyncIterator[tuple[str, Starlette]]:
    """govhub on a real port (dev mode, a demo token in its data directory), seeded by
    ``seed``: its base URL and the app (whose ``state.govhub.bus`` announces changes)."""
    with tempfile.TemporaryDirectory() as directory:
        async with migrated_engine(f"sqlite+aiosqlite:///{directory}/e2e.db") as engine:
            await seed(engine)
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


def only_hub(base: str, blocked: list[str]) -> Callable[[Route], Awaitable[None]]:
    """A route handler for ``page.route("**/*", ...)``: the intranet, where nothing but govhub
    answers; every other request is aborted and noted in ``blocked``."""

    async def handle(route: Route) -> None:
        if route.request.url.startswith(base):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    return handle


@dataclass
class WatchedPage:
    """A page that reaches only govhub, with what it tried to reach elsewhere and the script
    errors it logged."""

    page: Page
    blocked: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)


async def watched_page(browser: Browser, base: str, *, tolerated: str | None = None) -> WatchedPage:
    """A 1366×768 page in a fresh context, cut off from all but ``base``; console errors
    containing ``tolerated`` (a status a test provokes) are not counted."""
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    watched = WatchedPage(await context.new_page())
    await watched.page.route("**/*", only_hub(base, watched.blocked))
    watched.page.on("pageerror", lambda error: watched.script_errors.append(str(error)))
    watched.page.on(
        "console",
        lambda m: (
            watched.script_errors.append(m.text)
            if m.type == "error" and not (tolerated and tolerated in m.text)
            else None
        ),
    )
    return watched


async def ask(
    base: str, bearer: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A question put to the API directly (not through the console), answered without errors."""
    async with httpx.AsyncClient(base_url=base) as client:
        response = await client.post("/graphql", json={"query": query, "variables": variables},
                                     headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


MUTATION_OPEN = """mutation O($input: OpenMatterInput!) { openMatter(input: $input) {
  ... on MatterChanged { matter { id number } } ... on MatterError { code } } }"""
MUTATION_ADMIT = """mutation A($id: ID!) { admitMatter(id: $id) { ... on MatterError { code } } }"""
MUTATION_ASSESS = """mutation S($id: ID!, $input: AssessMatterInput!) {
  assessMatter(id: $id, input: $input) { ... on MatterError { code } } }"""
MUTATION_DISPATCH = """mutation D($id: ID!, $input: DispatchMatterInput!) {
  dispatchMatter(id: $id, input: $input) { ... on MatterError { code } } }"""


async def dispatched_matter(
    base: str, staff: str, *, title: str, region: str, org: str, track: str, category: str
) -> dict[str, str]:
    """A phone matter registered, admitted, assessed (ordinary) and dispatched to ``org``
    through the API by ``staff``: its ``id`` and ``number``."""
    opened = await ask(base, staff, MUTATION_OPEN, {"input": {
        "origin": "PHONE", "title": title, "regionCode": region}})  # fmt: skip
    matter: dict[str, str] = opened["openMatter"]["matter"]
    await ask(base, staff, MUTATION_ADMIT, {"id": matter["id"]})
    await ask(
        base,
        staff,
        MUTATION_ASSESS,
        {
            "id": matter["id"],
            "input": {
                "category": category,
                "risk": "BLUE",
                "tier": "ORDINARY",
                "leadOrg": "湖滨区综治中心",
            },
        },
    )
    await ask(base, staff, MUTATION_DISPATCH, {"id": matter["id"], "input": {
        "org": org, "track": track}})  # fmt: skip
    return matter
