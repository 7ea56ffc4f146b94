"""The ``devToken`` mutation (开发令牌): a token for a demo role, for the console's role picker.

Only in ``GOVHUB_ENV=dev``: the hub then gives the context a minter, and ``schema.access``
lets a document holding nothing but ``devToken`` through without a bearer token. In ``prod``
there is no minter and the access rules refuse it (``UNAUTHENTICATED`` without a token,
``FORBIDDEN`` with one). Every call is audited like any operation (``AuditTrail``).
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.context import Info
from schema.dev_token import DevToken
from schema.errors import BadUserInput, Forbidden

MAX_REGIONS = 20


async def resolve_dev_token(
    info: Info,
    role: Annotated[
        str, strawberry.argument(description="A role, e.g. center_staff or partner_police (角色).")
    ],
    regions: Annotated[
        list[str],
        strawberry.argument(description="Division codes of the jurisdiction (辖区区划代码)."),
    ],
    scopes: Annotated[
        list[str] | None,
        strawberry.argument(description="Scopes: only pii:read is known (权限范围)."),
    ] = None,
) -> DevToken:
    minter = info.context.dev_tokens
    if minter is None:
        raise Forbidden("Development tokens are minted in GOVHUB_ENV=dev only.")
    if len(regions) > MAX_REGIONS:
        raise BadUserInput(f"Name at most {MAX_REGIONS} regions.")
    wanted = sorted(set(scopes or []))
    try:
        token, expires_at = minter.mint(role, regions, wanted)
    except ValueError as exc:
        raise BadUserInput(str(exc)) from exc
    return DevToken(token=token, role=role, regions=regions, scopes=wanted, expires_at=expires_at)
