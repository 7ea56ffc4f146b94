"""Prometheus metrics (监控指标) and the ASGI middleware that records HTTP traffic.

One process (``serve``, ``demo``, tests) answers ``/metrics`` from :data:`REGISTRY`.
``serve --workers N`` runs N processes and any of them may take a scrape, so there each
process records its counters, histograms and gauges in files of one directory
(``PROMETHEUS_MULTIPROC_DIR``, set by ``serve`` before the workers start: see
:mod:`hub.worker_metrics`) and ``/metrics`` answers with the sums over every process's files
(prometheus_client's multiprocess mode). Every figure a process counts is therefore a real
prometheus_client metric, never a collector reading in-process counts; a collector only reads
what every process sees alike (the database: :func:`register_shared`).
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.fastpath.handbacks import HandBack, on_hand_back

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""Where the processes of ``serve --workers N`` keep their metrics; prometheus_client picks
its mode from it when it is first imported."""

MULTIPROCESS_DIR = os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None
"""This process's metrics directory; ``None``: one process, metrics in memory. The variable
prometheus_client read when it was first imported to choose where values live: ``serve`` sets
it only for workers it has yet to start, so both read the same."""

REGISTRY = CollectorRegistry(auto_describe=True)
_SHARED: list[Collector] = []

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
SERVING_PROCESSES = Gauge(
    "govhub_serving_processes",
    "Processes answering requests (服务进程数); a worker that exits leaves the sum",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
FAST_PATH_HAND_BACKS = Counter(
    "govhub_fast_path_hand_backs_total",
    "Fields the lighter execution path handed back to graphql-core, by reason",
    ["reason"],
    registry=REGISTRY,
)
for _reason in HandBack:  # every reason present from the start, at zero
    FAST_PATH_HAND_BACKS.labels(reason=_reason.value)
# schema.fastpath.handbacks counts in the process and knows no Prometheus; it tells us too
on_hand_back(lambda reason: FAST_PATH_HAND_BACKS.labels(reason=reason.value).inc())
RISK_ALERTS = Counter(
    "govhub_risk_alerts_total",
    "Risk grades that rose to the alert level (风险预警), by target and level",
    ["target", "level"],
    registry=REGISTRY,
)
_KNOWN_PATHS = {"/graphql", "/healthz", "/readyz", "/metrics"}


def register_shared(collector: Collector) -> None:
    """Register a collector whose figures are the deployment's, read from what every process
    sees alike (a snapshot of the database), so that whichever process takes a scrape
    answers with them. A figure one process counts must be a metric of :data:`REGISTRY`."""
    REGISTRY.register(collector)
    _SHARED.append(collector)


def exposed_registry() -> CollectorRegistry:
    """What ``/metrics`` answers: :data:`REGISTRY` in one process; with several, the sums of
    every process's metric files and the shared collectors."""
    if MULTIPROCESS_DIR is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]  # untyped upstream
    for collector in _SHARED:
        registry.register(collector)
    return registry


@functools.cache
def _requests_counted(path: str, status: int) -> Any:
    """The request counter of one route and status, looked up once (a labelled child is
    found under a lock and its labels checked on every ``labels`` call); routes are the
    known paths and ``other``, statuses the few HTTP ones, so the cache stays small."""
    return HTTP_REQUESTS.labels(path=path, status=str(status))


@functools.cache
def _latency_observed(path: str) -> Any:
    return HTTP_LATENCY.labels(path=path)


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
