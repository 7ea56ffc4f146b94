"""法院案件系统 / 调解平台 (``COURT``): OAuth2 client credentials, rate limit, write-back.

- ``POST /oauth/token`` — form ``grant_type=client_credentials&client_id=..&client_secret=..``
  (or the client in HTTP Basic auth) → ``{"access_token", "token_type": "Bearer",
  "expires_in"}``; ``expires_in`` is the ``token_ttl_s`` option (default 300 s, settable via
  ``/_sandbox/control``). Bad client → 401 ``{"error": "invalid_client"}``; another grant →
  400 ``{"error": "unsupported_grant_type"}``.
- Every ``/api/`` call needs ``Authorization: Bearer <access_token>``; a missing, unknown or
  expired token → 401 ``{"error": "invalid_token"}`` with ``WWW-Authenticate: Bearer``.
- Rate limit: a token bucket (options ``rate_per_s``, default 20, and ``rate_burst``,
  default 40) over all calls including ``/oauth/token``; an empty bucket → 429 with
  ``Retry-After`` (whole seconds).
- ``GET /api/v1/cases?modifiedAfter=<ISO 8601>&offset=0&limit=50`` — cases modified strictly
  after ``modifiedAfter``, ordered by (modifiedAt, caseNo); ``limit`` 1..200. Response
  ``{"total", "offset", "limit", "items": [...]}``.
- ``POST /api/v1/filings`` — 网上立案, a JSON object, with a required ``Idempotency-Key``
  header (400 without). First time → 201 ``{"filingId", "status": "RECEIVED", "receivedAt",
  "idempotencyKey", "filing"}``; the same key and body again → 200 with the same filing;
  the same key with a different body → 422 ``{"error": "idempotency_key_reused"}``; a
  repeat while the first is still being processed → 409 ``{"error": "request_in_flight"}``
  with ``Retry-After`` (option ``filing_processing_ms``, default 0, holds each filing that
  long before it is applied). A filing without ``caseType`` → 400
  ``{"error": "invalid_filing"}``. Every filing applied is in the write ledger under its key
  (``sandbox.writes``); write faults apply (a 503 before, a lost or hanging answer after).
  An accepted filing is a case 已立案 under ``caseNo`` from then on, served by
  ``/api/v1/cases`` with ``externalRef`` = the key (:mod:`sandbox.systems.created`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.model import SourceRecord
from sandbox.systems.common import Monotonic, SystemContext, int_param, json_response, parse_time
from sandbox.systems.created import RecordMaker
from sandbox.systems.delivery import deliver
from sandbox.writes import AppliedWrite, after_apply, fail_before

DEFAULT_OPTIONS = {"token_ttl_s": 300.0, "rate_per_s": 20.0, "rate_burst": 40.0,
                   "filing_processing_ms": 0.0}
REQUIRED_FILING_FIELDS = ("caseType",)
MAX_LIMIT = 200
DRIFT_FIELD = "extensionData"

Handler = Callable[[Request], Awaitable[Response]]


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; rate and burst are read on every call."""

    def __init__(self, options: dict[str, float], monotonic: Monotonic) -> None:
        self.options = options
        self.monotonic = monotonic
        self.tokens = options["rate_burst"]
        self.last = monotonic()

    def take(self) -> float:
        """Take a token: 0 when granted, else the seconds until one is available."""
        rate, burst = self.options["rate_per_s"], self.options["rate_burst"]
        now = self.monotonic()
        self.tokens = min(burst, self.tokens + (now - self.last) * rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate if rate > 0 else 60.0


def routes(ctx: SystemContext) -> list[Route]:
    """The court system's OAuth and API endpoints."""
    for name, value in DEFAULT_OPTIONS.items():
        ctx.options.setdefault(name, value)
    bucket = TokenBucket(ctx.options, ctx.monotonic)
    tokens: dict[str, float] = {}
    filings: dict[str, tuple[str, dict[str, Any]]] = {}
    in_flight: set[str] = set()
    maker = RecordMaker(ctx)

    def limited(handler: Handler, *, needs_token: bool = True) -> Handler:
        async def wrapped(request: Request) -> Response:
            wait = bucket.take()
            if wait > 0:
                ctx.faults.count("rate_limited")
                return json_response({"error": "rate_limited"}, 429,
                                     {"Retry-After": str(max(1, math.ceil(wait)))})
            if needs_token:
                scheme, _, token = request.headers.get("authorization", "").partition(" ")
                expiry = tokens.get(token) if scheme.lower() == "bearer" else None
                if expiry is None or ctx.monotonic() >= expiry:
                    return json_response(
                        {"error": "invalid_token", "error_description": "令牌无效或已过期"}, 401,
                        {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return await handler(request)
        return wrapped

    async def issue_token(request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        client_id, secret = _client_from_basic(request) or (
            form.get("client_id", ""), form.get("client_secret", ""))
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        if client_id != ctx.credentials["client_id"] or not hmac.compare_digest(
                secret, ctx.credentials["client_secret"]):
            return json_response({"error": "invalid_client"}, 401)
        ttl = ctx.options["token_ttl_s"]
        token = secrets.token_urlsafe(24)
        tokens[token] = ctx.monotonic() + ttl
        return json_response({"access_token": token, "token_type": "Bearer",
                              "expires_in": int(ttl) if ttl == int(ttl) else ttl})

    async def cases(request: Request) -> Response:
        params = request.query_params
        try:
            after = parse_time(params["modifiedAfter"]) if params.get("modifiedAfter") else None
            offset = int_param(params.get("offset"), 0, 0, 10**9, "offset")
            limit = int_param(params.get("limit"), 50, 1, MAX_LIMIT, "limit")
        except ValueError as exc:
            return json_response({"error": "invalid_request", "error_description": str(exc)}, 400)
        matching = ctx.store.live_window(after, strictly_after=True)
        page = matching.page(offset, offset + limit)
        return json_response({"total": len(matching), "offset": offset, "limit": limit,
                              "items": deliver(ctx, page, _render, DRIFT_FIELD)})

    async def file_case(request: Request) -> Response:
        key = request.headers.get("idempotency-key", "").strip()
        if not key:
            return json_response({"error": "idempotency_key_required"}, 400)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):  # not JSON, or not UTF-8
            body = None
        if not isinstance(body, dict) or not body:
            return json_response({"error": "invalid_request",
                                  "error_description": "body must be a JSON object"}, 400)
        missing = [name for name in REQUIRED_FILING_FIELDS if not str(body.get(name) or "")]
        if missing:
            ctx.writes.reject()
            return json_response({"error": "invalid_filing",
                                  "error_description": f"缺少必填字段: {', '.join(missing)}"}, 400)
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
        if key in in_flight:
            return json_response({"error": "request_in_flight"}, 409, {"Retry-After": "1"})
        if key in filings:
            seen, filing = filings[key]
            if seen != canonical:
                ctx.writes.reject()
                return json_response({"error": "idempotency_key_reused"}, 422)
            return json_response(filing, 200)
        if (failed := fail_before(ctx.faults, json_response(
                {"error": "server_error"}, 503))) is not None:
            return failed
        in_flight.add(key)
        try:
            if ctx.options["filing_processing_ms"] > 0:
                await asyncio.sleep(ctx.options["filing_processing_ms"] / 1000)
            case = maker.court_case(body, key)
            filing = {"filingId": f"WSLA{len(filings) + 1:08d}", "status": "RECEIVED",
                      "receivedAt": ctx.clock.now().isoformat(timespec="seconds"),
                      "idempotencyKey": key, "caseNo": case.key, "filing": body}
            filings[key] = (canonical, filing)
        finally:
            in_flight.discard(key)
        ctx.writes.record(AppliedWrite(key, "filing", filing["filingId"], ctx.clock.now()))
        return after_apply(ctx.faults, request, json_response(filing, 201))

    return [
        Route("/oauth/token", limited(issue_token, needs_token=False), methods=["POST"]),
        Route("/api/v1/cases", limited(cases), methods=["GET"]),
        Route("/api/v1/filings", limited(file_case), methods=["POST"]),
    ]


def _client_from_basic(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _render(record: SourceRecord) -> dict[str, Any]:
    return dict(record.payload)
