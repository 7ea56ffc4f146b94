"""``govhub serve --workers N``: several processes answer on one port (PostgreSQL and Redis),
and a configuration they cannot run on is refused at start, naming what is missing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from domain.roles import Role
from hub.auth import mint_token
from hub.settings import Settings
from tests.conftest import scratch_schema, service_missing
from tests.integration.test_writeback_serve import _free_port

GOVHUB = Path(sys.executable).parent / "govhub"
QUERY = "{ records(first: 3) { totalCount edges { node { id } } } }"


async def _refused(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(GOVHUB), "serve", "--workers", "2", "--port", str(_free_port()),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return int(process.returncode or 0), " ".join(output.decode().split())


async def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "GOVHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'govhub.db'}",
        "GOVHUB_DATA_DIR": str(tmp_path),
    }
    code, output = await _refused(env)
    assert code == 2
    assert "GOVHUB_WORKERS=2 needs PostgreSQL" in output, output
    assert not (tmp_path / "govhub.db").exists()  # refused before anything was migrated


def _postgres_environment(url: str, schema: str, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "GOVHUB_DATABASE_URL": url,
        "GOVHUB_DATABASE_SCHEMA": schema,
        "GOVHUB_PII_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "GOVHUB_JWT_SECRET": secrets.token_urlsafe(32),
        "GOVHUB_DATA_DIR": str(tmp_path),
    }
    env.pop("GOVHUB_REDIS_URL", None)
    env.pop("GOVHUB_SOURCES_FILE", None)  # serving only
    return env


@pytest.mark.postgres
async def test_several_workers_need_redis(tmp_path: Path) -> None:
    async with scratch_schema("govhub_workers") as (url, schema):
        code, output = await _refused(_postgres_environment(url, schema, tmp_path))
    assert code == 2
    assert "GOVHUB_WORKERS=2 needs GOVHUB_REDIS_URL" in output, output


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_workers_answer_on_one_port(tmp_path: Path) -> None:
    redis_url = os.environ.get("GOVHUB_TEST_REDIS_URL")
    if not redis_url:
        service_missing("Redis not configured: set GOVHUB_TEST_REDIS_URL")
        return
    async with scratch_schema("govhub_workers") as (url, schema):
        env = {**_postgres_environment(url, schema, tmp_path), "GOVHUB_REDIS_URL": redis_url}
        await _two_workers_answer(env, tmp_path)


SLOW_WORKER_START = """\
import sys
import time

if "--multiprocessing-fork" in sys.argv:  # a worker process, before it imports anything
    time.sleep(7)
"""


@pytest.mark.postgres
async def test_workers_slow_to_start_are_not_killed_as_hung(tmp_path: Path) -> None:
    # given a machine so busy that a worker takes 7 s before it can answer uvicorn's health
    # check (importing govhub alone takes 4-5 s on a loaded 2-core machine)
    redis_url = os.environ.get("GOVHUB_TEST_REDIS_URL")
    if not redis_url:
        service_missing("Redis not configured: set GOVHUB_TEST_REDIS_URL")
        return
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(SLOW_WORKER_START, encoding="utf-8")
    async with scratch_schema("govhub_workers") as (url, schema):
        env = {**_postgres_environment(url, schema, tmp_path), "GOVHUB_REDIS_URL": redis_url}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(slow), env.get("PYTHONPATH")]))
        # when `govhub serve --workers 2` starts, then both workers come up and answer
        await _two_workers_answer(env, tmp_path)
    # and none was killed and started again on the way
    assert "died" not in (tmp_path / "serve.log").read_text()


async def _two_workers_answer(env: dict[str, str], tmp_path: Path) -> None:
    # given `govhub serve --workers 2` on PostgreSQL and Redis
    port = _free_port()
    log = tmp_path / "serve.log"
    async with serving_workers(env, port, log) as server:
        token = mint_token(
            Settings(jwt_secret=env["GOVHUB_JWT_SECRET"]),
            role=Role.CENTER_STAFF,
            regions=["411200"],
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            async with asyncio.timeout(60):
                while True:
                    try:
                        if (await client.get("/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert server.returncode is None, log.read_text()[-3000:]
                    await asyncio.sleep(0.2)
            # then two processes serve, each a child of the one started
            listing = Path(f"/proc/{server.pid}/task/{server.pid}/children")
            children = await asyncio.to_thread(listing.read_text)
            assert len(children.split()) >= 2, log.read_text()[-3000:]
            # and every request on many connections is answered (and audited)
            answers = await asyncio.gather(
                *(
                    client.post("/graphql", json={"query": QUERY}, headers=headers)
                    for _ in range(40)
                )
            )
    assert [answer.status_code for answer in answers] == [200] * 40
    assert all(answer.json()["data"]["records"]["totalCount"] == 0 for answer in answers)


@contextlib.asynccontextmanager
async def serving_workers(
    env: dict[str, str], port: int, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``govhub serve --workers 2`` on ``port``, its output in ``log``; stopped on leaving."""
    with log.open("wb") as output:
        server = await asyncio.create_subprocess_exec(
            str(GOVHUB), "serve", "--workers", "2", "--port", str(port),
            env=env, stdout=output, stderr=output,
        )  # fmt: skip
    try:
        yield server
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
