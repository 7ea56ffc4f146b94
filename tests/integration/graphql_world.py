"""A small, deterministic world for GraphQL tests (and the query benchmark), inserted fast.

Rows go in with Core ``insert()`` executemany: no ORM objects, so 100,000 records load in
seconds. Sealed columns are sealed by their column type (``configure_pii`` must have run);
blind indexes are computed here as the ORM validators would.
"""

from __future__ import annotations

import base64
import contextlib
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import resolvers.reads
from db.models import (
    DeadLetter,
    Link,
    PartyMention,
    Person,
    Record,
    Region,
    SyncRun,
    SyncState,
)
from db.models.records import kind_models
from db.pii import blind_index
from domain.enums import (
    CaseStatus,
    DisputeCategory,
    PartyRole,
    RecordKind,
    RegionLevel,
    RiskLevel,
    SourceSystem,
)
from domain.kinds import KIND_OF_SOURCE
from domain.roles import Role
from hub.app import create_app
from hub.settings import Settings
from tests.integration.auth_support import JWT_SECRET, bearer

BASE_TIME = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REGIONS = [
    ("410000", "河南省", RegionLevel.PROVINCE, None),
    ("411200", "三门峡市", RegionLevel.CITY, "410000"),
    ("411202", "湖滨区", RegionLevel.COUNTY, "411200"),
    ("411221", "渑池县", RegionLevel.COUNTY, "411200"),
    ("411202001", "湖滨街道", RegionLevel.TOWNSHIP, "411202"),
    ("410100", "郑州市", RegionLevel.CITY, "410000"),
]
# Records cycle through these; 411200 matches the first three, 410100 only itself.
RECORD_REGIONS = ["411202", "411221", "411202001", "410100"]
SOURCES = list(SourceSystem)
NAMES = ["张三", "李四", "王五", "赵六", "陈七", "刘八", "杨九", "黄十"]
ID_NUMBER = "41120219800101123X"
PHONE = "13812345678"


@dataclass
class World:
    record_ids: list[int] = field(default_factory=list)
    kinds: dict[int, RecordKind] = field(default_factory=dict)
    person_ids: list[int] = field(default_factory=list)
    deleted_ids: list[int] = field(default_factory=list)


