"""govhub beside PostGraphile 5.1.5 on the same PostgreSQL data (同机对照: 读性能).

Loads ``--records`` records (100,000 by default; 1–3 parties each, persons named by several
records) into a PostgreSQL database, exposes them to PostGraphile through views that keep
what the benchmark principal may read (中心工作人员, jurisdiction 411200: records not withdrawn
whose division code starts ``4112``; a person only when such a record names them; parties
only of such records), starts ``govhub serve``'s app (uvicorn, audit on, ``--workers``
processes: 1 by default, as many as cores for a deployment's figure) and PostGraphile (one
Node process) side by side, checks that both answer the three queries identically record by
record, then drives each with autocannon (16 connections) in alternating rounds and prints
req/s, p99, the CPU each side spent per request (its server's processes, and PostgreSQL's)
and the ratios govhub ÷ PostGraphile (the issue's goals: page ≥ 1.0, by id ≥ 0.5,
nested ≥ 1.0).

Run (after ``npm ci`` in bench/peer, Node 20):
``.venv/bin/python bench/peer/run.py [--records N] [--rounds 5] [--duration 8] [--workers 2]
[--database postgresql+asyncpg://…/name (kept and reused; default: a throwaway one)]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402 -- after the path set-up above
import psutil  # noqa: E402
from query_load import _free_port, _wait_ready  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402

PREFIX = "4112"
"""The benchmark principal's jurisdiction (division-code prefix of 411200)."""
PEER_SCHEMA = "peer"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"

GOVHUB_PAGE = """query Page { records(first: 50) { edges { node {
  id kind source sourceKey title occurredAt status
  region { code name level }
  parties { role name person { id name } }
} } } }"""
GOVHUB_BY_ID = """query ById($id: ID!) { node(id: $id) { id ... on Record {
  kind source sourceKey title occurredAt status region { code name level }
} } }"""
GOVHUB_NESTED = """query Nested { records(first: 10) { edges { node {
  id title
  parties { role person { id name records { record { id title } } } }
} } } }"""

PEER_PAGE = """query Page { allRecords(first: 50, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) {
  nodes { rowId kind source sourceKey title occurredAt status
    regionByRegionCode { code name level }
    partiesByRecordId(orderBy: POSITION_ASC) { nodes { role name personByPersonId { rowId name } } }
} } }"""
PEER_BY_ID = """query ById($id: Int!) { recordByRowId(rowId: $id) {
  rowId kind source sourceKey title occurredAt status regionByRegionCode { code name level }
} }"""
PEER_NESTED = """query Nested { allRecords(first: 10, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) {
  nodes { rowId title
    partiesByRecordId(orderBy: POSITION_ASC) { nodes { role personByPersonId { rowId name
      personRecordsByPersonId(orderBy: [OCCURRED_AT_ASC, RECORD_ID_ASC]) {
        nodes { recordByRecordId { rowId title } } } } } }
} } }"""

PEER_VIEWS = f"""

DROP SCHEMA IF EXISTS {PEER_SCHEMA} CASCADE;
CREATE SCHEMA {PEER_SCHEMA};
CREATE VIEW {PEER_SCHEMA}.regions AS SELECT code, name, level FROM public.regions;
COMMENT ON VIEW {PEER_SCHEMA}.regions IS E'@primaryKey code';
CREATE VIEW {PEER_SCHEMA}.records AS
  SELECT id, kind, source, source_key, title, occurred_at, status, region_code
  FROM public.records WHERE NOT deleted AND region_code LIKE '{PREFIX}%';
COMMENT ON VIEW {PEER_SCHEMA}.records IS
  E'@primaryKey id\\n@foreignKey (region_code) references {PEER_SCHEMA}.regions (code)';
CREATE VIEW {PEER_SCHEMA}.persons AS
  SELECT p.id, p.name FROM public.persons p WHERE EXISTS (
    SELECT 1 FROM public.party_mentions m JOIN public.records r ON r.id = m.record_id
    WHERE m.person_id = p.id AND r.region_code LIKE '{PREFIX}%');
COMMENT ON VIEW {PEER_SCHEMA}.persons IS E'@primaryKey id';
CREATE VIEW {PEER_SCHEMA}.parties AS
  SELECT m.id, m.record_id, m.position, m.role, m.name, m.person_id
  FROM public.party_mentions m JOIN {PEER_SCHEMA}.records r ON r.id = m.record_id;
COMMENT ON VIEW {PEER_SCHEMA}.parties IS E'@primaryKey id\\n'
  '@foreignKey (record_id) references {PEER_SCHEMA}.records (id)\\n'
  '@foreignKey (person_id) references {PEER_SCHEMA}.persons (id)';
CREATE VIEW {PEER_SCHEMA}.person_records AS
  SELECT DISTINCT m.person_id, r.id AS record_id, r.occurred_at
  FROM public.party_mentions m JOIN {PEER_SCHEMA}.records r ON r.id = m.record_id
  WHERE m.person_id IS NOT NULL;
COMMENT ON VIEW {PEER_SCHEMA}.person_records IS E'@primaryKey person_id,record_id\\n'
  '@foreignKey (person_id) references {PEER_SCHEMA}.persons (id)\\n'
  '@foreignKey (record_id) references {PEER_SCHEMA}.records (id)';
"""  # noqa: S608 -- built from this script's constants only


