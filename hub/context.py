"""The typed per-request GraphQL context (请求上下文)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from hub.settings import Settings


@dataclass
class Context:
    """What every resolver may use; loaders and sessions live one request."""

    request: Request | WebSocket
    response: Response | None
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
