"""Throughput and p99 of the 50-record ``records`` page under load, over HTTP.

Seeds a database (SQLite file, and a throwaway PostgreSQL database when reachable) with
100,000 records, starts ``uvicorn`` with 1 and then 2 workers, and drives it from a separate
load-generator process (``wrk`` is not installed here: a small httpx asyncio client, run as
a subprocess, with N concurrent connections for a fixed time after a warm-up).
Every request carries a centre-staff bearer token, and each configuration runs with the audit
trail on (every operation one hash-chained row, group-committed) and off
(``GOVHUB_AUDIT_ENABLED=false``, for measurement only), so the audit's cost is visible.
``--rate R`` switches to an open loop: R requests start every second whatever the answers do,
and latency counts from each scheduled start, so a cost shows as latency rather than as fewer
requests. Run: ``.venv/bin/python bench/query_load.py [--records N] [--duration S]
[--concurrency C | --rate R] [--audit on|off|both] [--workers 1,2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402 -- after the path set-up above
from page_query import QUERY_PAGE  # noqa: E402


def create_bench_app() -> Any:
    """The uvicorn factory: the real app, configured from ``GOVHUB_*`` variables."""
    from hub.app import create_app
    from hub.settings import Settings

    return create_app(Settings())


# ---------------------------------------------------------------- load generator (subprocess)
async def generate(
    url: str,
    duration: float,
    concurrency: int,
    warmup: float,
    token: str,
    rate: float | None = None,
) -> dict[str, Any]:
    """Closed loop (``concurrency`` clients, each sending when its last answer came), or with
    ``rate`` an open loop: requests start on a fixed schedule whatever the answers do, and each
    latency counts from its scheduled start (queueing included)."""
    payload = {"query": QUERY_PAGE, "variables": {"first": 50}}
    latencies: list[float] = []
    errors = 0
    if rate is not None:
        concurrency = 512  # connections are not the limit in an open loop
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:
        started = time.perf_counter()
        measure_from = started + warmup
        stop_at = measure_from + duration

        async def worker() -> None:
            nonlocal errors
            while (now := time.perf_counter()) < stop_at:
                response = await client.post(url, json=payload)
                done = time.perf_counter()
                if now >= measure_from:
                    if response.status_code != 200 or "errors" in response.json():
                        errors += 1
                    latencies.append((done - now) * 1000)

        async def scheduled(at: float) -> None:
            nonlocal errors
            response = await client.post(url, json=payload)
            if at >= measure_from:
                if response.status_code != 200 or "errors" in response.json():
                    errors += 1
                latencies.append((time.perf_counter() - at) * 1000)

        async def open_loop(interval: float) -> None:
            requests: list[asyncio.Task[None]] = []
            at = started
            while at < stop_at:
                if (wait := at - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                requests.append(asyncio.create_task(scheduled(at)))
                at += interval
            await asyncio.gather(*requests)

        if rate is None:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        else:
            await open_loop(1 / rate)
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / duration,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


# ---------------------------------------------------------------- driver
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError("uvicorn exited during start-up")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("uvicorn did not become ready")


def _bench_token(secret: str) -> str:
    from domain.roles import Role
    from hub.auth import mint_token
    from hub.settings import Settings

    settings = Settings(jwt_secret=secret)
    return mint_token(settings, role=Role.CENTER_STAFF, regions=["410000"], ttl_seconds=3600)


def run_server_and_load(
    label: str,
    database_url: str,
    pii_key: str,
    workers: int,
    args: argparse.Namespace,
    *,
    audit: bool,
) -> None:
    port = _free_port()
    secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "GOVHUB_DATABASE_URL": database_url,
        "GOVHUB_PII_KEY": pii_key,
        "GOVHUB_JWT_SECRET": secret,
        "GOVHUB_ENV": "prod",
        "GOVHUB_AUDIT_ENABLED": "true" if audit else "false",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "query_load:create_bench_app",
         "--app-dir", str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, server)
        generator = subprocess.run(
            [sys.executable, __file__, "generate", f"{base}/graphql",
             "--duration", str(args.duration), "--concurrency", str(args.concurrency),
             "--token", _bench_token(secret),
             *(["--rate", str(args.rate)] if args.rate else [])],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        result = json.loads(generator.stdout)
        print(
            f"[{label}] uvicorn x{workers} audit {'on ' if audit else 'off'}: "
            f"{result['rps']:7.1f} req/s   "
            f"p50 {result['p50']:6.1f} ms   p99 {result['p99']:6.1f} ms   "
            f"({result['requests']} requests, {result['errors']} errors, "
            + (
                f"open loop at {args.rate:g} req/s, "
                if args.rate
                else f"{args.concurrency} connections, "
            )
            + f"{args.duration:.0f}s)",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _seed(engine_url: str, records: int) -> None:
    from sqlalchemy import text

    from db.engine import create_engine
    from db.migrate import upgrade
    from tests.integration.graphql_world import seed_world

    engine = create_engine(engine_url)
    try:
        await upgrade(engine)
        await seed_world(engine, records=records)
        if engine.dialect.name == "postgresql":  # fresh tables: give the planner statistics
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="drive", choices=["drive", "generate"])
    parser.add_argument("url", nargs="?")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--audit", choices=["on", "off", "both"], default="both")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts to try")
    parser.add_argument("--token", help="bearer token (generate mode)")
    parser.add_argument(
        "--rate",
        type=float,
        help="open loop: start this many requests per second whatever the answers "
        "(latency counts queueing); default: closed loop over --concurrency connections",
    )
    args = parser.parse_args()
    if args.mode == "generate":
        result = asyncio.run(
            generate(
                args.url, args.duration, args.concurrency, args.warmup, args.token, args.rate
            )
        )
        print(json.dumps(result))
        return
    from db.pii import configure_pii

    key = secrets.token_bytes(32)
    configure_pii(key)
    pii_key = base64.urlsafe_b64encode(key).decode()
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{directory}/load.db"
            asyncio.run(_seed(url, args.records))
            print(f"[sqlite] seeded {args.records:,} records", flush=True)
            run_configurations("sqlite", url, pii_key, args)
    if args.only != "sqlite":
        run_postgres(args, pii_key)


def run_configurations(label: str, url: str, pii_key: str, args: argparse.Namespace) -> None:
    audits = {"on": [True], "off": [False], "both": [True, False]}[args.audit]
    for workers in (int(n) for n in args.workers.split(",")):
        for audit in audits:
            run_server_and_load(label, url, pii_key, workers, args, audit=audit)


def run_postgres(args: argparse.Namespace, pii_key: str) -> None:
    from query_latency import DEFAULT_PG, postgres_database

    admin_url = os.environ.get("GOVHUB_BENCH_DATABASE_URL", DEFAULT_PG)

    async def with_database(action: Any) -> None:
        async with postgres_database(admin_url) as engine:
            url = engine.url.render_as_string(hide_password=False)
            await _seed(url, args.records)
            print(f"[postgres] seeded {args.records:,} records", flush=True)
            await asyncio.to_thread(action, url)

    def load(url: str) -> None:
        run_configurations("postgres", url, pii_key, args)

    try:
        asyncio.run(with_database(load))
    except OSError as exc:
        print(f"[postgres] skipped: {admin_url} unreachable ({type(exc).__name__})")


if __name__ == "__main__":
    main()
