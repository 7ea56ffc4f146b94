"""Database rows to schema objects (行映射), and the two ways resolvers read rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import strawberry
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from strawberry.relay.utils import to_base64

from db.queries import KIND_COLUMNS, RECORD_COLUMNS, AnySelect, kind_label
from domain.enums import RecordKind
from schema.kinds import CourtFiling, Dispute, GridEvent, Petition, PoliceAlert
from schema.persons import Party, Person
from schema.records import Record
from schema.regions import Region

TYPE_OF_KIND: dict[RecordKind, type[Record]] = {
    RecordKind.DISPUTE: Dispute,
    RecordKind.GRID_EVENT: GridEvent,
    RecordKind.POLICE_ALERT: PoliceAlert,
    RecordKind.PETITION: Petition,
    RecordKind.COURT_FILING: CourtFiling,
}
KIND_OF_TYPE_NAME: dict[str, RecordKind] = {t.__name__: k for k, t in TYPE_OF_KIND.items()}

_SHARED = tuple(("record_id" if name == "id" else name, name) for name in RECORD_COLUMNS)
# (attribute, label) pairs per kind: the shared columns, then the kind table's own.
_FIELDS: dict[RecordKind, tuple[tuple[str, str], ...]] = {
    kind: _SHARED + tuple((name, kind_label(kind, name)) for name in columns)
    for kind, columns in KIND_COLUMNS.items()
}


def _engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the session factory is not bound to an AsyncEngine")
    return bind


def connect(sessions: async_sessionmaker[AsyncSession]) -> AsyncConnection:
    """A bare connection from the sessions' engine, for one resolver's statements in turn."""
    return _engine(sessions).connect()


async def fetch_all(
    sessions: async_sessionmaker[AsyncSession],
    statement: AnySelect,
    connection: AsyncConnection | None = None,
    params: Mapping[str, Any] | None = None,
) -> Sequence[RowMapping]:
    """Run one select (with ``params`` for its bound parameters) on a short connection of its
    own (never one shared across resolvers), or on ``connection``, which the caller holds
    and uses one statement at a time.

    Reads are Core selects, so a bare connection from the sessions' engine does: it skips
    the ORM session's unit-of-work set-up, which cost more than the query on small pages.
    """
    if connection is not None:
        return (await connection.execute(statement, params)).mappings().all()
    async with connect(sessions) as own:
        return (await own.execute(statement, params)).mappings().all()


async def fetch_count(sessions: async_sessionmaker[AsyncSession], statement: Any) -> int:
    async with _engine(sessions).connect() as connection:
        return int((await connection.execute(statement)).scalar_one())


def global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(to_base64(type_name, pk))


def record_from_row(row: RowMapping) -> Record:
    kind: RecordKind = row["kind"]
    node_type = TYPE_OF_KIND[kind]
    return node_type(
        id=global_id(node_type.__name__, row["id"]),
        **{attribute: row[label] for attribute, label in _FIELDS[kind]},
    )


def region_from_row(row: RowMapping) -> Region:
    return Region(
        code=row["code"],
        name=row["name"],
        level=row["level"],
        population=row["population"],
        parent_code=row["parent_code"],
    )


def party_from_row(row: RowMapping) -> Party:
    return Party(
        role=row["role"],
        source_role=row["source_role"],
        name=row["name"],
        is_organisation=row["is_organisation"],
        person_id=row["person_id"],
        sealed_id_number=row["sealed_id_number"],
        sealed_phone=row["sealed_phone"],
    )


def person_from_row(row: RowMapping) -> Person:
    return Person(
        id=global_id("Person", row["id"]),
        person_id=row["id"],
        name=row["name"],
        region_code=row["region_code"],
        sealed_id_number=row["sealed_id_number"],
        sealed_phone=row["sealed_phone"],
    )
