"""What schema types need from the per-request context (请求上下文), as a protocol.

``hub.context.Context`` satisfies it; types depend on this protocol, not on ``hub``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import strawberry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from resolvers.dataloaders import Loaders
    from schema.security import RequestSecurity


class EventSource(Protocol):
    """Where subscriptions hear of changes (``hub.bus``): JSON messages per channel."""

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]: ...


class GraphQLContext(Protocol):
    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def loaders(self) -> Loaders: ...

    @property
    def security(self) -> RequestSecurity: ...

    @property
    def bus(self) -> EventSource | None: ...

    def start_operation(self) -> None: ...


Info: TypeAlias = strawberry.Info[GraphQLContext, None]
