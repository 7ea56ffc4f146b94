"""信访信息系统 (``PETITION``): daily GBK CSV exports listed over HTTP.

Authentication: HTTP Basic (``username`` / ``password``) **or** the header
``X-API-Key: <api_key>``; otherwise ``401`` with ``WWW-Authenticate: Basic``.

- ``GET /exports/`` — a JSON list, sorted by name, of ``{"name": "xf_YYYYMMDD.csv", "size":
  bytes, "modified": ISO 8601, "url": "/exports/xf_YYYYMMDD.csv"}``. ``size`` is that of the
  file as issued (a fault-injected delivery — duplicates, drift — may differ).
- ``GET /exports/xf_YYYYMMDD.csv`` — ``text/csv; charset=GBK``, CRLF lines, a header row
  with the Chinese column names (:data:`COLUMNS`, then any further payload fields such as
  ``更新时间``), one row per 信访件.

A day's file is frozen when the sandbox first sees that day. When rows of that day change
later (a version above the frozen one, or a new row), the day is re-issued as
``xf_YYYYMMDD_v2.csv``: all rows of the day at their latest version; further changes refresh
the same v2 file (new size and ``modified``). ``out_of_order`` lists v2 files before their
originals instead of reordering rows; schema drift adds a trailing column ``附加信息``; a
broken-encoding row carries the raw bytes 0xFF 0xFE, invalid in GBK.

Write side: the 办理结果 upload, :mod:`sandbox.systems.petition_results`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import csv
import hmac
import io
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.model import SourceRecord
from sandbox.systems.common import BEIJING, SystemContext, json_response
from sandbox.systems.delivery import deliver
from sandbox.systems.petition_results import result_routes

COLUMNS = ("信访件编号", "信访形式", "信访人", "证件号码", "联系电话", "信访日期", "问题属地",
           "内容分类", "诉求", "办理单位", "办理期限", "办理状态", "信访人数", "重复信访次数",
           "关联案号")
DRIFT_FIELD = "附加信息"
_FILE = re.compile(r"^xf_(\d{8})(_v2)?\.csv$")


def _gbk_errors(exc: UnicodeError) -> tuple[str | bytes, int]:
    """Lone surrogates U+DC80..U+DCFF become their raw byte; anything else unencodable, '?'."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    chunk = exc.object[exc.start:exc.end]
    if all("\udc80" <= c <= "\udcff" for c in chunk):
        return bytes(ord(c) - 0xDC00 for c in chunk), exc.end
    return "?" * len(chunk), exc.end


codecs.register_error("sandbox.gbk", _gbk_errors)


