"""What schema types need from the per-request context (请求上下文), as protocols.

``hub.context.Context`` (and ``resolvers.dataloaders.LoaderContext`` in-process) satisfies
them; types depend on these protocols, never on ``hub`` or ``resolvers``: the loaders they
read through, and the services the resolvers layer provides (opening sealed identifiers, a
person's records).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import strawberry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from strawberry.dataloader import DataLoader

    from db.matter_workflow import MatterWorkflow
    from db.models import ClockRow, MatterEvent, OutboxMessage, SealedParty, Supervision
    from domain.enums import SourceSystem
    from schema.linking import TimelineEntry
    from schema.persons import Party, Person
    from schema.records import LinkedRecord, Record
    from schema.regions import Region
    from schema.risk import RiskAssessment
    from schema.security import RequestSecurity


class EventSource(Protocol):
    """Where subscriptions hear of changes (``hub.bus``): JSON messages per channel."""

    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]: ...


class MatterRowLoaders(Protocol):
    """What matters hold, batched per operation (``resolvers.matter_loaders``)."""

    @property
    def clocks(self) -> DataLoader[int, list[ClockRow]]: ...

    @property
    def events(self) -> DataLoader[int, list[MatterEvent]]: ...

    @property
    def supervisions(self) -> DataLoader[int, list[Supervision]]: ...

    @property
    def record_ids(self) -> DataLoader[int, list[int]]: ...

    @property
    def parties(self) -> DataLoader[int, list[SealedParty]]: ...

    @property
    def writebacks(self) -> DataLoader[str, list[OutboxMessage]]: ...


class TypeLoaders(Protocol):
    """The per-operation DataLoaders the types read through (``resolvers.dataloaders``)."""

    @property
    def record(self) -> DataLoader[int, Record | None]: ...

    @property
    def region(self) -> DataLoader[str, Region | None]: ...

    @property
    def region_children(self) -> DataLoader[str, list[Region]]: ...

    @property
    def parties(self) -> DataLoader[int, list[Party]]: ...

    @property
    def person(self) -> DataLoader[int, Person | None]: ...

    @property
    def links(self) -> DataLoader[int, list[LinkedRecord]]: ...

    @property
    def record_risk(self) -> DataLoader[int, RiskAssessment | None]: ...

    @property
    def person_risk(self) -> DataLoader[int, RiskAssessment | None]: ...

    @property
    def matter_risk(self) -> DataLoader[int, RiskAssessment | None]: ...

    @property
    def matters(self) -> MatterRowLoaders: ...


class TypeServices(Protocol):
    """What the types ask of the resolvers layer (``resolvers.services``)."""

    def open_sealed(self, sealed: str) -> str:
        """The plaintext of a sealed identifier (ID number or phone), for masking."""
        ...

    def person_records(
        self, info: Info, person_id: int
    ) -> list[TimelineEntry] | Awaitable[list[TimelineEntry]]:
        """A person's records the principal may read, by occurrence: the list itself when
        the operation loaded it already, else an awaitable of it."""
        ...


class DevTokenMinter(Protocol):
    """Mints development tokens (``hub.auth.DevTokens``): present in ``dev`` only."""

    def mint(self, role: str, regions: list[str], scopes: list[str]) -> tuple[str, datetime]:
        """A signed token and when it expires; ``ValueError`` for a role, region or scope
        the hub does not know."""
        ...


class DeadLetterReplayer(Protocol):
    """Replays a dead letter through its source's current mapping (``hub.deadletters``):
    present when the hub has a sources file."""

    async def replay(
        self, sessions: async_sessionmaker[AsyncSession], source: SourceSystem, letter_id: int
    ) -> bool:
        """Whether the letter was parsed and ingested this time."""
        ...


class GraphQLContext(Protocol):
    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def loaders(self) -> TypeLoaders: ...

    @property
    def services(self) -> TypeServices: ...

    @property
    def security(self) -> RequestSecurity: ...

    @property
    def bus(self) -> EventSource | None: ...

    @property
    def dev_tokens(self) -> DevTokenMinter | None: ...

    @property
    def dead_letters(self) -> DeadLetterReplayer | None: ...

    @property
    def workflow(self) -> MatterWorkflow | None:
        """The closed loop's service (``db.matter_workflow``), while the server runs."""
        ...

    def start_operation(self) -> None: ...


Info: TypeAlias = strawberry.Info[GraphQLContext, None]