def _kind_row(kind: RecordKind, record_id: int, n: int, occurred: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {"id": record_id}
    if kind is RecordKind.DISPUTE:
        row |= {"mediator": f"调解员{n % 7}", "mediation_org": "湖滨区人民调解委员会",
                "amount_involved": Decimal("1200.50"), "party_count": 2,
                "accepted_on": occurred.date()}  # fmt: skip
    elif kind is RecordKind.GRID_EVENT:
        row |= {"grid_code": f"G{n % 50:03d}", "reporter": "网格员", "event_type": "JF",
                "longitude": 111.2, "latitude": 34.77}  # fmt: skip
    elif kind is RecordKind.POLICE_ALERT:
        row |= {"alert_number": f"JJ{n:08d}", "alarm_time": occurred,
                "category_code_l1": "01", "disposal_result": "已调解"}  # fmt: skip
    elif kind is RecordKind.PETITION:
        row |= {"form": "来信", "handling_unit": "湖滨区信访局", "repeat_count": n % 3,
                "petition_numbers": {"county": f"XF{n:06d}"},
                "deadline": date(2026, 6, 1)}  # fmt: skip
    else:
        row |= {"case_number": f"(2026)豫1202民初{n}号", "cause": "民间借贷纠纷",
                "court": "湖滨区人民法院", "filed_on": occurred.date()}  # fmt: skip
    return row


KIND_MODELS: dict[RecordKind, type[Record]] = kind_models()


def _chunks(rows: list[dict[str, Any]], size: int = 5_000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _insert(
    connection: AsyncConnection, model: type[Any], rows: list[dict[str, Any]]
) -> None:
    # executemany takes its columns from the first row: every row must carry the same keys.
    assert all(row.keys() == rows[0].keys() for row in rows), model
    for chunk in _chunks(rows):
        await connection.execute(insert(model.__table__), chunk)


async def seed_world(
    engine: AsyncEngine, *, records: int = 40, first_id: int = 1, seed: int = 7
) -> World:
    """Regions, ``records`` records (kinds in turn), 1–3 parties each, persons and links."""
    rng = random.Random(seed)
    world = World()
    record_rows: list[dict[str, Any]] = []
    kind_rows: dict[RecordKind, list[dict[str, Any]]] = {kind: [] for kind in RecordKind}
    party_rows: list[dict[str, Any]] = []
    persons = [
        {"id": first_id + i, "name": name, "region_code": "411202",
         "id_number": ID_NUMBER if i == 0 else None, "phone": PHONE if i == 0 else None,
         "id_number_index": blind_index("id_number", ID_NUMBER) if i == 0 else None,
         "phone_index": blind_index("phone", PHONE) if i == 0 else None}
        for i, name in enumerate(NAMES)
    ]  # fmt: skip
    world.person_ids = [p["id"] for p in persons]
    for n in range(records):
        record_id = first_id + n
        source = SOURCES[n % len(SOURCES)]
        kind = KIND_OF_SOURCE[source]
        occurred = BASE_TIME - timedelta(hours=n)
        deleted = n % 10 == 9
        record_rows.append(
            {
                "id": record_id, "kind": kind, "source": source, "source_key": f"K{record_id}",
                "category": list(DisputeCategory)[n % len(DisputeCategory)],
                "title": f"纠纷{n} {'漏水' if n % 4 == 0 else '欠薪'}",
                "summary": "双方因噪音发生争执" if n % 5 == 0 else None,
                "occurred_at": occurred,
                "reported_at": occurred + timedelta(minutes=30) if n % 3 else None,
                "region_code": RECORD_REGIONS[n % len(RECORD_REGIONS)],
                "address": f"湖滨区{n}号", "status": list(CaseStatus)[n % len(CaseStatus)],
                "risk_level": list(RiskLevel)[n % len(RiskLevel)], "source_status": "01",
                "source_updated_at": occurred, "updated_at": occurred, "deleted": deleted,
            }
        )  # fmt: skip
        world.record_ids.append(record_id)
        world.kinds[record_id] = kind
        if deleted:
            world.deleted_ids.append(record_id)
        kind_rows[kind].append(_kind_row(kind, record_id, n, occurred))
        for position in range(1 + n % 3):
            name = NAMES[(n + position) % len(NAMES)]
            sealed = position == 0
            party_rows.append(
                {
                    "record_id": record_id, "position": position,
                    "role": PartyRole.APPLICANT if position == 0 else PartyRole.RESPONDENT,
                    "name": name, "is_organisation": False,
                    "id_number": ID_NUMBER if sealed else None,
                    "id_number_index": blind_index("id_number", ID_NUMBER) if sealed else None,
                    "phone": PHONE if sealed else None,
                    "phone_index": blind_index("phone", PHONE) if sealed else None,
                    "person_id": first_id + NAMES.index(name) if rng.random() < 0.5 else None,
                }
            )  # fmt: skip
    async with engine.begin() as connection:
        await _insert_regions(connection)
        await _insert(connection, Person, persons)
        await _insert(connection, Record, record_rows)
        for kind, rows in kind_rows.items():
            await _insert(connection, KIND_MODELS[kind], rows)
        await _insert(connection, PartyMention, party_rows)
        if records >= 2:
            await _insert(
                connection,
                Link,
                [{"from_record_id": first_id, "to_record_id": first_id + 1,
                  "link_kind": "SAME_PARTY", "confidence": 0.92,
                  "evidence": [{"rule": "id_number_match"}]}],
            )  # fmt: skip
    return world


async def _insert_regions(connection: AsyncConnection) -> None:
    rows = [
        {"code": code, "name": name, "level": level, "parent_code": parent}
        for code, name, level, parent in REGIONS
    ]
    await _insert(connection, Region, rows)


async def seed_sync(engine: AsyncEngine) -> None:
    """One source with state, a finished run and two open dead letters (one resolved)."""
    now = BASE_TIME
    async with engine.begin() as connection:
        await _insert(
            connection,
            SyncState,
            [{"source": SourceSystem.POLICE_110, "watermark": "2026-03-01T12:00:00+08:00",
              "breaker_state": "OPEN", "consecutive_failures": 3, "last_run_at": now,
              "last_success_at": now - timedelta(hours=1), "breaker_opened_at": now}],
        )  # fmt: skip
        await _insert(
            connection,
            SyncRun,
            [{"id": 1, "source": SourceSystem.POLICE_110, "started_at": now - timedelta(hours=1),
              "finished_at": None, "status": "SUCCEEDED", "fetched": 5, "inserted": 1,
              "updated": 0, "dead_lettered": 0, "error": None},
             {"id": 2, "source": SourceSystem.POLICE_110, "started_at": now, "finished_at": now,
              "status": "FAILED", "fetched": 10, "inserted": 4, "updated": 3, "dead_lettered": 2,
              "error": "SERVER_ERROR: POLICE_110: server error 503"}],
        )  # fmt: skip
        await _insert(
            connection,
            DeadLetter,
            [{"source": SourceSystem.POLICE_110, "error_code": "BAD_ID", "reason": "x",
              "raw": {"k": 1}, "run_id": 2, "resolved_at": None},
             {"source": SourceSystem.POLICE_110, "error_code": "BAD_ID", "reason": "x",
              "raw": {"k": 2}, "run_id": 2, "resolved_at": None},
             {"source": SourceSystem.POLICE_110, "error_code": "BAD_ID", "reason": "x",
              "raw": {"k": 3}, "run_id": 1, "resolved_at": now}],
        )  # fmt: skip


def hub_settings(pii_key: bytes, **overrides: Any) -> Settings:
    """Test settings: no checkpoint file (each test has its own chain), no limit on
    unauthenticated requests (every test client shares one address) and no deadline scanner
    in the background (its lease writes would interleave with what a test measures), unless
    asked."""
    overrides.setdefault("audit_checkpoint_file", None)
    overrides.setdefault("scan_deadlines", False)
    overrides.setdefault("unauthenticated_per_minute", 0)
    return Settings(
        pii_key=base64.urlsafe_b64encode(pii_key).decode(), jwt_secret=JWT_SECRET, **overrides
    )


@contextlib.asynccontextmanager
async def graphql_client(
    engine: AsyncEngine,
    pii_key: bytes,
    *,
    role: Role | None = Role.ADMIN,
    regions: list[str] | None = None,
    scopes: list[str] | None = None,
    **settings: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real app (in-process, over ASGI, lifespan running) on
    ``engine``, sending a bearer token for ``role`` (an admin over every test region by
    default; ``None`` sends none)."""
    app = create_app(hub_settings(pii_key, **settings), engine=engine)
    transport = httpx.ASGITransport(app=app)
    headers = bearer(role, regions, scopes) if role is not None else {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hub", headers=headers) as client,
    ):
        yield client


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    status: int = 200,
) -> dict[str, Any]:
    """POST a document; the parsed JSON body (``data`` and ``errors``), answered ``status``."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


async def unlink_regions(engine: AsyncEngine) -> None:
    """Cut the region tree's parent links, so a table-wide DELETE (test clean-up) can run."""
    async with engine.begin() as connection:
        await connection.execute(update(Region.__table__).values(parent_code=None))


class DriverReads:
    """Counts the statements the driver runs itself (``SerialConnection.driver_fetch``): they
    pass SQLAlchemy's statement events by."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        driver_fetch = resolvers.reads.SerialConnection.driver_fetch

        async def counted(connection: Any, *args: Any, **kwargs: Any) -> Any:
            rows = await driver_fetch(connection, *args, **kwargs)
            self.calls += rows is not None
            return rows

        monkeypatch.setattr(resolvers.reads.SerialConnection, "driver_fetch", counted)
