"""Per-request DataLoaders (批量加载): one statement per relation per tick, whatever the page.

Each loader opens its own short session: graphql-core resolves sibling fields concurrently,
so no session is shared between resolvers. The cache lives one request.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db import people_queries, queries, timeline
from db.figures import FigureRequest, figures_many
from db.matter_workflow import MatterWorkflow
from db.risk import assessments_of, refs_in_scope
from db.stats import Group
from domain.risk import TargetKind
from domain.risk.redaction import cited_refs, redact_rules
from domain.roles import Principal
from domain.scope import RecordScope
from resolvers.matter_loaders import MatterLoaders
from resolvers.rows import (
    connect,
    fetch_all,
    party_from_row,
    person_from_row,
    record_from_row,
    region_from_row,
    regions_beside,
)
from resolvers.weak_batch import weak_batch
from schema.enums import LinkDirection
from schema.persons import Party, Person
from schema.records import LinkedRecord, Record
from schema.regions import Region
from schema.risk import RiskAssessment, risk_assessment_from_row
from schema.security import RequestSecurity

if TYPE_CHECKING:
    from strawberry.scalars import JSON

    from schema.context import DevTokenMinter, EventSource, TypeServices


def _person(row: RowMapping) -> Person:
    """The person beside a party in a :func:`db.people_queries.parties_with_persons` row."""
    return person_from_row(row, people_queries.PERSON_LABEL)


class Loaders:
    """The loaders of one request, keyed by record id, region code or person id.

    Records, persons and links are read within ``scope`` (the principal's kinds and
    jurisdiction), in SQL: what lies outside loads as ``None`` or is left out.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], scope: RecordScope) -> None:
        self._sessions = sessions
        self._scope = scope

    # Each loader is made when an operation first uses it: an operation reads through two or
    # three of these, and a DataLoader apiece for every operation cost more than its reads.
    @functools.cached_property
    def record(self) -> DataLoader[int, Record | None]:
        return DataLoader(weak_batch(self, Loaders._records))

    @functools.cached_property
    def region(self) -> DataLoader[str, Region | None]:
        return DataLoader(weak_batch(self, Loaders._regions))

    @functools.cached_property
    def region_children(self) -> DataLoader[str, list[Region]]:
        return DataLoader(weak_batch(self, Loaders._region_children))

    @functools.cached_property
    def parties(self) -> DataLoader[int, list[Party]]:
        return DataLoader(weak_batch(self, Loaders._parties))

    @functools.cached_property
    def person(self) -> DataLoader[int, Person | None]:
        return DataLoader(weak_batch(self, Loaders._persons))

    @functools.cached_property
    def links(self) -> DataLoader[int, list[LinkedRecord]]:
        return DataLoader(weak_batch(self, Loaders._links))

    @functools.cached_property
    def timelines(self) -> DataLoader[int, list[timeline.TimelineEntry] | None]:
        """A person's records (人员时间线), every person of the operation in three statements;
        None for a person that does not exist."""
        return DataLoader(weak_batch(self, Loaders._timelines))

    @functools.cached_property
    def record_risk(self) -> DataLoader[int, RiskAssessment | None]:
        return DataLoader(weak_batch(self, Loaders._record_risk))

    @functools.cached_property
    def person_risk(self) -> DataLoader[int, RiskAssessment | None]:
        return DataLoader(weak_batch(self, Loaders._person_risk))

    @functools.cached_property
    def matter_risk(self) -> DataLoader[int, RiskAssessment | None]:
        return DataLoader(weak_batch(self, Loaders._matter_risk))

    @functools.cached_property
    def figures(self) -> DataLoader[FigureRequest, list[Group]]:
        """Figures asked for by one operation's fields, counted together (one scan on
        PostgreSQL); keys are (query, top)."""
        return DataLoader(weak_batch(self, Loaders._figures))

    @functools.cached_property
    def matters(self) -> MatterLoaders:
        return MatterLoaders(self._sessions)

    async def prefetch_page(
        self,
        records: Sequence[Record],
        connection: AsyncConnection,
        *,
        regions: bool,
        parties: bool,
        persons: bool,
        timelines: bool = False,
        timeline_kind_columns: bool = True,
    ) -> None:
        """Load a page's regions, and its parties with their persons, up front.

        What the loaders would batch when the fields resolve, read now on the caller's
        ``connection`` (the page's own, no further checkout), parties and persons in one
        statement (``people_queries.parties_with_persons``, the same visibility rule as
        ``persons_by_id``), and with ``timelines`` those persons' records (three statements
        for all of them): the fields then find their values loaded
        (``schema.loading.loaded_or_load``) and complete without awaiting. Only what the
        client selected is loaded; anything missed still loads lazily. Without
        ``timeline_kind_columns`` the timelines' records are read without their kind tables
        (entries not ``full``: a timeline field that reads a kind's own field reloads them).
        """
        if regions:
            codes = sorted({r.region_code for r in records if r.region_code is not None})
            codes = [code for code in codes if self.region.cache_map.get(code) is None]
            if codes:
                found_regions = await self._regions(codes, connection)
                self.region.prime_many(dict(zip(codes, found_regions, strict=True)))
        if not parties:
            return
        ids = [r.record_id for r in records if self.parties.cache_map.get(r.record_id) is None]
        if not ids:
            return
        if not persons:
            lists = await self._parties(ids, connection)
            self.parties.prime_many(dict(zip(ids, lists, strict=True)))
            return
        rows = await fetch_all(
            self._sessions,
            people_queries.parties_with_persons(self._scope),
            connection,
            {people_queries.RECORD_IDS: ids},
        )
        by_record: defaultdict[int, list[Party]] = defaultdict(list)
        found: dict[int, Person | None] = {}
        for row in rows:
            by_record[row["record_id"]].append(party_from_row(row))
            person_id = row["person_id"]
            if person_id is not None and person_id not in found:
                found[person_id] = (
                    None if row[f"{people_queries.PERSON_LABEL}id"] is None else _person(row)
                )
        self.parties.prime_many({record_id: by_record[record_id] for record_id in ids})
        self.person.prime_many(found)
        if timelines:  # the persons' own records (人员时间线), all in three statements
            person_ids = [
                person_id
                for person_id, person in found.items()
                if person is not None and self.timelines.cache_map.get(person_id) is None
            ]
            if person_ids:
                read = await self._timelines(
                    person_ids, connection, kind_columns=timeline_kind_columns
                )
                self.timelines.prime_many(dict(zip(person_ids, read, strict=True)))

    async def _figures(
        self, requests: Sequence[FigureRequest]
    ) -> Sequence[list[Group] | BaseException]:
        async with connect(self._sessions) as connection:
            return await figures_many(connection, requests, self._scope)

    async def _records(self, ids: Sequence[int]) -> list[Record | None]:
        # Each record's region read beside it (a primary-key join): a record asked for by id
        # usually has its region asked for next, and it then needs no statement of its own.
        rows = await fetch_all(
            self._sessions,
            queries.records_in_scope(self._scope, with_regions=True),
            None,
            {queries.IDS: list(ids)},
        )
        self.region.prime_many(regions_beside(rows))
        found = {row["id"]: record_from_row(row) for row in rows}
        return [found.get(record_id) for record_id in ids]

    async def _regions(
        self, codes: Sequence[str], connection: AsyncConnection | None = None
    ) -> list[Region | None]:
        rows = await fetch_all(
            self._sessions, queries.regions_in(), connection, {queries.IDS: list(codes)}
        )
        found = {row["code"]: region_from_row(row) for row in rows}
        return [found.get(code) for code in codes]

    async def _region_children(self, codes: Sequence[str]) -> list[list[Region]]:
        rows = await fetch_all(self._sessions, queries.region_children(codes))
        children: defaultdict[str, list[Region]] = defaultdict(list)
        for row in rows:
            children[row["parent_code"]].append(region_from_row(row))
        return [children[code] for code in codes]

    async def _parties(
        self, record_ids: Sequence[int], connection: AsyncConnection | None = None
    ) -> list[list[Party]]:
        rows = await fetch_all(
            self._sessions,
            people_queries.parties_of_records(),
            connection,
            {people_queries.RECORD_IDS: list(record_ids)},
        )
        parties: defaultdict[int, list[Party]] = defaultdict(list)
        for row in rows:
            parties[row["record_id"]].append(party_from_row(row))
        return [parties[record_id] for record_id in record_ids]

    async def _persons(
        self, ids: Sequence[int], connection: AsyncConnection | None = None
    ) -> list[Person | None]:
        rows = await fetch_all(
            self._sessions, people_queries.persons_by_id(ids, self._scope), connection
        )
        found = {row["id"]: person_from_row(row) for row in rows}
        return [found.get(person_id) for person_id in ids]

    async def _timelines(
        self,
        person_ids: Sequence[int],
        connection: AsyncConnection | None = None,
        *,
        kind_columns: bool = True,
    ) -> list[list[timeline.TimelineEntry] | None]:
        scope = self._scope
        if connection is None:
            async with connect(self._sessions) as own:
                return await self._timelines(person_ids, own)
        found = await timeline.person_timelines(
            connection,
            person_ids,
            region_prefixes=scope.region_prefixes,
            kinds=scope.kinds,
            unplaced=scope.unplaced,
            kind_columns=kind_columns,
        )
        return [found.get(person_id) for person_id in person_ids]

    async def _risk(self, target: TargetKind, ids: Sequence[int]) -> list[RiskAssessment | None]:
        # The records, persons and matters asked about were read within the scope already.
        found = await scoped_risk(self._sessions, target, ids, self._scope)
        return [found.get(target_id) for target_id in ids]

    async def _record_risk(self, record_ids: Sequence[int]) -> list[RiskAssessment | None]:
        return await self._risk(TargetKind.RECORD, record_ids)

    async def _person_risk(self, person_ids: Sequence[int]) -> list[RiskAssessment | None]:
        return await self._risk(TargetKind.PERSON, person_ids)

    async def _matter_risk(self, matter_ids: Sequence[int]) -> list[RiskAssessment | None]:
        return await self._risk(TargetKind.MATTER, matter_ids)

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


