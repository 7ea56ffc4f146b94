"""``/metrics`` of ``govhub serve --workers N``: whichever worker takes the scrape answers with
every worker's figures, a dead worker's counts stay while its live gauge drops, an earlier
run's counts are never added in, and a metrics directory that cannot be written is refused."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain.roles import Role
from hub.auth import mint_token
from hub.settings import Settings
from tests.conftest import scratch_schema, service_missing
from tests.integration.test_serve_workers import (
    _postgres_environment,
    _refused,
    serving_workers,
)
from tests.integration.test_writeback_serve import _free_port

QUERY = "{ records(first: 1) { totalCount } }"
REQUESTS = 40
Sample = tuple[str, dict[str, str]]
GRAPHQL_ANSWERED: Sample = ("govhub_http_requests_total", {"path": "/graphql", "status": "200"})
SERVING: Sample = ("govhub_serving_processes", {})

STALE_RUN = """\
from prometheus_client import Counter

Counter("govhub_http_requests_total", "", ["path", "status"]).labels("/graphql", "200").inc(1000)
"""


def _sample(exposition: str, wanted: Sample) -> float | None:
    """The value of one sample of a ``/metrics`` answer (``None``: not there)."""
    name, labels = wanted
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


async def _scrapes(port: int, times: int) -> list[str]:
    """``/metrics`` on a new connection each time, so that either worker may answer."""
    answers = []
    for _ in range(times):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            response = await client.get("/metrics")
        assert response.status_code == 200
        answers.append(response.text)
    return answers


def _workers(pid: int) -> set[int]:
    """The worker processes ``serve`` (``pid``) runs (not multiprocessing's resource tracker)."""
    listing = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    children = (int(child) for child in listing.split())
    return {child for child in children
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()}  # fmt: skip


@pytest.mark.postgres
@pytest.mark.redis
async def test_metrics_add_up_every_workers_requests_whichever_answers(tmp_path: Path) -> None:
    redis_url = os.environ.get("GOVHUB_TEST_REDIS_URL")
    if not redis_url:
        service_missing("Redis not configured: set GOVHUB_TEST_REDIS_URL")
        return
    # given the metrics an earlier run left behind in the metrics directory
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    earlier = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STALE_RUN,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
    )  # fmt: skip
    assert await earlier.wait() == 0
    async with scratch_schema("govhub_workers") as (url, schema):
        env = {**_postgres_environment(url, schema, tmp_path), "GOVHUB_REDIS_URL": redis_url}
        port = _free_port()
        log = tmp_path / "serve.log"
        # and `govhub serve --workers 2` on PostgreSQL and Redis, both workers up
        async with serving_workers(env, port, log) as server:
            await _both_workers_serving(server, port, log)
            # when many requests arrive on many connections
            token = mint_token(Settings(jwt_secret=env["GOVHUB_JWT_SECRET"]),
                               role=Role.CENTER_STAFF, regions=["411200"])  # fmt: skip
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
                answers = await asyncio.gather(
                    *(c.post("/graphql", json={"query": QUERY}, headers=headers)
                      for _ in range(REQUESTS))
                )  # fmt: skip
            assert [answer.status_code for answer in answers] == [200] * REQUESTS
            # then every scrape, whichever worker takes it, counts them all (and no more)
            for exposition in await _scrapes(port, 6):
                assert _sample(exposition, GRAPHQL_ANSWERED) == REQUESTS, exposition
                assert _sample(exposition, SERVING) == 2

            # when a worker dies and uvicorn starts another in its place
            before = _workers(server.pid)
            assert len(before) == 2
            os.kill(min(before), signal.SIGKILL)
            async with asyncio.timeout(45):
                await _started(server, log, 3)
            serving = None
            for _ in range(25):  # the new worker counts itself just after it logs its start
                serving = _sample((await _scrapes(port, 1))[0], SERVING)
                if serving == 2:
                    break
                await asyncio.sleep(0.2)
            # then the dead worker is no longer counted as serving, and its requests still count
            assert serving == 2, f"{serving} processes counted as serving (the dead one too?)"
            assert len(_workers(server.pid) - before) == 1
            for exposition in await _scrapes(port, 4):
                assert _sample(exposition, GRAPHQL_ANSWERED) == REQUESTS, exposition
                assert _sample(exposition, SERVING) == 2


async def _both_workers_serving(
    server: asyncio.subprocess.Process, port: int, log: Path
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        async with asyncio.timeout(60):
            await _started(server, log, 2)
            while True:
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)


async def _started(server: asyncio.subprocess.Process, log: Path, apps: int) -> None:
    """Until ``apps`` workers in all have started their app (the log says so)."""
    while True:
        text = await asyncio.to_thread(log.read_text)
        if text.count("hub_started") >= apps:
            return
        assert server.returncode is None, text[-3000:]
        await asyncio.sleep(0.2)


async def test_a_metrics_directory_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    # given GOVHUB_METRICS_DIR under a plain file
    (tmp_path / "plain").write_text("not a directory", encoding="utf-8")
    env = {
        **os.environ,
        "GOVHUB_DATABASE_URL": "postgresql+asyncpg://govhub@127.0.0.1:9/govhub",
        "GOVHUB_REDIS_URL": "redis://127.0.0.1:9/0",
        "GOVHUB_DATA_DIR": str(tmp_path),
        "GOVHUB_METRICS_DIR": str(tmp_path / "plain" / "metrics"),
    }
    # when `govhub serve --workers 2` starts
    code, output = await _refused(env)
    # then it stops at once, on one coded line naming the variable
    assert code == 2, output
    assert "configuration error (INVALID_SETTING): GOVHUB_METRICS_DIR" in output, output
    assert "cannot be written: Not a directory" in output, output
