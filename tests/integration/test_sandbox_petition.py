"""信访信息系统 over real HTTP: authenticated listing, GBK CSV, re-issued v2 files."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.systems.petition import COLUMNS
from sandbox.systems.sample import sample_mutator, sample_world

README = Path(__file__).resolve().parents[2] / "sandbox" / "README.md"
SYSTEM = SourceSystem.PETITION


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        SandboxConfig(base_port=0), sample_world(20), mutator=sample_mutator
    ) as sandbox:
        yield sandbox


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    creds = sb.credentials[SYSTEM]
    async with httpx.AsyncClient(
        base_url=sb.urls[SYSTEM], auth=(creds["username"], creds["password"])
    ) as c:
        yield c


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("gbk"))))


async def listing(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/exports/")
    assert response.status_code == 200
    files: list[dict[str, Any]] = response.json()
    return files


@pytest.mark.parametrize("auth", [None, ("xfexport", "wrong")])
async def test_listing_needs_credentials(sb: Sandbox, auth: tuple[str, str] | None) -> None:
    async with httpx.AsyncClient(auth=auth) as client:
        response = await client.get(f"{sb.urls[SYSTEM]}/exports/")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_api_key_header_is_an_alternative(sb: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{sb.urls[SYSTEM]}/exports/", headers={"X-API-Key": sb.credentials[SYSTEM]["api_key"]}
        )

    assert response.status_code == 200


async def test_daily_files_are_gbk_csv_with_chinese_headers(
    sb: Sandbox,
    client: httpx.AsyncClient,
) -> None:
    files = await listing(client)
    assert files and all(f["name"].startswith("xf_") for f in files)

    downloads = [await client.get(f["url"]) for f in files]

    for meta, response in zip(files, downloads, strict=True):
        assert response.headers["content-type"] == "text/csv; charset=GBK"
        assert len(response.content) == meta["size"]
        with pytest.raises(UnicodeDecodeError):
            response.content.decode("utf-8")
    parsed = [row for r in downloads for row in rows(r.content)]
    assert list(parsed[0]) == list(COLUMNS)
    assert sorted(r["信访件编号"] for r in parsed) == sorted(
        r.key for r in sb.world.records[SYSTEM]
    )


async def test_changed_rows_reissue_the_day_as_v2(sb: Sandbox, client: httpx.AsyncClient) -> None:
    before = await listing(client)
    originals = {f["name"]: (await client.get(f["url"])).content for f in before}

    changed = sb.mutate(SYSTEM, 3)
    after = await listing(client)

    names = [f["name"] for f in after]
    updated = [r for r in changed if r.version > 1]
    day = updated[0].export_day
    assert day is not None
    v2_name = f"xf_{day:%Y%m%d}_v2.csv"
    assert v2_name in names
    assert {
        f["name"]: (await client.get(f["url"])).content for f in after if f["name"] in originals
    } == originals
    v2_rows = {r["信访件编号"]: r for r in rows((await client.get(f"/exports/{v2_name}")).content)}
    for record in updated:
        assert v2_rows[record.key]["办理状态"] == record.payload["办理状态"]
    day_keys = {r.key for r in sb.world.records[SYSTEM] if r.export_day == day}
    assert set(v2_rows) == day_keys


async def test_further_changes_refresh_the_same_v2_file_as_the_readme_says(
    sb: Sandbox, client: httpx.AsyncClient,
) -> None:
    # given days already re-issued once
    sb.mutate(SYSTEM, 3)
    # when their rows change again, and again
    sb.mutate(SYSTEM, 3)
    sb.mutate(SYSTEM, 3)
    names = [f["name"] for f in await listing(client)]
    # then every day has its original and at most one re-issue, and it is the _v2.csv
    assert all(re.fullmatch(r"xf_\d{8}(_v2)?\.csv", name) for name in names), names
    assert any(name.endswith("_v2.csv") for name in names)
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert "refresh that same `_v2.csv`" in readme
    assert "_vN" not in readme and "_v{version}" not in readme


async def test_unknown_file_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/exports/xf_19990101.csv")

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["xf_20261399.csv", "xf_20260230_v2.csv"])
async def test_a_file_named_by_a_date_that_does_not_exist_is_404(
    client: httpx.AsyncClient, name: str,
) -> None:
    response = await client.get(f"/exports/{name}")

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
