"""The two ways resolvers read rows; the schema types map rows onto themselves (行映射)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from db.queries import REGION_LABEL, AnySelect
from domain.kinds import KIND_OF_TYPE_NAME
from resolvers.reads import SerialConnection, engine_of, read_session, shared_or_own
from schema.ids import global_id
from schema.kinds import TYPE_OF_KIND, record_from_row
from schema.persons import party_from_row, person_from_row
from schema.regions import Region, region_from_row

__all__ = [  # re-exported for the resolvers: one import for reading and mapping rows
    "KIND_OF_TYPE_NAME",
    "TYPE_OF_KIND",
    "connect",
    "fetch_all",
    "fetch_built",
    "fetch_count",
    "global_id",
    "party_from_row",
    "person_from_row",
    "read_session",
    "record_from_row",
    "region_from_row",
    "regions_beside",
]


def regions_beside(rows: Sequence[RowMapping]) -> dict[str, Region | None]:
    """The regions read beside records (``db.queries`` ``with_regions``: columns
    ``region__…``) by code; a code that names no region maps to ``None``, as the region
    loader answers it."""
    label = REGION_LABEL
    found: dict[str, Region | None] = {}
    for row in rows:
        code = row["region_code"]
        if code is not None and code not in found:
            found[code] = (
                None
                if row[label + "code"] is None
                else Region(
                    code=row[label + "code"],
                    name=row[label + "name"],
                    level=row[label + "level"],
                    population=row[label + "population"],
                    parent_code=row[label + "parent_code"],
                )
            )
    return found


def connect(
    sessions: async_sessionmaker[AsyncSession],
) -> AbstractAsyncContextManager[AsyncConnection]:
    """The operation's read connection (``resolvers.reads``), or outside a query operation a
    bare connection from the sessions' engine, for one resolver's statements in turn."""
    return shared_or_own(engine_of(sessions))


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


class NamedRow(Protocol):
    """A row read by column name: SQLAlchemy's ``RowMapping`` or the driver's record."""

    def __getitem__(self, key: str, /) -> Any: ...


async def fetch_built(
    sessions: async_sessionmaker[AsyncSession],
    statement: AnySelect,
    params: Mapping[str, Any] | None = None,
) -> Sequence[NamedRow]:
    """Run one of the statements made once and kept (``db.page_json``): inside a query
    operation on PostgreSQL by the driver itself (``SerialConnection.driver_fetch``), the
    rows read by column name; else as :func:`fetch_all`."""
    async with connect(sessions) as connection:
        if isinstance(connection, SerialConnection):
            rows = await connection.driver_fetch(statement, params)
            if rows is not None:
                return rows
        return await fetch_all(sessions, statement, connection, params)


async def fetch_count(sessions: async_sessionmaker[AsyncSession], statement: Any) -> int:
    async with connect(sessions) as connection:
        return int((await connection.execute(statement)).scalar_one())
