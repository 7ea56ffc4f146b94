"""信访 办理结果 upload (the write side of ``PETITION``): a GBK CSV posted over HTTP.

- ``POST /results/upload`` — ``Content-Type: text/csv; charset=GBK``, CRLF lines, a header
  row with :data:`RESULT_COLUMNS` (``信访件编号`` and ``办理结果`` required, the others
  optional), one row per 信访件. Each row **replaces** the result held for its 信访件编号, so a
  re-upload of a row is harmless. Answer ``{"code": "OK", "accepted": n, "rejected":
  [{"row": i, "信访件编号": ..., "reason": ...}]}``: a row naming an unknown 信访件 or without
  a 办理结果 is rejected on its own; a body that is not GBK CSV with the header → ``400``.
- ``GET /results/{信访件编号}`` — the result held, ``404`` when none.

Both need the export's credentials (Basic or ``X-API-Key``). Each accepted row is in the
write ledger under its 信访件编号 (a replacement counted as ``replaced``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.systems.common import SystemContext, json_response
from sandbox.writes import AppliedWrite, after_apply, fail_before

RESULT_COLUMNS = ("信访件编号", "办理结果", "办理单位", "办结日期", "答复意见")
KEY = "信访件编号"


def result_routes(
    ctx: SystemContext, authorised: Callable[[Request], bool], denied: Callable[[], Response],
) -> list[Route]:
    results: dict[str, dict[str, str]] = {}

    async def upload(request: Request) -> Response:
        if not authorised(request):
            return denied()
        try:
            rows = list(csv.DictReader(io.StringIO((await request.body()).decode("gbk"))))
        except (UnicodeDecodeError, csv.Error):
            ctx.writes.reject()
            return json_response({"code": "BAD_FILE", "message": "文件不是 GBK 编码的 CSV"}, 400)
        if not rows or KEY not in rows[0] or "办理结果" not in rows[0]:
            ctx.writes.reject()
            return json_response({"code": "BAD_FILE", "message": "缺少表头: 信访件编号、办理结果"},
                                 400)
        if (failed := fail_before(ctx.faults, json_response(
                {"code": "SERVER_ERROR", "message": "上传失败"}, 500))) is not None:
            return failed
        rejected: list[dict[str, Any]] = []
        now = ctx.clock.now()
        for number, row in enumerate(rows, start=1):
            key = (row.get(KEY) or "").strip()
            record = ctx.store.latest.get(key)
            reason = ("信访件不存在" if record is None or record.deleted
                      else "办理结果必填" if not (row.get("办理结果") or "").strip() else None)
            if reason is not None:
                ctx.writes.reject()
                rejected.append({"row": number, KEY: key, "reason": reason})
                continue
            replaced = key in results
            results[key] = {c: (row.get(c) or "").strip() for c in RESULT_COLUMNS}
            ctx.writes.record(AppliedWrite(key, "result", key, now, replaced=replaced))
        return after_apply(ctx.faults, request, json_response(
            {"code": "OK", "accepted": len(rows) - len(rejected), "rejected": rejected}))

    async def result(request: Request) -> Response:
        if not authorised(request):
            return denied()
        held = results.get(request.path_params["number"])
        if held is None:
            return json_response({"code": "NOT_FOUND", "message": "无办理结果"}, 404)
        return json_response({"code": "OK", "data": held})

    return [
        Route("/results/upload", upload, methods=["POST"]),
        Route("/results/{number}", result, methods=["GET"]),
    ]
