"""信访信息系统 (``PETITION``) connector: daily GBK CSV exports listed over HTTP.

Fetching. ``GET /exports/`` lists ``{name, size, modified, url}``; each day has
``xf_YYYYMMDD.csv`` and, once a row of that day changes, a re-issued ``xf_YYYYMMDD_vN.csv``
holding all of the day's rows at their latest version. Files are processed in (day, version)
order whatever the listing's order, each row decoded on its own (a row with bytes that are
not GBK is dead-lettered as ``MALFORMED``, its bytes kept base64 in the raw payload). Auth:
``X-API-Key`` when ``api_key`` is configured, else HTTP Basic (``username``/``password``).

Checkpoint. JSON ``{"files": {name: "size|modified"}}`` — the files already ingested, as
listed. A file not in it, or listed with another size or time (a refreshed re-issue), is
processed again; the idempotent upsert makes a repeat harmless. Rows go in batches of
``page_size`` across files (many small daily files share one batch); a file is marked done
by the batch that holds its last row. When a file cannot be read, the files read before it
go in one more batch before the run fails, so the next run does not read them again. Files
no longer listed are dropped from the checkpoint so it does not grow without bound.

Versions. ``source_updated_at`` is the row's ``更新时间``; ``source_version`` is the file's
version (``001`` for the original, ``002`` for ``_v2``…), so a re-issued row beats the
original even when both carry the same update time.
"""

from __future__ import annotations

import base64
import csv
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from connectors.base import Batch, FetchedItem
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.csvexport import CsvHeaderError, CsvRow, read_rows
from connectors.errors import BreakerOpen, SourceError, SourceResponseError, SourcesFileError
from connectors.http import SourceClient
from connectors.petition_parse import KEY_COLUMN, parse_row
from domain.enums import SourceSystem
from domain.records import ParsedRecord

LISTING = "/exports/"
FILE_NAME = re.compile(r"^xf_(\d{8})(?:_v(\d+))?\.csv$")


@dataclass
class PetitionAuth:
    """``X-API-Key`` when an API key is configured, else HTTP Basic."""

    username: str = ""
    password: str = ""
    api_key: str = ""

    async def prepare(self, client: httpx.AsyncClient, request: httpx.Request) -> None:
        if self.api_key:
            request.headers["X-API-Key"] = self.api_key
        else:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            request.headers["Authorization"] = f"Basic {token}"

    async def refresh(self, client: httpx.AsyncClient) -> bool:
        return False  # static credentials: a 401 will not pass by itself


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One listed export file."""

    name: str
    day: date
    version: int
    signature: str
    """``size|modified`` as listed: a change means the file was re-issued or refreshed."""


def file_version(name: str) -> int | None:
    """1 for ``xf_YYYYMMDD.csv``, N for ``xf_YYYYMMDD_vN.csv``; None for other names."""
    match = FILE_NAME.match(name)
    if match is None:
        return None
    return int(match.group(2) or 1)


@dataclass
class PetitionConnector:
    """The petition bureau's daily exports (信访件) as ``Petition`` records."""

    client: SourceClient
    page_size: int = 500
    source: SourceSystem = SourceSystem.PETITION

    async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        """Process every listed file not yet ingested at its listed size and time."""
        files = await self._listing()
        listed = {export.name for export in files}
        done = {n: s for n, s in _done_files(None if full else checkpoint).items() if n in listed}
        # Rows of several files share a batch: a day's file holds a handful of rows, and each
        # batch pays a commit and a resolution step. A file counts as done in the checkpoint
        # of the batch that holds its last row (or of any later one).
        chunk: list[FetchedItem] = []
        last = ""
        unsaved = False  # files marked done since the last batch
        for export in sorted(files, key=lambda f: (f.day, f.version, f.name)):
            if done.get(export.name) == export.signature:
                continue
            try:
                response = await self.client.request("GET", f"{LISTING}{export.name}")
                rows = _rows(response.content, export.name, self.source)
            except (SourceError, BreakerOpen):  # the retries ran out, or the breaker opened
                # The files read so far are whole: keep them, so the next run (this one is
                # failing) goes on from here instead of reading every file again.
                if unsaved:
                    yield Batch(items=chunk, checkpoint=_dump(done), watermark=last or None)
                raise
            for row in rows:
                chunk.append(_item(row, export.name))
                if len(chunk) >= self.page_size:
                    yield Batch(items=chunk, checkpoint=_dump(done), watermark=last or None)
                    chunk = []
            done[export.name] = export.signature
            last, unsaved = export.name, True
        if chunk or last:
            yield Batch(items=chunk, checkpoint=_dump(done), watermark=last or None)

    async def _listing(self) -> list[ExportFile]:
        response = await self.client.request("GET", LISTING)
        try:
            entries = response.json()
        except ValueError as exc:
            raise SourceResponseError(self.source, "export listing is not JSON") from exc
        if not isinstance(entries, list):
            raise SourceResponseError(self.source, "export listing is not a list")
        files: list[ExportFile] = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise SourceResponseError(self.source, "export listing entry without a name")
            name = entry["name"]
            version = file_version(name)
            if version is None:
                continue  # not a petition export (e.g. a README the bureau put there)
            day = date(int(name[3:7]), int(name[7:9]), int(name[9:11]))
            signature = f"{entry.get('size')}|{entry.get('modified')}"
            files.append(ExportFile(name, day, version, signature))
        return files

    def parse(self, raw: Any) -> ParsedRecord:
        """Map one row (its cells plus ``_file``); raise ``RecordError`` if it cannot."""
        return parse_row(raw)


def _done_files(checkpoint: str | None) -> dict[str, str]:
    if not checkpoint:
        return {}
    try:
        files = json.loads(checkpoint)["files"]
    except (ValueError, KeyError, TypeError):
        return {}  # not ours: process every listed file again, idempotently
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def _dump(done: dict[str, str]) -> str:
    return json.dumps({"files": dict(sorted(done.items()))}, ensure_ascii=False)


def _rows(content: bytes, name: str, source: SourceSystem) -> list[CsvRow]:
    try:
        header, rows = read_rows(content)
        if KEY_COLUMN not in header:
            raise SourceResponseError(source, f"{name}: no {KEY_COLUMN} column")
        return list(rows)
    except (CsvHeaderError, csv.Error) as exc:
        raise SourceResponseError(source, f"{name}: unreadable CSV ({exc})") from exc


def _item(row: CsvRow, file_name: str) -> FetchedItem:
    raw: dict[str, Any] = {**row.cells, "_file": file_name}
    if row.undecodable:
        raw["_undecodable"] = row.undecodable
        raw["_row_base64"] = row.raw_base64()
    key = row.cells.get(KEY_COLUMN, "").strip() if KEY_COLUMN not in row.undecodable else ""
    return FetchedItem(key=key or None, raw=raw, problem=row.problem)


def build(
    config: SourceConfig, http: httpx.AsyncClient, breaker: CircuitBreaker
) -> PetitionConnector:
    """The connector for ``[sources.PETITION]``: ``api_key``, or ``username`` + ``password``."""
    creds = config.credentials
    if not creds.get("api_key") and not (creds.get("username") and creds.get("password")):
        raise SourcesFileError(
            "sources.PETITION.credentials needs api_key, or username and password"
        )
    auth = PetitionAuth(
        username=creds.get("username", ""),
        password=creds.get("password", ""),
        api_key=creds.get("api_key", ""),
    )
    client = SourceClient(
        SourceSystem.PETITION, http, auth, retry=config.retry.to_settings(), breaker=breaker
    )
    return PetitionConnector(client=client, page_size=config.page_size)
