"""The typed per-request GraphQL context (请求上下文), with who is asking and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from hub.settings import Settings
from resolvers.dataloaders import Loaders
from schema.security import RequestSecurity


def header_text(raw: str | None) -> str | None:
    """A header as the client meant it: UTF-8 bytes (Starlette decodes Latin-1) or %-encoded."""
    if raw is None:
        return None
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        text = raw
    return unquote(text) if "%" in text else text


@dataclass
class Context:
    """What every resolver may use; loaders and sessions live one request."""

    request: Request | WebSocket
    response: Response | None
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    security: RequestSecurity
    # Created per request, so a DataLoader's cache never outlives the request that filled it,
    # and every loader reads within this principal's scope.
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.sessions, self.security.scope)
