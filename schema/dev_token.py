"""A development token minted by the hub itself (开发令牌): the console's role picker."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(
    description=(
        "A bearer token minted for a demo role and jurisdiction (开发令牌): only when "
        "GOVHUB_ENV=dev, never in prod."
    )
)
class DevToken:
    token: str = strawberry.field(description="The JWT, for `Authorization: Bearer` (令牌).")
    role: str = strawberry.field(description="Its role claim (角色).")
    regions: list[str] = strawberry.field(description="Its jurisdiction's codes (辖区代码).")
    scopes: list[str] = strawberry.field(description="Its scopes, e.g. pii:read (权限范围).")
    expires_at: datetime = strawberry.field(description="When it expires (过期时间).")
