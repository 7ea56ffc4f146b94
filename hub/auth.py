"""Authentication (身份认证): bearer JWTs → a :class:`Principal`.

HS256 with ``GOVHUB_JWT_SECRET``, or RS256/ES256 with ``GOVHUB_JWT_PUBLIC_KEY`` (a PEM, or a
path to a PEM or JWKS file). Only those algorithms are accepted — never ``none``. Required
claims: ``sub`` (not blank), ``role``, ``exp``; optional ``name``, ``org`` (strings),
``regions`` (division-code prefixes), ``scopes``. Audience and issuer are checked when
configured.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from domain.roles import PII_SCOPE, Principal, Role
from domain.validators import InvalidIdentifier, division_prefix, validate_division_code
from hub.settings import Settings, SettingsError

__all__ = ["AuthenticationError", "DevTokens", "Principal", "TokenVerifier", "mint_token"]


class AuthenticationError(Exception):
    """The request carries no usable credential; GraphQL code ``UNAUTHENTICATED``."""

    code = "UNAUTHENTICATED"


def _region_prefixes(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
        raise AuthenticationError("claim 'regions' must be a list of division codes")
    try:
        return tuple(sorted({division_prefix(validate_division_code(code)) for code in raw}))
    except InvalidIdentifier as exc:
        raise AuthenticationError(f"claim 'regions' holds an invalid code: {exc}") from exc


def _text_claim(claims: dict[str, Any], name: str) -> str:
    """An optional text claim (``name``, ``org``), empty when absent. Anything but a string is
    refused rather than turned into its repr: ``org`` decides which matters a partner sees."""
    value = claims.get(name, "")
    if not isinstance(value, str):
        raise AuthenticationError(f"claim '{name}' must be a string")
    return value


def _load_public_key(value: str) -> tuple[Any, list[str]]:
    """A PEM string, a path to a PEM file, or a path to a JWKS file; anything else (a path
    that does not exist, a file holding no key) is a :class:`SettingsError`, which would
    otherwise refuse every token as signed with the wrong algorithm."""
    text = value
    path = Path(value)
    if not value.lstrip().startswith("-----") and path.exists():
        text = path.read_text(encoding="utf-8")
    try:
        if text.lstrip().startswith("{"):
            keys = jwt.PyJWKSet.from_dict(json.loads(text)).keys
            return {k.key_id: k.key for k in keys}, ["RS256", "ES256"]
        load_pem_public_key(text.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm, jwt.PyJWKSetError) as exc:
        raise SettingsError(
            "GOVHUB_JWT_PUBLIC_KEY is neither a PEM public key nor a readable PEM or JWKS file"
        ) from exc
    return text, ["RS256", "ES256"]


VERIFIED_TOKENS = 1024
"""Verified tokens remembered (by SHA-256 digest, never the token itself) until they expire."""


class TokenVerifier:
    """Verifies bearer tokens against the configured key.

    A token verified once is remembered by its digest until its ``exp`` (at most
    ``VERIFIED_TOKENS`` of them, least recently used forgotten first): a client sending the
    same token on every request pays the signature check once. Refused tokens are not kept.
    """

    def __init__(self, settings: Settings, *, remember: int = VERIFIED_TOKENS) -> None:
        self._verified: OrderedDict[bytes, Principal] = OrderedDict()
        self._remember = remember
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.max_lifetime = settings.jwt_max_lifetime_hours * 3600
        if settings.jwt_public_key:
            self._key, self.algorithms = _load_public_key(settings.jwt_public_key)
        elif settings.jwt_secret is not None:
            self._key, self.algorithms = settings.jwt_secret.get_secret_value(), ["HS256"]
        else:
            raise ValueError("no JWT key configured")

    def _key_for(self, token: str) -> Any:
        if isinstance(self._key, dict):
            kid = jwt.get_unverified_header(token).get("kid")
            if kid not in self._key:
                raise AuthenticationError("token signed with an unknown key id")
            return self._key[kid]
        return self._key

    def verify(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationError("missing Authorization: Bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Authorization must be 'Bearer <token>'")
        digest = hashlib.sha256(token.strip().encode()).digest()
        known = self._verified.get(digest)
        if known is not None:
            if known.expires_at is not None and known.expires_at > time.time():
                self._verified.move_to_end(digest)
                return known
            del self._verified[digest]
        principal = self._decode(token.strip())
        self._verified[digest] = principal
        if len(self._verified) > self._remember:
            self._verified.popitem(last=False)
        return principal

    def _decode(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {type(exc).__name__}") from exc
        issued = claims.get("iat", time.time())
        if float(claims["exp"]) - float(issued) > self.max_lifetime:
            # a token that never expires in practice is a stolen token that never expires
            raise AuthenticationError(
                "token lifetime exceeds the hub's maximum (GOVHUB_JWT_MAX_LIFETIME_HOURS)"
            )
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise AuthenticationError("claim 'role' names no known role") from exc
        scopes = claims.get("scopes", [])
        if isinstance(scopes, str):
            scopes = scopes.split()
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub.strip():
            # every audit row names who asked; a blank subject names no one
            raise AuthenticationError("claim 'sub' must name the caller")
        return Principal(
            sub=sub,
            role=role,
            name=_text_claim(claims, "name"),
            org=_text_claim(claims, "org"),
            regions=_region_prefixes(claims.get("regions", [])),
            scopes=frozenset(str(s) for s in scopes),
            expires_at=float(claims["exp"]),
        )


def mint_token(
    settings: Settings,
    *,
    role: Role,
    regions: list[str],
    scopes: list[str] | None = None,
    ttl_seconds: int = 3600,
    sub: str = "dev",
    name: str = "开发用户",
    org: str = "govhub-dev",
) -> str:
    """An HS256 development token (``govhub token``)."""
    if settings.jwt_secret is None:
        raise ValueError("minting needs GOVHUB_JWT_SECRET (HS256)")
    if ttl_seconds > settings.jwt_max_lifetime_hours * 3600:  # (one already expired: tests)
        raise ValueError(
            f"the lifetime must be at most {settings.jwt_max_lifetime_hours * 3600} seconds "
            "(GOVHUB_JWT_MAX_LIFETIME_HOURS)"
        )
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub, "name": name, "org": org, "role": role.value, "regions": regions,
        "scopes": scopes or [], "iat": now, "exp": now + ttl_seconds,
    }  # fmt: skip
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


DEV_TOKEN_TTL_SECONDS = 8 * 3600
"""A working day: the console sends its user back to 登录 when the token expires."""
DEV_TOKEN_SCOPES = frozenset({PII_SCOPE})


class DevTokens:
    """The ``devToken`` mutation's minter (开发令牌), given to the GraphQL context in ``dev``
    only: the staff console's role picker. Tokens name the role as subject (``dev:<role>``)."""

    def __init__(self, settings: Settings, ttl_seconds: int = DEV_TOKEN_TTL_SECONDS) -> None:
        if settings.env != "dev":
            raise ValueError("development tokens are minted in GOVHUB_ENV=dev only")
        self.settings = settings
        self.ttl_seconds = ttl_seconds

    def mint(self, role: str, regions: list[str], scopes: list[str]) -> tuple[str, datetime]:
        try:
            known = Role(role)
        except ValueError as exc:
            raise ValueError(f"unknown role {role[:40]!r}") from exc
        if not regions:
            raise ValueError("name at least one region")
        try:
            codes = [validate_division_code(code) for code in regions]
        except InvalidIdentifier as exc:
            raise ValueError(f"invalid region code: {exc}") from exc
        unknown = set(scopes) - DEV_TOKEN_SCOPES
        if unknown:
            raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))[:80]}")
        minted = mint_token(
            self.settings, role=known, regions=codes, scopes=sorted(set(scopes)),
            ttl_seconds=self.ttl_seconds, sub=f"dev:{known.value}", name=f"演示用户({known.value})",
            org="综治中心(演示)",
        )  # fmt: skip
        claims = jwt.decode(minted, options={"verify_signature": False})  # just signed here
        return minted, datetime.fromtimestamp(claims["exp"], UTC)
