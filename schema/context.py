"""What schema types need from the per-request context (请求上下文), as a protocol.

``hub.context.Context`` satisfies it; types depend on this protocol, not on ``hub``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias

import strawberry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from resolvers.dataloaders import Loaders
    from schema.security import RequestSecurity


class GraphQLContext(Protocol):
    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def loaders(self) -> Loaders: ...

    @property
    def security(self) -> RequestSecurity: ...


Info: TypeAlias = strawberry.Info[GraphQLContext, None]
