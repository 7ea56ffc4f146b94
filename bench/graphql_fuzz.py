"""Fuzz the GraphQL endpoint of a running server (模糊测试); pass: no internal error.

Seeds a throwaway SQLite database (or ``--database-url``, e.g. the local PostgreSQL,
in a throwaway schema) with a
small world, starts the real app under uvicorn on a free port, and sends ``--requests``
fuzzed requests over HTTP (``tests/integration/graphql_fuzz.py``: documents built from the
schema with edge-case arguments, malformed bodies, hostile headers). Prints the answers per
HTTP status and per error code, and the internal errors (5xx or ``INTERNAL_SERVER_ERROR``);
exits 1 if there is any. Run: ``.venv/bin/python bench/graphql_fuzz.py [--requests N]
[--seed S] [--concurrency C] [--database-url URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402 -- after the path set-up above
import uvicorn  # noqa: E402

from db.engine import scratch_schema  # noqa: E402
from db.migrate import migrated_engine  # noqa: E402
from db.pii import configure_pii  # noqa: E402
from hub.app import create_app  # noqa: E402
from resolvers.root import schema  # noqa: E402
from tests.integration.graphql_fuzz import Tally, fuzz  # noqa: E402
from tests.integration.graphql_world import hub_settings, seed_world  # noqa: E402


async def run(requests: int, seed: int, concurrency: int, database_url: str | None) -> Tally:
    key = secrets.token_bytes(32)
    configure_pii(key)
    async with contextlib.AsyncExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = database_url or f"sqlite+aiosqlite:///{tmp}/fuzz.db"
        schema_name = None
        if url.startswith("postgresql"):  # a throwaway schema, dropped afterwards
            schema_name = await stack.enter_async_context(scratch_schema(url, "govhub_fuzz"))
        async with migrated_engine(url, schema=schema_name) as engine:
            await seed_world(engine, records=200)
            settings = hub_settings(key, data_dir=Path(tmp), schedule_sync=False)
            app = create_app(settings, engine=engine)
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="error")
            )
            task = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 -- uvicorn offers a flag, no event
                await asyncio.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1]
            try:
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", timeout=60
                ) as client:
                    share = requests // concurrency
                    tallies = await asyncio.gather(
                        *(fuzz(client, schema._schema, share, seed + n) for n in range(concurrency))
                    )
            finally:
                server.should_exit = True
                await task
    total = Tally()
    for tally in tallies:
        total.statuses.update(tally.statuses)
        total.codes.update(tally.codes)
        total.internal.extend(tally.internal)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="default: a throwaway SQLite file")
    args = parser.parse_args()
    started = time.perf_counter()
    tally = asyncio.run(run(args.requests, args.seed, args.concurrency, args.database_url))
    print(tally.report())
    print(f"elapsed: {time.perf_counter() - started:.1f} s")
    sys.exit(1 if tally.internal else 0)


if __name__ == "__main__":
    main()