class Exports:
    """The frozen daily files and the re-issued (v2) ones, derived from the record store."""

    def __init__(self, ctx: SystemContext) -> None:
        self.ctx = ctx
        self.frozen: dict[date, dict[str, SourceRecord]] = {}
        self.frozen_at: dict[date, datetime] = {}
        self._days: tuple[int, dict[date, list[SourceRecord]]] | None = None
        self.refresh()

    def by_day(self) -> dict[date, list[SourceRecord]]:
        """The latest live rows grouped by export day, each day ordered by key; kept until the
        store changes (every file asked for needs them: grouping the whole store each time made
        a sync's file requests quadratic). Callers must not modify it."""
        store = self.ctx.store
        if self._days is not None and self._days[0] == store.revision:
            return self._days[1]
        days: dict[date, list[SourceRecord]] = {}
        for record in sorted(store.latest.values(), key=lambda r: r.key):
            if not record.deleted:
                days.setdefault(_day(record), []).append(record)
        self._days = (store.revision, days)
        return days

    def refresh(self) -> dict[date, list[SourceRecord]]:
        """Freeze every day not seen before, with the rows it has now; return :meth:`by_day`."""
        days = self.by_day()
        for day, rows in days.items():
            if day in self.frozen_at:
                continue
            self.frozen[day] = {
                r.key: _as_published(self.ctx.store.previous.get(r.key, r)) for r in rows}
            closing = datetime.combine(day + timedelta(days=1), time(2), BEIJING)
            self.frozen_at[day] = max(closing, max(r.updated_at for r in rows))
        return days

    def day_rows(self, day: date, reissue: bool) -> list[SourceRecord]:
        if not reissue:
            return sorted(self.frozen.get(day, {}).values(), key=lambda r: r.key)
        return self.by_day().get(day, [])

    def reissued(self, day: date, rows: list[SourceRecord]) -> datetime | None:
        """When the v2 file of ``day`` was last refreshed, or ``None`` if there is none."""
        frozen = self.frozen.get(day, {})
        changed = [r for r in rows if r.key not in frozen or frozen[r.key].version != r.version]
        return max((r.updated_at for r in changed), default=None)

    def listing(self) -> list[dict[str, Any]]:
        days = self.refresh()
        files: list[dict[str, Any]] = []
        for day in sorted(self.frozen_at):
            name = f"xf_{day:%Y%m%d}"
            entries = [(f"{name}.csv", False, self.frozen_at[day])]
            if (reissued := self.reissued(day, days.get(day, []))) is not None:
                entries.append((f"{name}_v2.csv", True, reissued))
            if self.ctx.faults.settings.out_of_order and len(entries) == 2:
                entries.reverse()
                self.ctx.faults.count("out_of_order")
            files.extend({
                "name": file, "size": len(self.render(day, v2, faults=False)),
                "modified": modified.isoformat(timespec="seconds"), "url": f"/exports/{file}",
            } for file, v2, modified in entries)
        return files

    def render(self, day: date, reissue: bool, *, faults: bool = True) -> bytes:
        rows = self.day_rows(day, reissue)
        if faults:
            payloads = deliver(self.ctx, rows, _render, DRIFT_FIELD, stale_versions=False)
        else:
            payloads = [_render(r) for r in rows]
        extra = dict.fromkeys(k for p in payloads for k in p if k not in COLUMNS)
        columns = [*COLUMNS, *(k for k in extra if k != DRIFT_FIELD),
                   *([DRIFT_FIELD] if DRIFT_FIELD in extra else [])]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        for payload in payloads:
            writer.writerow(["" if payload.get(c) is None else str(payload[c]) for c in columns])
        return buffer.getvalue().encode("gbk", errors="sandbox.gbk")


def _day(record: SourceRecord) -> date:
    return record.export_day or record.updated_at.astimezone(BEIJING).date()


def _as_published(record: SourceRecord) -> SourceRecord:
    """The row as the day's first file carried it (before any correction)."""
    if record.first_payload is None:
        return record
    return SourceRecord(record.system, record.key, record.updated_at, record.first_payload, 1,
                        record.deleted, record.export_day)


def _render(record: SourceRecord) -> dict[str, Any]:
    return dict(record.payload)


def routes(ctx: SystemContext) -> list[Route]:
    """The export listing and the files."""
    exports = Exports(ctx)

    def authorised(request: Request) -> bool:
        key = request.headers.get("x-api-key")
        if key is not None:
            return hmac.compare_digest(key, ctx.credentials["api_key"])
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == ctx.credentials["username"] and hmac.compare_digest(
            password, ctx.credentials["password"])

    def denied() -> Response:
        return json_response({"code": "UNAUTHORIZED", "message": "认证失败"}, 401,
                             {"WWW-Authenticate": 'Basic realm="xf-exports"'})

    async def listing(request: Request) -> Response:
        return json_response(exports.listing()) if authorised(request) else denied()

    async def file(request: Request) -> Response:
        if not authorised(request):
            return denied()
        days = exports.refresh()
        name = request.path_params["name"]
        match = _FILE.match(name)
        try:
            day = datetime.strptime(match.group(1), "%Y%m%d").date() if match else None
        except ValueError:  # eight digits that are no date (xf_20261399.csv): no such file
            day = None
        reissue = bool(match and match.group(2))
        if day is None or day not in exports.frozen_at or (
                reissue and exports.reissued(day, days.get(day, [])) is None):
            return json_response({"code": "NOT_FOUND", "message": "文件不存在"}, 404)
        return Response(exports.render(day, reissue), media_type="text/csv; charset=GBK",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return [
        Route("/exports/", listing, methods=["GET"]),
        Route("/exports", listing, methods=["GET"]),
        Route("/exports/{name}", file, methods=["GET"]),
        *result_routes(ctx, authorised, denied),
    ]
