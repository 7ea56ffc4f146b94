"""The console's own JavaScript in Chromium without a hub (控制台源文件页): a page served from
``console/static`` under a made-up origin, every other host blocked, so a test can import
``labels.js`` and call its functions as the console does."""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import AsyncIterator
from typing import Any

from playwright.async_api import Browser, Page, Route

from console import CONSOLE

ORIGIN = "http://console.test"


async def serve_sources(route: Route) -> None:
    url = route.request.url
    path = url.removeprefix(ORIGIN).split("?")[0]
    if url.startswith(ORIGIN) and path == "/":
        await route.fulfill(body="<!doctype html><title>due</title>", content_type="text/html")
        return
    file = (CONSOLE / path.lstrip("/")).resolve()
    if not url.startswith(ORIGIN) or CONSOLE not in file.parents or not file.is_file():
        await route.abort()  # nothing but the console's own sources
        return
    kind = "text/javascript" if file.suffix == ".js" else mimetypes.guess_type(file.name)[0]
    await route.fulfill(body=file.read_bytes(), content_type=kind or "application/octet-stream")


@contextlib.asynccontextmanager
async def sources_page(browser: Browser, **context: Any) -> AsyncIterator[Page]:
    """A page at ``ORIGIN`` that serves only the console's sources (``context``: the browser
    context's options, e.g. ``timezone_id``)."""
    opened_context = await browser.new_context(**context)
    opened = await opened_context.new_page()
    await opened.route("**/*", serve_sources)
    await opened.goto(f"{ORIGIN}/")
    try:
        yield opened
    finally:
        await opened_context.close()