# ---------------------------------------------------------------------------------- data
async def seed(url: str, records: int) -> None:
    """``records`` records, kinds in turn, a quarter outside the jurisdiction, one in ten
    withdrawn; 1–3 parties each, 70 % of them resolved to one of ``records // 5`` persons."""
    import random

    from db.engine import create_engine
    from db.migrate import upgrade
    from domain.enums import CaseStatus, DisputeCategory, PartyRole, RiskLevel, SourceSystem
    from domain.kinds import KIND_OF_SOURCE
    from tests.integration.graphql_world import (
        BASE_TIME,
        KIND_MODELS,
        RECORD_REGIONS,
        _insert,
        _insert_regions,
        _kind_row,
    )

    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            if (await connection.execute(text("SELECT count(*) FROM records"))).scalar_one():
                return
        from db.models import PartyMention, Person, Record

        rng = random.Random(19)
        sources = list(SourceSystem)
        person_count = max(8, records // 5)
        persons = [
            {"id": n + 1, "name": f"居民{n + 1}", "region_code": RECORD_REGIONS[n % 3]}
            for n in range(person_count)
        ]
        record_rows: list[dict[str, Any]] = []
        kind_rows: dict[Any, list[dict[str, Any]]] = {kind: [] for kind in KIND_MODELS}
        party_rows: list[dict[str, Any]] = []
        for n in range(records):
            record_id = n + 1
            source = sources[n % len(sources)]
            kind = KIND_OF_SOURCE[source]
            occurred = BASE_TIME - timedelta(minutes=7 * n)
            record_rows.append(
                {"id": record_id, "kind": kind, "source": source, "source_key": f"K{record_id}",
                 "category": list(DisputeCategory)[n % len(DisputeCategory)],
                 "title": f"纠纷{n}", "summary": None, "occurred_at": occurred,
                 "reported_at": occurred + timedelta(minutes=30),
                 "region_code": RECORD_REGIONS[n % len(RECORD_REGIONS)],
                 "address": f"湖滨区{n}号", "status": list(CaseStatus)[n % len(CaseStatus)],
                 "risk_level": list(RiskLevel)[n % len(RiskLevel)], "source_status": "01",
                 "source_updated_at": occurred, "updated_at": occurred, "deleted": n % 10 == 9}
            )  # fmt: skip
            kind_rows[kind].append(_kind_row(kind, record_id, n, occurred))
            for position in range(1 + n % 3):
                person = rng.randrange(person_count) if rng.random() < 0.7 else None
                party_rows.append(
                    {"record_id": record_id, "position": position,
                     "role": PartyRole.APPLICANT if position == 0 else PartyRole.RESPONDENT,
                     "name": persons[person]["name"] if person is not None else f"当事人{n}",
                     "is_organisation": False, "id_number": None, "id_number_index": None,
                     "phone": None, "phone_index": None,
                     "person_id": person + 1 if person is not None else None}
                )  # fmt: skip
        async with engine.begin() as connection:
            await _insert_regions(connection)
            await _insert(connection, Person, persons)
            await _insert(connection, Record, record_rows)
            for kind, rows in kind_rows.items():
                if rows:
                    await _insert(connection, KIND_MODELS[kind], rows)
            await _insert(connection, PartyMention, party_rows)
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


async def create_peer_views(url: str) -> None:
    from db.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in PEER_VIEWS.split(";\n"):
                if statement.strip():
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()


# ------------------------------------------------------------------------------ servers
def start_govhub(
    url: str, data_dir: str, root: Path = ROOT, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str, str]:
    from domain.roles import Role
    from hub.auth import mint_token
    from hub.settings import Settings

    port = _free_port()
    secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "GOVHUB_DATABASE_URL": url,
        "GOVHUB_PII_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "GOVHUB_JWT_SECRET": secret,
        "GOVHUB_ENV": "prod",
        "GOVHUB_DATA_DIR": data_dir,
        "GOVHUB_AUDIT_ENABLED": "true",
        "GOVHUB_SCHEDULE_SYNC": "false",
        "GOVHUB_DELIVER_WRITEBACKS": "false",
        "GOVHUB_SCAN_DEADLINES": "false",
        "PYTHONPATH": str(root),
    }
    if workers > 1:  # as `govhub serve --workers N` requires
        env["GOVHUB_REDIS_URL"] = os.environ.get("GOVHUB_BENCH_REDIS_URL", DEFAULT_REDIS)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "query_load:create_bench_app",
         "--app-dir", str(root / "bench"), "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--workers", str(workers)],
        env=env, cwd=root,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    _wait_ready(base, server)
    token = mint_token(
        Settings(jwt_secret=secret), role=Role.CENTER_STAFF, regions=["411200"], ttl_seconds=7200
    )
    return server, f"{base}/graphql", token