def _services() -> TypeServices:
    # Imported when a context is made: the services reach the resolvers that load through
    # this module.
    from resolvers.services import SERVICES

    return SERVICES


@dataclass
class LoaderContext:
    """A context for running the schema in-process (tests, benchmarks, jobs) as ``principal``."""

    sessions: async_sessionmaker[AsyncSession]
    principal: Principal
    purpose: str | None = None
    security: RequestSecurity = field(init=False)
    loaders: Loaders = field(init=False)
    bus: EventSource | None = None
    workflow: MatterWorkflow | None = None
    services: TypeServices = field(default_factory=_services)
    dev_tokens: DevTokenMinter | None = None  # minted over HTTP in dev only

    def __post_init__(self) -> None:
        self.security = RequestSecurity(self.principal, purpose=self.purpose)
        self.loaders = Loaders(self.sessions, self.security.scope)

    def start_operation(self) -> None:
        """As :meth:`hub.context.Context.start_operation`: fresh state for each operation."""
        self.security.start_operation()
        self.loaders = Loaders(self.sessions, self.security.scope)


async def scoped_risk(
    sessions: async_sessionmaker[AsyncSession],
    target: TargetKind,
    ids: Sequence[int],
    scope: RecordScope,
) -> dict[int, RiskAssessment]:
    """The stored grades of ``ids`` as ``scope`` may see them.

    Evidence may cite records outside the scope (a person's records elsewhere, another
    system's alerts at one address): those are named as outside and their text dropped
    (``domain.risk.redaction``). The grade itself is shown.
    """
    rows = await fetch_all(sessions, assessments_of(target, ids))
    refs = cited_refs(rule for row in rows for rule in row["rules"] or [])
    visible: set[str] = set()
    if refs:
        seen = await fetch_all(sessions, refs_in_scope(refs, scope))
        visible = {f"{row['source']}/{row['source_key']}" for row in seen}
    return {
        row["target_id"]: risk_assessment_from_row(
            row, redact_rules(row["rules"] or [], visible.__contains__)
        )
        for row in rows
    }
