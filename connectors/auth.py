"""Per-source authentication (认证): static bearer, HMAC request signing, OAuth2 client credentials.

Each strategy prepares a request before it is sent and may be asked to ``refresh`` after a 401;
the HTTP client retries the request once with the fresh credential.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import httpx

from domain.enums import SourceSystem


class SourceAuth(Protocol):
    """How requests to one source are authenticated."""

    async def prepare(self, client: httpx.AsyncClient, request: httpx.Request) -> None:
        """Add credentials to ``request`` (headers or query parameters)."""

    async def refresh(self, client: httpx.AsyncClient) -> bool:
        """Forget a stale credential after a 401; True when a retry may now succeed."""


class NoAuth:
    async def prepare(self, client: httpx.AsyncClient, request: httpx.Request) -> None:
        return None

    async def refresh(self, client: httpx.AsyncClient) -> bool:
        return False


@dataclass
class BearerToken:
    """A static bearer token issued to govhub (the grid platform's scheme)."""

    token: str

    async def prepare(self, client: httpx.AsyncClient, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.token}"

    async def refresh(self, client: httpx.AsyncClient) -> bool:
        return False


def canonical_query(params: dict[str, str]) -> str:
    """Parameters sorted by key, values URL-encoded, ``k=v`` joined by ``&``."""
    return "&".join(f"{k}={quote(str(params[k]), safe='')}" for k in sorted(params))


@dataclass
class HmacSigner:
    """appKey, timestamp, nonce, sign = HMAC-SHA256(canonical query): the mediation scheme."""

    app_key: str
    app_secret: str
    clock: Callable[[], float] = field(default=time.time)

    def sign(self, params: dict[str, str]) -> str:
        message = canonical_query(params).encode("utf-8")
        return hmac.new(self.app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()

    async def prepare(self, client: httpx.AsyncClient, request: httpx.Request) -> None:
        params = {k: v for k, v in request.url.params.multi_items() if k != "sign"}
        params |= {
            "appKey": self.app_key,
            "timestamp": str(int(self.clock() * 1000)),
            "nonce": secrets.token_hex(8),
        }
        params["sign"] = self.sign(params)
        request.url = request.url.copy_with(params=params)

    async def refresh(self, client: httpx.AsyncClient) -> bool:
        return True  # a fresh timestamp and nonce may cure a stale-signature refusal


@dataclass
class OAuthClientCredentials:
    """OAuth2 client-credentials (the court's scheme): token cached until shortly before expiry."""

    source: SourceSystem
    token_url: str
    client_id: str
    client_secret: str
    clock: Callable[[], float] = field(default=time.time)
    margin_seconds: float = 15.0
    _token: str | None = None
    _expires_at: float = 0.0

    async def _fetch_token(self, client: httpx.AsyncClient) -> str:
        # Imported here to avoid a cycle: the HTTP client module uses this protocol.
        from connectors.http import raise_for_source_status

        response = await client.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        raise_for_source_status(response, self.source)
        body = response.json()
        self._token = str(body["access_token"])
        self._expires_at = self.clock() + float(body.get("expires_in", 300)) - self.margin_seconds
        return self._token

    async def prepare(self, client: httpx.AsyncClient, request: httpx.Request) -> None:
        token = self._token
        if token is None or self.clock() >= self._expires_at:
            token = await self._fetch_token(client)
        request.headers["Authorization"] = f"Bearer {token}"

    async def refresh(self, client: httpx.AsyncClient) -> bool:
        self._token = None
        return True