def start_postgraphile(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    server = subprocess.Popen(
        ["node", str(HERE / "server.mjs"), plain, str(port), PEER_SCHEMA], cwd=HERE
    )
    endpoint = f"http://127.0.0.1:{port}/graphql"
    deadline = time.time() + 90
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError("PostGraphile exited during start-up")
        try:
            answer = httpx.post(endpoint, json={"query": "{ __typename }"}, timeout=2)
            if answer.status_code == 200:
                return server, endpoint
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("PostGraphile did not become ready")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


# ------------------------------------------------------------------------- same answers
def post(endpoint: str, query: str, variables: dict[str, Any], token: str | None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(
        endpoint, json={"query": query, "variables": variables}, headers=headers, timeout=60
    ).json()
    if body.get("errors"):
        raise RuntimeError(f"{endpoint}: {json.dumps(body['errors'], ensure_ascii=False)[:800]}")
    return body["data"]


def _row_id(global_id: str) -> int:
    from resolvers.cursors import parse_global_id

    return parse_global_id(global_id)[1]


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _record(node: dict[str, Any], row_id: int, region: Any) -> dict[str, Any]:
    return {
        "id": row_id, "kind": node["kind"], "source": node["source"],
        "sourceKey": node["sourceKey"], "title": node["title"],
        "occurredAt": _when(node["occurredAt"]), "status": node["status"], "region": region,
    }  # fmt: skip


def govhub_page(data: Any) -> list[Any]:
    return [
        _record(n, _row_id(n["id"]), n["region"])
        | {
            "parties": [
                {
                    "role": p["role"],
                    "name": p["name"],
                    "person": _row_id(p["person"]["id"]) if p["person"] else None,
                    "personName": p["person"]["name"] if p["person"] else None,
                }
                for p in n["parties"]
            ]
        }
        for n in (edge["node"] for edge in data["records"]["edges"])
    ]


def peer_page(data: Any) -> list[Any]:
    return [
        _record(n, n["rowId"], n["regionByRegionCode"])
        | {
            "parties": [
                {
                    "role": p["role"],
                    "name": p["name"],
                    "person": p["personByPersonId"]["rowId"] if p["personByPersonId"] else None,
                    "personName": p["personByPersonId"]["name"] if p["personByPersonId"] else None,
                }
                for p in n["partiesByRecordId"]["nodes"]
            ]
        }
        for n in data["allRecords"]["nodes"]
    ]


def govhub_by_id(data: Any) -> Any:
    node = data["node"]
    return _record(node, _row_id(node["id"]), node["region"])


def peer_by_id(data: Any) -> Any:
    node = data["recordByRowId"]
    return _record(node, node["rowId"], node["regionByRegionCode"])


def govhub_nested(data: Any) -> list[Any]:
    return [
        {
            "id": _row_id(n["id"]),
            "title": n["title"],
            "parties": [
                {
                    "role": p["role"],
                    "person": None
                    if p["person"] is None
                    else {
                        "id": _row_id(p["person"]["id"]),
                        "name": p["person"]["name"],
                        "records": [
                            (_row_id(e["record"]["id"]), e["record"]["title"])
                            for e in p["person"]["records"]
                        ],
                    },
                }
                for p in n["parties"]
            ],
        }
        for n in (edge["node"] for edge in data["records"]["edges"])
    ]


def peer_nested(data: Any) -> list[Any]:
    def person(p: Any) -> Any:
        if p is None:
            return None
        entries = p["personRecordsByPersonId"]["nodes"]
        return {
            "id": p["rowId"],
            "name": p["name"],
            "records": [
                (e["recordByRecordId"]["rowId"], e["recordByRecordId"]["title"]) for e in entries
            ],
        }

    return [
        {
            "id": n["rowId"],
            "title": n["title"],
            "parties": [
                {"role": p["role"], "person": person(p["personByPersonId"])}
                for p in n["partiesByRecordId"]["nodes"]
            ],
        }
        for n in data["allRecords"]["nodes"]
    ]


Normalise = Callable[[Any], Any]


def check_same(
    name: str,
    govhub: tuple[str, str, dict[str, Any], Normalise],
    peer: tuple[str, str, dict[str, Any], Normalise],
    token: str,
) -> None:
    ours = govhub[3](post(govhub[0], govhub[1], govhub[2], token))
    theirs = peer[3](post(peer[0], peer[1], peer[2], None))
    if ours != theirs:
        raise SystemExit(
            f"[{name}] answers differ:\ngovhub {ours!r:.1500}\npeer   {theirs!r:.1500}"
        )
    size = len(ours) if isinstance(ours, list) else 1
    print(f"[{name}] identical answers ({size} records compared field by field)", flush=True)


# --------------------------------------------------------------------------------- load
def _median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def _summary_line(name: str, govhub: list[dict[str, float]], peer: list[dict[str, float]]) -> str:
    def cpu(rows: list[dict[str, float]]) -> str:
        return f"{_median(rows, 'server_ms'):.2f}+{_median(rows, 'pg_ms'):.2f}"

    ratio = _median(govhub, "rps") / _median(peer, "rps")
    return (
        f"{name:8} {_median(govhub, 'rps'):13.1f} {_median(govhub, 'p99'):7.0f} "
        f"{cpu(govhub):>11} {_median(peer, 'rps'):13.1f} {_median(peer, 'p99'):7.0f} "
        f"{cpu(peer):>11} {ratio:11.2f}×"
    )


def _cpu(process: psutil.Process) -> float:
    """CPU seconds of a process and its children (a server's workers)."""
    total = 0.0
    for member in (process, *process.children(recursive=True)):
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of each of the PostgreSQL server's processes, by pid."""
    found: dict[int, float] = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info["cpu_times"]
        if (process.info["name"] or "").startswith("postgres") and times is not None:
            found[process.pid] = times.user + times.system
    return found


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """What the processes alive at the end spent since ``before`` (a new one: all of it)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def measured(
    server: subprocess.Popen[bytes],
    endpoint: str,
    query: str,
    variables: dict[str, Any],
    token: str | None,
    args: Any,
) -> dict[str, float]:
    """One autocannon run with the CPU milliseconds per request of the server's processes
    (``server_ms``) and PostgreSQL's (``pg_ms``) over it."""
    process = psutil.Process(server.pid)
    server_before, pg_before = _cpu(process), _postgres_cpu()
    figures = autocannon(endpoint, query, variables, token, args)
    requests = max(1.0, figures["rps"] * args.duration)
    figures["server_ms"] = 1000 * (_cpu(process) - server_before) / requests
    figures["pg_ms"] = 1000 * _spent(pg_before, _postgres_cpu()) / requests
    return figures


def autocannon(
    endpoint: str, query: str, variables: dict[str, Any], token: str | None, args: Any
) -> dict[str, float]:
    body = json.dumps({"query": query, "variables": variables})
    headers = ["-H", "content-type=application/json"]
    if token:
        headers += ["-H", f"authorization=Bearer {token}"]
    done = subprocess.run(
        [str(HERE / "node_modules" / ".bin" / "autocannon"), "-c", str(args.connections),
         "-d", str(args.duration), "-m", "POST", *headers, "-b", body, "-j", endpoint],
        check=True, capture_output=True, text=True, cwd=HERE,
    )  # fmt: skip
    result = json.loads(done.stdout)
    failed = result.get("non2xx", 0) + result.get("errors", 0) + result.get("timeouts", 0)
    return {
        "rps": float(result["requests"]["average"]),
        "p99": float(result["latency"]["p99"]),
        "failed": float(failed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8, help="seconds per autocannon run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", help="PostgreSQL URL to seed (once) and keep")
    parser.add_argument("--only", help="comma-separated: page,by_id,nested")
    parser.add_argument(
        "--workers", type=int, default=1, help="govhub server processes (as serve --workers)"
    )
    parser.add_argument(
        "--govhub-root",
        type=Path,
        default=ROOT,
        help="serve govhub from this checkout (e.g. an export of main, for a before figure)",
    )
    args = parser.parse_args()
    if args.database:
        run(args.database, args)
        return
    from query_latency import DEFAULT_PG, postgres_database

    async def throwaway() -> None:
        async with postgres_database(os.environ.get("GOVHUB_BENCH_DATABASE_URL", DEFAULT_PG)) as e:
            await asyncio.to_thread(run, e.url.render_as_string(hide_password=False), args)

    asyncio.run(throwaway())


def run(url: str, args: Any) -> None:
    started = time.time()
    asyncio.run(seed(url, args.records))
    asyncio.run(create_peer_views(url))
    print(f"seeded {args.records:,} records ({time.time() - started:.0f}s)", flush=True)
    data_dir = tempfile.mkdtemp(prefix="govhub_peer_")
    govhub, govhub_url, token = start_govhub(url, data_dir, args.govhub_root, args.workers)
    peer: subprocess.Popen[bytes] | None = None
    try:
        peer, peer_url = start_postgraphile(url)
        some = post(govhub_url, "{ records(first: 7) { edges { node { id } } } }", {}, token)
        record_gid = some["records"]["edges"][-1]["node"]["id"]
        queries = {
            "page": ((govhub_url, GOVHUB_PAGE, {}, govhub_page),
                     (peer_url, PEER_PAGE, {}, peer_page)),
            "by_id": ((govhub_url, GOVHUB_BY_ID, {"id": record_gid}, govhub_by_id),
                      (peer_url, PEER_BY_ID, {"id": _row_id(record_gid)}, peer_by_id)),
            "nested": ((govhub_url, GOVHUB_NESTED, {}, govhub_nested),
                       (peer_url, PEER_NESTED, {}, peer_nested)),
        }  # fmt: skip
        if args.only:
            queries = {k: v for k, v in queries.items() if k in args.only.split(",")}
        for name, (ours, theirs) in queries.items():
            check_same(name, ours, theirs, token)
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for round_number in range(args.rounds):
            for name, (ours, theirs) in queries.items():
                order = [("govhub", govhub, ours, token), ("postgraphile", peer, theirs, None)]
                if round_number % 2:
                    order.reverse()
                for server, process, (endpoint, query, variables, _), bearer in order:
                    figures = measured(process, endpoint, query, variables, bearer, args)
                    results.setdefault((name, server), []).append(figures)
                    print(f"  round {round_number + 1} {name:6} {server:12} "
                          f"{figures['rps']:8.1f} req/s  p99 {figures['p99']:6.0f} ms  CPU/req "
                          f"server {figures['server_ms']:.2f} ms, PostgreSQL "
                          f"{figures['pg_ms']:.2f} ms{'  FAILED' if figures['failed'] else ''}",
                          flush=True)  # fmt: skip
        print(f"\n{args.records:,} records, {args.connections} connections, {args.rounds} "
              f"alternating rounds of {args.duration}s, govhub {args.workers} worker(s), "
              "medians (machine shared); CPU ms per request: server + PostgreSQL")  # fmt: skip
        print(f"{'query':8} {'govhub req/s':>13} {'p99 ms':>7} {'CPU':>11} {'PostGraphile':>13}"
              f" {'p99 ms':>7} {'CPU':>11} {'govhub ÷ PG':>12}")  # fmt: skip
        for name in queries:
            print(_summary_line(name, results[(name, "govhub")], results[(name, "postgraphile")]))
    finally:
        if peer is not None:
            stop(peer)
        stop(govhub)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
