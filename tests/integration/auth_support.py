"""Tokens for tests: mint a bearer token for a role, jurisdiction and scopes."""

from __future__ import annotations

from typing import Any

from domain.roles import Role
from hub.auth import mint_token
from hub.settings import Settings

JWT_SECRET = "x" * 32
EVERYWHERE = ["410000", "510000"]  # the provinces of every test world (河南, 四川)


def token(
    role: Role = Role.ADMIN,
    regions: list[str] | None = None,
    scopes: list[str] | None = None,
    *,
    settings: Settings | None = None,
    **claims: Any,
) -> str:
    """A valid HS256 token (the secret the test apps use) for ``role`` over ``regions``."""
    return mint_token(
        settings or Settings(jwt_secret=JWT_SECRET),
        role=role,
        regions=EVERYWHERE if regions is None else regions,
        scopes=scopes,
        **claims,
    )


def bearer(
    role: Role = Role.ADMIN, regions: list[str] | None = None, scopes: list[str] | None = None
) -> dict[str, str]:
    """``Authorization`` headers for ``role``."""
    return {"Authorization": f"Bearer {token(role, regions, scopes)}"}
