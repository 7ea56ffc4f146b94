"""Statements run by the asyncpg driver itself (``db.driver_select``, ``SerialConnection.
driver_fetch``): the same rows as through SQLAlchemy, and a lost session never reused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import (
    Integer,
    TypeDecorator,
    bindparam,
    case,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from db.driver_select import driver_select
from db.models.base import UtcDateTime
from db.queries import RECORDS, AnySelect
from domain.enums import RecordKind
from resolvers.reads import operation_reads

KIND = RECORDS.c.kind.type


class _Tenfold(TypeDecorator[int]):
    """A parameter the type changes on its way to the database."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: object) -> int | None:
        return None if value is None else value * 10


def _statement() -> AnySelect:
    """Every kind of parameter and conversion the built pages use: a value the call gives
    (an integer, an enum), values written into the SQL (an IN list of enums, a LIMIT), a
    column read through a type's conversion (UtcDateTime, an enum)."""
    numbers = select(func.generate_series(1, 60).label("n")).subquery()
    third = numbers.c.n % literal_column("3")
    kind = type_coerce(
        case(
            (third == literal_column("0"), literal_column("'DISPUTE'")),
            (third == literal_column("1"), literal_column("'PETITION'")),
            else_=literal_column("'GRID_EVENT'"),
        ),
        KIND,
    )
    return (
        select(
            numbers.c.n,
            type_coerce(func.to_timestamp(numbers.c.n * 86_400), UtcDateTime()).label("at"),
            kind.label("kind"),
        )
        .where(
            numbers.c.n > bindparam("least", type_=_Tenfold()),
            kind.in_([RecordKind.DISPUTE, RecordKind.PETITION]),
            kind != bindparam("not_kind", type_=KIND),
        )
        .order_by(numbers.c.n)
        .limit(bindparam("size", 4, type_=Integer(), literal_execute=True))
    )


STATEMENT = _statement()
PARAMS = {"least": 3, "not_kind": RecordKind.PETITION}  # n > 30, kinds DISPUTE


def _plain(rows: Any) -> list[dict[str, Any]]:
    return [{key: row[key] for key in ("n", "at", "kind")} for row in rows]


async def test_the_driver_reads_what_sqlalchemy_reads(engine: AsyncEngine) -> None:
    async with operation_reads(engine) as reads:
        serial = await reads.connection()
        if engine.dialect.name != "postgresql":
            assert await serial.driver_fetch(STATEMENT, PARAMS) is None  # SQLAlchemy reads
            return
        first = await serial.driver_fetch(_statement(), PARAMS)
        driven = await serial.driver_fetch(STATEMENT, PARAMS)
        driven = driven or await serial.driver_fetch(STATEMENT, PARAMS)
        through = (await serial.execute(STATEMENT, PARAMS)).mappings().all()
        # a call giving a value the statement writes in goes through SQLAlchemy
        assert await serial.driver_fetch(STATEMENT, {**PARAMS, "size": 2}) is None
    assert first is None  # a statement seen once is left to SQLAlchemy's compiled cache
    assert [row["n"] for row in through] == [33, 36, 39, 42]  # the parameter ten times over
    assert through[0]["at"].tzinfo is not None and isinstance(through[0]["kind"], RecordKind)
    assert driven is not None
    assert _plain(driven) == _plain(through)
    assert [type(row["kind"]) for row in driven] == [RecordKind] * 4
    assert [row["at"].utcoffset() for row in driven] == [row["at"].utcoffset() for row in through]


def test_what_the_driver_does_not_run() -> None:
    driver_select(STATEMENT, _asyncpg())
    form = driver_select(STATEMENT, _asyncpg())
    assert form is not None and "LIMIT 4" in form.sql and "IN (" in form.sql
    assert "size" in form.fixed and len(form.fixed) == 2  # the LIMIT and the IN list
    assert form.takes(PARAMS) and not form.takes({"size": 2})
    assert form.required == {"least", "not_kind"} and not form.takes({"least": 3})
    assert driver_select(STATEMENT, sqlite.dialect()) is None
    # a list given by the call, a value given by a function: written at each execution
    ids = select(RECORDS.c.id).where(RECORDS.c.id.in_(bindparam("ids", expanding=True)))
    later = select(RECORDS.c.id).where(RECORDS.c.id == bindparam("id", callable_=lambda: 1))
    twice = select(RECORDS.c.id, RECORDS.c.kind.label("id"))  # two columns by one name
    for statement in (ids, later, twice):
        assert [driver_select(statement, _asyncpg()) for _ in range(2)] == [None, None]


def _asyncpg() -> Any:
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    return dialect()


@pytest.mark.postgres
async def test_a_lost_session_is_not_used_again(fresh_postgres: AsyncEngine) -> None:
    # given two sessions in the pool, and the statement seen before
    async with fresh_postgres.connect() as one, fresh_postgres.connect() as two:
        pooled = {
            (await one.execute(text("SELECT pg_backend_pid()"))).scalar_one(),
            (await two.execute(text("SELECT pg_backend_pid()"))).scalar_one(),
        }
    driver_select(STATEMENT, fresh_postgres.dialect)
    async with operation_reads(fresh_postgres) as reads:
        serial = await reads.connection()
        pid = (await serial.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # when the server ends the operation's session under a driver read
        async with fresh_postgres.connect() as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(Exception) as lost:
            await serial.driver_fetch(STATEMENT, PARAMS)
        # (57P01 when the server's notice is read first, 08003 when the closed socket is)
        state = getattr(lost.value, "sqlstate", None)
        assert state is None or state[:2] in ("08", "57")
        # then that session is not used again, and the operation's next read runs afresh
        assert serial.sync_connection is not None and serial.sync_connection.invalidated
        assert (await serial.execute(text("SELECT 1"))).scalar_one() == 1
    # and no session opened before the loss is handed out again
    async with fresh_postgres.connect() as one, fresh_postgres.connect() as two:
        later = {
            (await one.execute(text("SELECT pg_backend_pid()"))).scalar_one(),
            (await two.execute(text("SELECT pg_backend_pid()"))).scalar_one(),
        }
    assert pid in pooled and not later & pooled
    async with operation_reads(fresh_postgres) as reads:
        rows = await (await reads.connection()).driver_fetch(STATEMENT, PARAMS)
    assert rows is not None and len(rows) == 4


@pytest.mark.postgres
async def test_a_refused_statement_leaves_the_session_in_use(fresh_postgres: AsyncEngine) -> None:
    numbers = select(func.generate_series(0, 2).label("n")).subquery()
    failing = select((literal_column("1") / numbers.c.n).label("q"))
    driver_select(failing, fresh_postgres.dialect)
    driver_select(STATEMENT, fresh_postgres.dialect)
    async with operation_reads(fresh_postgres) as reads:
        serial = await reads.connection()
        with pytest.raises(Exception) as refused:
            await serial.driver_fetch(failing)
        assert getattr(refused.value, "sqlstate", None) == "22012"  # division by zero
        assert serial.sync_connection is not None and not serial.sync_connection.invalidated
        rows = await serial.driver_fetch(STATEMENT, PARAMS)
    assert rows is not None and len(rows) == 4
