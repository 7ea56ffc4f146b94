"""Which connector serves which source, and the clients they share for one run or one app."""

from __future__ import annotations

import importlib
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import cache

import httpx

from connectors.base import Connector
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from domain.enums import SourceSystem

# One module per source; each exposes ``build(config, client) -> Connector``.
CONNECTOR_MODULES: dict[SourceSystem, str] = {
    SourceSystem.POLICE_110: "connectors.police",
    SourceSystem.GRID: "connectors.grid",
    SourceSystem.MEDIATION: "connectors.mediation",
    SourceSystem.PETITION: "connectors.petition",
    SourceSystem.COURT: "connectors.court",
}


@cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every source's client: httpx's own default (certifi's authorities,
    or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set), built once per process rather than by
    each client (loading the authorities is about 25 ms of CPU, for every source in every
    sync worker); ``govhub sync --workers N`` builds it before forking."""
    return httpx.create_ssl_context()


def make_http_client(config: SourceConfig | None = None) -> httpx.AsyncClient:
    """A source's client; without ``config``, one that sends nothing (to build connectors)."""
    if config is None:
        return httpx.AsyncClient(verify=tls_context())
    return httpx.AsyncClient(
        base_url=config.url,
        timeout=httpx.Timeout(config.timeout_seconds),
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
        follow_redirects=False,
        verify=tls_context(),
    )


def make_breaker(source: SourceSystem, config: SourceConfig) -> CircuitBreaker:
    return CircuitBreaker(
        source, threshold=config.breaker.threshold, cooldown=config.breaker.cooldown_seconds
    )


def build_connector(
    source: SourceSystem, config: SourceConfig, http: httpx.AsyncClient
) -> Connector:
    module = importlib.import_module(CONNECTOR_MODULES[source])
    build: Callable[[SourceConfig, httpx.AsyncClient, CircuitBreaker], Connector] = module.build
    return build(config, http, make_breaker(source, config))


@asynccontextmanager
async def open_connectors(
    sources: dict[SourceSystem, SourceConfig], only: set[SourceSystem] | None = None
) -> AsyncIterator[dict[SourceSystem, Connector]]:
    """One ``httpx.AsyncClient`` per enabled source, all closed on exit."""
    async with AsyncExitStack() as stack:
        connectors: dict[SourceSystem, Connector] = {}
        for source, config in sources.items():
            if not config.enabled or (only is not None and source not in only):
                continue
            http = await stack.enter_async_context(make_http_client(config))
            connectors[source] = build_connector(source, config, http)
        yield connectors
