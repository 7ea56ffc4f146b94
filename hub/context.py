"""The typed per-request GraphQL context (请求上下文)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from hub.settings import Settings
from resolvers.dataloaders import Loaders


@dataclass
class Context:
    """What every resolver may use; loaders and sessions live one request."""

    request: Request | WebSocket
    response: Response | None
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    # Created per request, so a DataLoader's cache never outlives the request that filled it.
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.sessions)
