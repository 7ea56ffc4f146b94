"""网格化服务管理平台 (``GRID``): REST JSON with a static bearer token.

Every request needs ``Authorization: Bearer <token>``; a missing or wrong token gets
``401 {"code": "AUTH_FAILED", "message": ...}``.

- ``GET /api/v2/events?updatedSince=<epoch ms | ISO 8601>&page=1&size=50`` — events whose
  update time is ``>= updatedSince``, ordered by (updateTime, eventNo), page numbers from 1,
  ``size`` 1..200. Response ``{"code": "OK", "total", "page", "size", "data": [...]}``. Pages
  are computed on the live set: when records change while you page (``mutate``), they move to
  the end and later pages shift.
- ``GET /api/v2/grids`` — the township → village → grid tree: ``data`` is a list of nodes
  ``{"code", "name", "level", "parentCode", "population", "children"}``; ``?flat=true``
  returns the same nodes as a flat list without ``children``.
- ``GET /api/v2/events/{eventNo}`` — one event, ``{"code": "OK", "data": {...}}`` (its
  ``feedbacks`` included); ``404 {"code": "NOT_FOUND"}`` when unknown or deleted.
- ``POST /api/v2/events/{eventNo}/feedback`` — write-back ``{"content": ..., "handler"?,
  "status"?}``: appended to the event's ``feedbacks`` list, the event's ``updateTime`` is
  bumped (a new version). ``404 {"code": "NOT_FOUND"}`` for an unknown event, ``400`` without
  ``content``. A feedback may carry ``refNo`` (the caller's reference): it is kept in the
  entry, so the event's ``feedbacks`` show whether a feedback was applied (and twice).
- ``POST /api/v2/assignments`` — 交办: ``{"bizNo", "title", "content", "deptCode"?,
  "eventNo"?, "deadline"?}``; ``bizNo`` (the caller's business number) and ``content`` are
  required (``400 {"code": "BAD_REQUEST"}``). Answer ``{"code": "OK", "data": {"assignNo",
  "bizNo", "taskEventNo", "status": "已交办"}}``. No idempotency: a repeat is a second 交办.
  The 交办 is an event ``taskEventNo`` (status ``02`` 已受理, ``bizNo`` stamped) served by
  ``/api/v2/events`` from then on (:mod:`sandbox.systems.created`).
- ``GET /api/v2/assignments?bizNo=`` — the assignments with that business number.

Writes are in the write ledger (feedback under ``refNo`` or ``eventNo``, 交办 under ``bizNo``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.model import GeneratedRegion, SourceRecord
from sandbox.systems.common import SystemContext, int_param, json_response, parse_time
from sandbox.systems.created import RecordMaker
from sandbox.systems.delivery import deliver
from sandbox.writes import AppliedWrite, after_apply, fail_before

MAX_PAGE_SIZE = 200
DRIFT_FIELD = "gridExt"

Handler = Callable[[Request], Awaitable[Response]]


def routes(ctx: SystemContext) -> list[Route]:
    """The grid platform's endpoints, each behind the bearer token check."""

    def guarded(handler: Handler) -> Handler:
        async def check(request: Request) -> Response:
            expected = f"Bearer {ctx.credentials['token']}"
            if request.headers.get("authorization") != expected:
                return json_response({"code": "AUTH_FAILED", "message": "令牌无效或缺失"}, 401,
                                     {"WWW-Authenticate": 'Bearer realm="grid"'})
            return await handler(request)
        return check

    async def events(request: Request) -> Response:
        params = request.query_params
        try:
            since = parse_time(params["updatedSince"]) if params.get("updatedSince") else None
            page = int_param(params.get("page"), 1, 1, 10**9, "page")
            size = int_param(params.get("size"), 50, 1, MAX_PAGE_SIZE, "size")
        except ValueError as exc:
            return json_response({"code": "BAD_REQUEST", "message": str(exc)}, 400)
        matching = ctx.store.live_window(since)
        chunk = matching.page((page - 1) * size, page * size)
        return json_response({
            "code": "OK", "total": len(matching), "page": page, "size": size,
            "data": deliver(ctx, chunk, _render, DRIFT_FIELD),
        })

    async def grids(request: Request) -> Response:
        flat = request.query_params.get("flat", "").lower() in {"1", "true", "yes"}
        return json_response({"code": "OK", "data": region_tree(ctx.world.regions, flat=flat)})

    async def event(request: Request) -> Response:
        record = ctx.store.latest.get(request.path_params["eventNo"])
        if record is None or record.deleted:
            return json_response({"code": "NOT_FOUND", "message": "事件不存在"}, 404)
        return json_response({"code": "OK", "data": _render(record)})

    async def feedback(request: Request) -> Response:
        record = ctx.store.latest.get(request.path_params["eventNo"])
        if record is None or record.deleted:
            return json_response({"code": "NOT_FOUND", "message": "事件不存在"}, 404)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):  # not JSON, or not UTF-8
            body = None
        if not isinstance(body, dict) or not str(body.get("content", "")).strip():
            ctx.writes.reject()
            return json_response({"code": "BAD_REQUEST", "message": "content 必填"}, 400)
        if (failed := fail_before(ctx.faults, _busy())) is not None:
            return failed
        entry = {k: body[k] for k in ("content", "handler", "status", "refNo") if k in body}
        payload = {**record.payload,
                   "feedbacks": [*record.payload.get("feedbacks", []), entry]}
        updated = ctx.write(record, payload, "updateTime")
        ctx.writes.record(AppliedWrite(str(body.get("refNo") or record.key), "feedback",
                                       record.key, updated.updated_at))
        return after_apply(ctx.faults, request, json_response({
            "code": "OK", "eventNo": record.key, "version": updated.version,
            "updateTime": updated.payload.get("updateTime")}))

    assignments: list[dict[str, Any]] = []
    maker = RecordMaker(ctx)

    async def assign(request: Request) -> Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or not all(
                str(body.get(name) or "").strip() for name in ("bizNo", "content")):
            ctx.writes.reject()
            return json_response({"code": "BAD_REQUEST", "message": "bizNo、content 必填"}, 400)
        if (failed := fail_before(ctx.faults, _busy())) is not None:
            return failed
        now = ctx.clock.now()
        assign_no, biz_no = f"JB{len(assignments) + 1:08d}", str(body["bizNo"])
        created = maker.grid_event(body, biz_no)
        assignment = {"assignNo": assign_no, "bizNo": biz_no, "taskEventNo": created.key,
                      "status": "已交办", "assignedAt": int(now.timestamp() * 1000),
                      "assignment": body}
        assignments.append(assignment)
        ctx.writes.record(AppliedWrite(biz_no, "assign", assign_no, now))
        answer = {k: v for k, v in assignment.items() if k != "assignment"}
        return after_apply(ctx.faults, request, json_response({"code": "OK", "data": answer}))

    async def find_assignments(request: Request) -> Response:
        biz_no = request.query_params.get("bizNo", "")
        if not biz_no:
            return json_response({"code": "BAD_REQUEST", "message": "bizNo 必填"}, 400)
        found = [{k: v for k, v in a.items() if k != "assignment"}
                 for a in assignments if a["bizNo"] == biz_no]
        return json_response({"code": "OK", "total": len(found), "data": found})

    return [
        Route("/api/v2/events", guarded(events), methods=["GET"]),
        Route("/api/v2/grids", guarded(grids), methods=["GET"]),
        Route("/api/v2/events/{eventNo}", guarded(event), methods=["GET"]),
        Route("/api/v2/events/{eventNo}/feedback", guarded(feedback), methods=["POST"]),
        Route("/api/v2/assignments", guarded(assign), methods=["POST"]),
        Route("/api/v2/assignments", guarded(find_assignments), methods=["GET"]),
    ]


def _busy() -> Response:
    return json_response({"code": "SERVER_BUSY", "message": "服务繁忙"}, 503)


def _render(record: SourceRecord) -> dict[str, Any]:
    return dict(record.payload)


def region_tree(regions: list[GeneratedRegion], *, flat: bool = False) -> list[dict[str, Any]]:
    """Nest regions under their parents; roots are those whose parent is not in the list."""
    nodes: dict[str, dict[str, Any]] = {
        r.code: {"code": r.code, "name": r.name, "level": r.level.value,
                 "parentCode": r.parent_code, "population": r.population}
        for r in regions}
    if flat:
        return list(nodes.values())
    roots: list[dict[str, Any]] = []
    for region in regions:
        node = nodes[region.code]
        node.setdefault("children", [])
        parent = nodes.get(region.parent_code)
        if parent is None:
            roots.append(node)
        else:
            parent.setdefault("children", []).append(node)
    return roots
