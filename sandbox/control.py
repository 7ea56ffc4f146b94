"""The sandbox's own endpoints on every system's port (never subject to faults).

``GET  /_sandbox/control``        current fault settings plus system options (JSON)
``POST /_sandbox/control``        partial update, e.g. ``{"error_rate": 0.25, "mutate":
                                  {"interval_ms": 200, "count": 5}}`` (``{}``: 1000 ms, 5);
                                  ``"mutate": null`` stops it. All or nothing: an unknown key,
                                  a wrong type, a fraction where a whole number is wanted, a
                                  rate outside [0, 1] or a negative duration → 400 and nothing
                                  changes. Court options: ``token_ttl_s``,
                                  ``rate_per_s``, ``rate_burst``.
``POST /_sandbox/mutate``         ``{"count": 5}``: one mutation now; returns the changed keys
                                  (a body that is no such object, or a count over 10 000 → 400)
``GET  /_sandbox/stats``          ``valid_records``, ``malformed_records``, ``deleted_records``,
                                  ``faults_injected``, ``valid_keys``, ``malformed_keys``,
                                  ``deleted_keys``, ``malformed`` (key → kind, field),
                                  ``versions`` (key → latest version), ``writes`` (applied,
                                  distinct, duplicates, replaced, rejected write-backs)
``GET  /_sandbox/writes``         every applied write-back, and the count per reference
``GET  /_sandbox/records/{key}``  the latest clean payload of one record
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sandbox.faults import FaultMiddleware, check_mutate_count
from sandbox.systems.common import SystemContext, json_response
from sandbox.systems.delivery import choose_malformed

log = logging.getLogger(__name__)


class MutateDriver:
    """Runs ``ctx.apply_mutation`` on the interval set in ``settings.mutate``."""

    def __init__(self, ctx: SystemContext) -> None:
        self.ctx = ctx
        self._task: asyncio.Task[None] | None = None

    def sync(self) -> None:
        """Start or stop the background task to match the current settings."""
        wanted = self.ctx.faults.settings.mutate is not None
        if wanted and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        elif not wanted and self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while (settings := self.ctx.faults.settings.mutate) is not None:
            try:
                await asyncio.sleep(max(float(settings.interval_ms), 10) / 1000)
                self.ctx.apply_mutation(int(settings.count))
            except Exception:  # a bad setting or a failing generator must not end the task
                log.exception("mutation of %s failed", self.ctx.system)
                await asyncio.sleep(1)  # and must not spin: try again in a second
                continue
            self.ctx.faults.count("mutate")


def build_app(ctx: SystemContext, routes: Sequence[BaseRoute], driver: MutateDriver) -> Starlette:
    """One system's Starlette app: its own routes, the control routes and the fault layer."""
    return Starlette(
        routes=[*routes, *control_routes(ctx, driver)],
        middleware=[Middleware(FaultMiddleware, state=ctx.faults)],
    )


def control_routes(ctx: SystemContext, driver: MutateDriver) -> list[Route]:
    async def get_control(request: Request) -> Response:
        return json_response(_control_view(ctx))

    async def post_control(request: Request) -> Response:
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("control body must be a JSON object")
            _apply_control(ctx, changes)
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            return json_response({"error": str(exc)}, 400)
        driver.sync()
        return json_response(_control_view(ctx))

    async def post_mutate(request: Request) -> Response:
        try:
            count = _mutate_count(await request.body())
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        changed = ctx.apply_mutation(count)
        return json_response({"changed": [
            {"key": r.key, "version": r.version, "deleted": r.deleted} for r in changed
        ]})

    async def get_stats(request: Request) -> Response:
        return json_response(stats(ctx))

    async def get_record(request: Request) -> Response:
        key = request.path_params["key"]
        record = ctx.store.latest.get(key)
        if record is None:
            return json_response({"error": f"unknown key {key}"}, 404)
        flaw = ctx.malformed.get(key)
        return json_response({
            "key": key, "version": record.version, "deleted": record.deleted,
            "updatedAt": _iso(record.updated_at), "payload": record.payload,
            "exportDay": record.export_day.isoformat() if record.export_day else None,
            "malformed": {"kind": flaw.kind, "field": flaw.field} if flaw else None,
        })

    async def get_writes(request: Request) -> Response:
        return json_response({"system": ctx.system.value, **ctx.writes.summary(),
                              "references": dict(sorted(ctx.writes.by_reference.items())),
                              "writes": ctx.writes.listing()})

    return [
        Route("/_sandbox/writes", get_writes, methods=["GET"]),
        Route("/_sandbox/control", get_control, methods=["GET"]),
        Route("/_sandbox/control", post_control, methods=["POST"]),
        Route("/_sandbox/mutate", post_mutate, methods=["POST"]),
        Route("/_sandbox/stats", get_stats, methods=["GET"]),
        Route("/_sandbox/records/{key:path}", get_record, methods=["GET"]),
    ]


def _apply_control(ctx: SystemContext, changes: dict[str, Any]) -> None:
    """Apply a control request, all or nothing: everything is checked before anything changes."""
    options = {k: v for k, v in changes.items() if k in ctx.options}
    for name, value in options.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number")
        if value < 0:
            raise ValueError(f"{name} must not be negative, not {value}")
    settings = ctx.faults.settings
    checked = settings.validated({k: v for k, v in changes.items() if k not in ctx.options})
    old_rate = settings.malformed_rate
    settings.apply(checked)
    ctx.options.update({k: float(v) for k, v in options.items()})
    if settings.malformed_rate != old_rate:
        ctx.malformed = choose_malformed(ctx, settings.malformed_rate)


def _mutate_count(body: bytes) -> int:
    """The ``count`` of a ``/_sandbox/mutate`` body (5 when the body or the key is absent)."""
    if not body:
        return 5
    try:
        request = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"mutate body must be JSON: {exc}") from exc
    if not isinstance(request, dict):
        raise ValueError('mutate body must be a JSON object like {"count": 5}')
    count = request.get("count", 5)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative integer, not {count!r}")
    check_mutate_count(count)
    return count


def _control_view(ctx: SystemContext) -> dict[str, Any]:
    return {"system": ctx.system.value, **ctx.faults.settings.to_json(), **ctx.options}


def stats(ctx: SystemContext) -> dict[str, Any]:
    """Counts and key lists for record-by-record reconciliation (see the module docstring)."""
    latest = ctx.store.latest
    deleted = sorted(k for k, r in latest.items() if r.deleted)
    malformed = sorted(k for k in ctx.malformed if k in latest and not latest[k].deleted)
    bad = set(deleted) | set(malformed)
    valid = sorted(k for k in latest if k not in bad)
    return {
        "system": ctx.system.value,
        "total_records": len(latest),
        "valid_records": len(valid),
        "malformed_records": len(malformed),
        "deleted_records": len(deleted),
        "faults_injected": dict(sorted(ctx.faults.injected.items())),
        "valid_keys": valid,
        "malformed_keys": malformed,
        "deleted_keys": deleted,
        "malformed": {k: {"kind": ctx.malformed[k].kind, "field": ctx.malformed[k].field}
                      for k in malformed},
        "versions": {k: latest[k].version for k in sorted(latest)},
        "writes": ctx.writes.summary(),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()
