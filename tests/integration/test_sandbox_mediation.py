"""人民调解信息管理平台 over real HTTP: HMAC signatures, cursor paging, tombstones."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.systems.mediation import sign_params
from sandbox.systems.sample import sample_mutator, sample_world

SYSTEM = SourceSystem.MEDIATION


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        SandboxConfig(base_port=0), sample_world(25), mutator=sample_mutator
    ) as sandbox:
        yield sandbox


def signed(
    sb: Sandbox,
    timestamp: int | None = None,
    nonce: str | None = None,
    secret: str | None = None,
    **params: str,
) -> dict[str, str]:
    creds = sb.credentials[SYSTEM]
    query = {
        "appKey": creds["app_key"],
        "timestamp": str(timestamp or int(time.time() * 1000)),
        "nonce": nonce or uuid.uuid4().hex,
        **params,
    }
    return {**query, "sign": sign_params(query, secret or creds["app_secret"])}


async def get_cases(sb: Sandbox, params: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"{sb.urls[SYSTEM]}/openapi/v1/cases", params=params)


async def read_all(sb: Sandbox, limit: int = 7, cursor: str = "") -> tuple[list[Any], str]:
    items: list[Any] = []
    while True:
        body = (await get_cases(sb, signed(sb, limit=str(limit), cursor=cursor))).json()
        items += body["data"]
        cursor = body["nextCursor"] or ""
        if not body["hasMore"]:
            return items, cursor


async def test_signed_request_pages_through_every_case_by_cursor(sb: Sandbox) -> None:
    items, _ = await read_all(sb)

    expected = [
        r.key for r in sorted(sb.world.records[SYSTEM], key=lambda r: (r.updated_at, r.key))
    ]
    assert [i["caseNo"] for i in items] == expected
    assert items[0]["applicant"]["name"] == "张伟"


async def test_a_cursor_whose_time_has_no_offset_is_400(sb: Sandbox) -> None:
    raw = json.dumps({"t": "2024-06-01T08:00:00", "k": "TJ1"}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")

    response = await get_cases(sb, signed(sb, cursor=cursor))

    assert response.status_code == 400
    assert response.json()["errcode"] == 40000 and "cursor" in response.json()["errmsg"]


@pytest.mark.parametrize(
    ("tamper", "errcode"),
    [
        ({"secret": "wrong-secret"}, 40101),
        ({"timestamp": int(time.time() * 1000) - 6 * 60 * 1000}, 40102),
    ],
)
async def test_wrong_or_stale_signature_is_rejected(
    sb: Sandbox,
    tamper: dict[str, Any],
    errcode: int,
) -> None:
    response = await get_cases(sb, signed(sb, **tamper))

    assert response.status_code == 401
    assert response.json()["errcode"] == errcode


async def test_unknown_app_key_is_rejected(sb: Sandbox) -> None:
    response = await get_cases(sb, {**signed(sb), "appKey": "someone-else"})

    assert response.json()["errcode"] == 40100


async def test_tampered_parameter_breaks_the_signature(sb: Sandbox) -> None:
    response = await get_cases(sb, {**signed(sb, limit="5"), "limit": "50"})

    assert response.json() == {"errcode": 40101, "errmsg": "签名错误"}


async def test_replayed_nonce_is_rejected(sb: Sandbox) -> None:
    params = signed(sb, limit="1")

    first, replay = await get_cases(sb, params), await get_cases(sb, params)

    assert first.status_code == 200
    assert replay.status_code == 401
    assert replay.json()["errcode"] == 40103


async def test_deletions_arrive_as_tombstones_after_the_cursor(sb: Sandbox) -> None:
    _, watermark = await read_all(sb)
    changed = sb.mutate(SYSTEM, 4)

    items, _ = await read_all(sb, cursor=watermark)

    deleted = {r.key for r in changed if r.deleted}
    assert deleted
    tombstones = [i for i in items if i.get("deleted")]
    assert {t["caseNo"] for t in tombstones} == deleted
    assert all(set(t) == {"caseNo", "deleted", "updatedAt"} for t in tombstones)
    assert {i["caseNo"] for i in items} == {r.key for r in changed}
    async with httpx.AsyncClient() as client:
        stats = (await client.get(f"{sb.urls[SYSTEM]}/_sandbox/stats")).json()
    assert stats["deleted_keys"] == sorted(deleted)
    assert stats["valid_records"] == 25 + 1 - len(deleted)
