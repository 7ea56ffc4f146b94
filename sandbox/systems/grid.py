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
- ``POST /api/v2/events/{eventNo}/feedback`` — write-back ``{"content": ..., "handler"?,
  "status"?}``: appended to the event's ``feedbacks`` list, the event's ``updateTime`` is
  bumped (a new version). ``404 {"code": "NOT_FOUND"}`` for an unknown event, ``400`` without
  ``content``.
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
from sandbox.systems.delivery import deliver

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
        matching = [r for r in ctx.store.ordered()
                    if not r.deleted and (since is None or r.updated_at >= since)]
        chunk = matching[(page - 1) * size: page * size]
        return json_response({
            "code": "OK", "total": len(matching), "page": page, "size": size,
            "data": deliver(ctx, chunk, _render, DRIFT_FIELD),
        })

    async def grids(request: Request) -> Response:
        flat = request.query_params.get("flat", "").lower() in {"1", "true", "yes"}
        return json_response({"code": "OK", "data": region_tree(ctx.world.regions, flat=flat)})

    async def feedback(request: Request) -> Response:
        record = ctx.store.latest.get(request.path_params["eventNo"])
        if record is None or record.deleted:
            return json_response({"code": "NOT_FOUND", "message": "事件不存在"}, 404)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or not str(body.get("content", "")).strip():
            return json_response({"code": "BAD_REQUEST", "message": "content 必填"}, 400)
        entry = {k: body[k] for k in ("content", "handler", "status") if k in body}
        payload = {**record.payload,
                   "feedbacks": [*record.payload.get("feedbacks", []), entry]}
        updated = ctx.write(record, payload, "updateTime")
        return json_response({"code": "OK", "eventNo": record.key, "version": updated.version,
                              "updateTime": updated.payload.get("updateTime")})

    return [
        Route("/api/v2/events", guarded(events), methods=["GET"]),
        Route("/api/v2/grids", guarded(grids), methods=["GET"]),
        Route("/api/v2/events/{eventNo}/feedback", guarded(feedback), methods=["POST"]),
    ]


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
