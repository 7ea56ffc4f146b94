"""Per-request DataLoaders (批量加载): one statement per relation per tick, whatever the page.

Each loader opens its own short session: graphql-core resolves sibling fields concurrently,
so no session is shared between resolvers. The cache lives one request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db import queries
from db.queries import RecordScope
from domain.roles import Principal
from resolvers.rows import (
    fetch_all,
    party_from_row,
    person_from_row,
    record_from_row,
    region_from_row,
)
from schema.enums import LinkDirection
from schema.persons import Party, Person
from schema.records import LinkedRecord, Record
from schema.regions import Region
from schema.security import RequestSecurity

if TYPE_CHECKING:
    from strawberry.scalars import JSON


class Loaders:
    """The loaders of one request, keyed by record id, region code or person id.

    Records, persons and links are read within ``scope`` (the principal's kinds and
    jurisdiction), in SQL: what lies outside loads as ``None`` or is left out.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], scope: RecordScope) -> None:
        self._sessions = sessions
        self._scope = scope
        self.record: DataLoader[int, Record | None] = DataLoader(self._records)
        self.region: DataLoader[str, Region | None] = DataLoader(self._regions)
        self.region_children: DataLoader[str, list[Region]] = DataLoader(self._region_children)
        self.parties: DataLoader[int, list[Party]] = DataLoader(self._parties)
        self.person: DataLoader[int, Person | None] = DataLoader(self._persons)
        self.links: DataLoader[int, list[LinkedRecord]] = DataLoader(self._links)

    async def _records(self, ids: Sequence[int]) -> list[Record | None]:
        rows = await fetch_all(self._sessions, queries.records_by_id(ids, self._scope))
        found = {row["id"]: record_from_row(row) for row in rows}
        return [found.get(record_id) for record_id in ids]

    async def _regions(self, codes: Sequence[str]) -> list[Region | None]:
        rows = await fetch_all(self._sessions, queries.regions_by_code(codes))
        found = {row["code"]: region_from_row(row) for row in rows}
        return [found.get(code) for code in codes]

    async def _region_children(self, codes: Sequence[str]) -> list[list[Region]]:
        rows = await fetch_all(self._sessions, queries.region_children(codes))
        children: defaultdict[str, list[Region]] = defaultdict(list)
        for row in rows:
            children[row["parent_code"]].append(region_from_row(row))
        return [children[code] for code in codes]

    async def _parties(self, record_ids: Sequence[int]) -> list[list[Party]]:
        rows = await fetch_all(self._sessions, queries.parties_of_records(record_ids))
        parties: defaultdict[int, list[Party]] = defaultdict(list)
        for row in rows:
            parties[row["record_id"]].append(party_from_row(row))
        return [parties[record_id] for record_id in record_ids]

    async def _persons(self, ids: Sequence[int]) -> list[Person | None]:
        rows = await fetch_all(self._sessions, queries.persons_by_id(ids, self._scope))
        found = {row["id"]: person_from_row(row) for row in rows}
        return [found.get(person_id) for person_id in ids]

    async def _links(self, record_ids: Sequence[int]) -> list[list[LinkedRecord]]:
        rows = await fetch_all(self._sessions, queries.links_of_records(record_ids, self._scope))
        wanted = set(record_ids)
        links: defaultdict[int, list[LinkedRecord]] = defaultdict(list)
        for row in rows:
            ends = (
                (row["from_record_id"], row["to_record_id"], LinkDirection.OUTGOING),
                (row["to_record_id"], row["from_record_id"], LinkDirection.INCOMING),
            )
            for this, other, direction in ends:
                if this in wanted:
                    links[this].append(
                        LinkedRecord(
                            direction=direction,
                            link_kind=row["link_kind"],
                            confidence=row["confidence"],
                            evidence=cast("JSON", row["evidence"] or []),
                            decision=row["decision"],
                            other_record_id=other,
                        )
                    )
        return [links[record_id] for record_id in record_ids]


@dataclass
class LoaderContext:
    """A context for running the schema in-process (tests, benchmarks, jobs) as ``principal``."""

    sessions: async_sessionmaker[AsyncSession]
    principal: Principal
    purpose: str | None = None
    security: RequestSecurity = field(init=False)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.security = RequestSecurity(self.principal, purpose=self.purpose)
        self.loaders = Loaders(self.sessions, self.security.scope)
