"""``db.queries.column_rows`` on both databases: the same rows as ``session.execute``, read
past the ORM's row loading; the session's pending changes flushed first, as an ORM read
would; and on an operation's read session (one connection its resolvers share) it runs on
that session's connection instead of waiting for it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import session_factory
from db.models import Region
from db.queries import column_rows, column_scalars, in_list
from domain.enums import RegionLevel
from resolvers.reads import operation_reads, read_session

CODES = ["990101", "990102", "990103"]
BY_CODE = select(Region.code, Region.name, Region.level).where(
    in_list(Region.code.expression, "codes")
)


def _regions(prefix: str) -> list[Region]:
    return [Region(code=c, name=f"{prefix}{c}", level=RegionLevel.COUNTY) for c in CODES]


async def test_the_rows_of_session_execute_with_pending_changes_flushed(
    session: AsyncSession,
) -> None:
    # given regions added to the session, not flushed
    session.add_all(_regions("试验区"))
    # when they are read past the ORM
    rows = (await column_rows(session, BY_CODE.order_by(Region.code), {"codes": CODES})).all()
    # then they were flushed first, and the rows are those the ORM read gives, by name too
    expected = (
        await session.execute(BY_CODE.order_by(Region.code), {"codes": CODES})
    ).all()
    assert rows == expected and len(rows) == 3
    assert [(r.code, r.level) for r in rows] == [(c, RegionLevel.COUNTY) for c in CODES]
    names = await column_scalars(session, select(Region.name).where(Region.code == CODES[0]))
    assert names.all() == [f"试验区{CODES[0]}"]


async def test_it_runs_on_a_read_session_of_the_operations_connection(
    committing_engine: AsyncEngine,
) -> None:
    sessions = session_factory(committing_engine)
    async with sessions.begin() as session:
        session.add_all(_regions("读区"))
    # an operation's read session holds its connection's lock while open: the statement
    # runs on the session's connection, not through the lock it already holds
    async with operation_reads(committing_engine), read_session(sessions) as reading:
        rows = await asyncio.wait_for(column_rows(reading, BY_CODE, {"codes": CODES}), 10)
        assert sorted(r.name for r in rows) == [f"读区{c}" for c in CODES]
