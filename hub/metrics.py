"""Prometheus metrics (监控指标) and the ASGI middleware that records HTTP traffic."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.fastpath.handbacks import hand_back_counts

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "govhub_http_requests_total",
    "HTTP requests by route and status",
    ["path", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "govhub_http_request_seconds",
    "HTTP request latency by route",
    ["path"],
    registry=REGISTRY,
)


@functools.cache
def _requests_counted(path: str, status: int) -> Any:
    """The request counter of one route and status, looked up once (a labelled child is
    found under a lock and its labels checked on every ``labels`` call); routes are the
    known paths and ``other``, statuses the few HTTP ones, so the cache stays small."""
    return HTTP_REQUESTS.labels(path=path, status=str(status))


@functools.cache
def _latency_observed(path: str) -> Any:
    return HTTP_LATENCY.labels(path=path)


class FastPathHandBacks(Collector):
    """``govhub_fast_path_hand_backs_total{reason}``: fields the lighter execution path handed
    back to graphql-core (schema.fastpath.handbacks keeps the counts; no Prometheus there)."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "govhub_fast_path_hand_backs",
            "Fields the lighter execution path handed back to graphql-core, by reason",
            labels=["reason"],
        )
        for reason, count in hand_back_counts().items():
            family.add_metric([reason.value], count)
        yield family


REGISTRY.register(FastPathHandBacks())
RISK_ALERTS = Counter(
    "govhub_risk_alerts_total",
    "Risk grades that rose to the alert level (风险预警), by target and level",
    ["target", "level"],
    registry=REGISTRY,
)
_KNOWN_PATHS = {"/graphql", "/healthz", "/readyz", "/metrics"}


class MetricsMiddleware:
    """Counts requests and observes latency; unknown paths share one label."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in _KNOWN_PATHS else "other"
        status = 500
        started = time.perf_counter()

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            _requests_counted(path, status).inc()
            _latency_observed(path).observe(time.perf_counter() - started)
