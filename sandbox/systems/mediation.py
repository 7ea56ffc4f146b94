"""人民调解信息管理平台 (``MEDIATION``): REST JSON, every request HMAC-signed.

Signing: every request carries the query parameters ``appKey``, ``timestamp`` (epoch ms,
wall clock), ``nonce`` (unique per request) and ``sign``::

    canonical = "&".join(f"{k}={urllib.parse.quote(v, safe='')}"
                         for k, v in sorted(all query params except sign))
    sign = hmac.new(app_secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()

:func:`sign_params` does exactly this. Rejections (HTTP 401, ``{"errcode", "errmsg"}``):
40100 unknown appKey, 40101 wrong or missing signature, 40102 timestamp more than 5 minutes
off, 40103 nonce already used. Success bodies carry ``"errcode": 0``.

- ``GET /openapi/v1/cases?cursor=&limit=`` — cases ordered by (updatedAt, caseNo); ``limit``
  1..100 (default 20); the opaque ``nextCursor`` continues after the last item delivered (it
  is returned even when ``hasMore`` is false, so it doubles as the incremental watermark).
  Deleted cases come as tombstones ``{"caseNo", "deleted": true, "updatedAt"}``.
- ``POST /openapi/v1/referrals`` — 委派调解, a signed request with a JSON body ``{"externalRef",
  "summary", "disputeType"?, "regionCode"?, "parties"?, ...}``; ``summary`` is required
  (``400 {"errcode": 40001}`` without). Answer ``{"errcode": 0, "data": {"referralNo",
  "externalRef", "caseNo", "status": "待受理", "createdAt"}}``. There is **no** idempotency: a
  repeat creates a second referral (the write ledger counts it as a duplicate of its
  externalRef). An accepted referral is a case 受理 under ``caseNo``, served by
  ``/openapi/v1/cases`` with the ``externalRef`` (:mod:`sandbox.systems.created`).
- ``GET /openapi/v1/referrals?externalRef=`` — the referrals carrying that external reference
  (``data``: a list, oldest first): how a caller finds out whether a write whose answer it
  lost was applied.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.model import SourceRecord
from sandbox.systems.common import BEIJING, SystemContext, int_param, json_response
from sandbox.systems.created import RecordMaker
from sandbox.systems.delivery import deliver
from sandbox.writes import AppliedWrite, after_apply, fail_before

MAX_SKEW_MS = 5 * 60 * 1000
MAX_LIMIT = 100
DRIFT_FIELD = "extInfo"


def canonical_query(params: Mapping[str, str]) -> str:
    """The signed string: every parameter but ``sign``, sorted by key, values URL-encoded."""
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in sorted(params.items()) if k != "sign")


def sign_params(params: Mapping[str, str], secret: str) -> str:
    """Hex HMAC-SHA256 of :func:`canonical_query` with the app secret."""
    return hmac.new(secret.encode(), canonical_query(params).encode(), hashlib.sha256).hexdigest()


class SignatureGuard:
    """Checks appKey, timestamp window, signature and nonce freshness, in that order."""

    def __init__(self, credentials: dict[str, str], wall_ms: Callable[[], float] | None = None):
        self.app_key = credentials["app_key"]
        self.secret = credentials["app_secret"]
        self._wall_ms = wall_ms or (lambda: time.time() * 1000)
        self._nonces: dict[str, float] = {}

    def check(self, params: Mapping[str, str]) -> Response | None:
        """``None`` when the request is genuine, else the 401 response to send."""
        if params.get("appKey") != self.app_key:
            return _reject(40100, "appKey 不存在")
        sign, nonce, stamp = params.get("sign"), params.get("nonce"), params.get("timestamp")
        if not sign or not nonce or not stamp:
            return _reject(40101, "签名错误: 缺少 sign/nonce/timestamp")
        now = self._wall_ms()
        if not stamp.isdigit() or abs(now - int(stamp)) > MAX_SKEW_MS:
            return _reject(40102, "时间戳过期")
        if not hmac.compare_digest(sign.lower(), sign_params(params, self.secret)):
            return _reject(40101, "签名错误")
        self._nonces = {n: t for n, t in self._nonces.items() if now - t <= 2 * MAX_SKEW_MS}
        if nonce in self._nonces:
            return _reject(40103, "nonce 重复")
        self._nonces[nonce] = now
        return None


def routes(ctx: SystemContext) -> list[Route]:
    """The mediation platform's open API."""
    guard = SignatureGuard(ctx.credentials)

    async def cases(request: Request) -> Response:
        params = dict(request.query_params)
        if (rejection := guard.check(params)) is not None:
            return rejection
        try:
            limit = int_param(params.get("limit"), 20, 1, MAX_LIMIT, "limit")
            after = _decode_cursor(params["cursor"]) if params.get("cursor") else None
        except ValueError as exc:
            return json_response({"errcode": 40000, "errmsg": str(exc)}, 400)
        remaining = ctx.store.after(after)
        page = remaining.page(0, limit)
        next_cursor = _encode_cursor(page[-1]) if page else params.get("cursor") or None
        return json_response({
            "errcode": 0, "errmsg": "ok",
            "data": deliver(ctx, page, _render, DRIFT_FIELD),
            "nextCursor": next_cursor, "hasMore": len(remaining) > limit,
        })

    referrals: list[dict[str, Any]] = []
    maker = RecordMaker(ctx)

    async def refer(request: Request) -> Response:
        params = dict(request.query_params)
        if (rejection := guard.check(params)) is not None:
            return rejection
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or not str(body.get("summary") or "").strip():
            ctx.writes.reject()
            return json_response({"errcode": 40001, "errmsg": "参数错误: summary 必填"}, 400)
        if (failed := fail_before(ctx.faults, json_response(
                {"errcode": 50000, "errmsg": "系统繁忙"}, 500))) is not None:
            return failed
        now = ctx.clock.now()
        number = f"WP{now.astimezone(BEIJING):%Y%m%d}{len(referrals) + 1:06d}"
        external_ref = str(body.get("externalRef") or "")
        case = maker.mediation_case(body, external_ref or number)
        referral: dict[str, Any] = {"referralNo": number, "caseNo": case.key,
                    "externalRef": external_ref, "status": "待受理",
                    "createdAt": now.astimezone(BEIJING).isoformat(timespec="seconds"),
                    "referral": body}
        referrals.append(referral)
        ctx.writes.record(AppliedWrite(external_ref or number, "referral", number, now))
        answer = {k: v for k, v in referral.items() if k != "referral"}
        return after_apply(ctx.faults, request,
                           json_response({"errcode": 0, "errmsg": "ok", "data": answer}))

    async def find_referrals(request: Request) -> Response:
        params = dict(request.query_params)
        if (rejection := guard.check(params)) is not None:
            return rejection
        ref = params.get("externalRef", "")
        if not ref:
            return json_response({"errcode": 40001, "errmsg": "参数错误: externalRef 必填"}, 400)
        found = [{k: v for k, v in r.items() if k != "referral"}
                 for r in referrals if r["externalRef"] == ref]
        return json_response({"errcode": 0, "errmsg": "ok", "data": found})

    return [
        Route("/openapi/v1/cases", cases, methods=["GET"]),
        Route("/openapi/v1/referrals", refer, methods=["POST"]),
        Route("/openapi/v1/referrals", find_referrals, methods=["GET"]),
    ]


def _render(record: SourceRecord) -> dict[str, Any]:
    if record.deleted:
        updated = record.payload.get("updatedAt") or record.updated_at.astimezone(
            BEIJING).isoformat(timespec="seconds")
        return {"caseNo": record.key, "deleted": True, "updatedAt": updated}
    return dict(record.payload)


def _encode_cursor(record: SourceRecord) -> str:
    raw = json.dumps({"t": record.updated_at.isoformat(), "k": record.key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        moment = datetime.fromisoformat(data["t"])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if moment.tzinfo is None:  # compared with the records' aware times: a naive one cannot be
        raise ValueError("invalid cursor: its time has no offset")
    return moment, str(data["k"])


def _reject(code: int, message: str) -> Response:
    return json_response({"errcode": code, "errmsg": message}, 401)
