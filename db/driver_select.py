"""A select compiled once and run by the asyncpg driver itself (驱动直接执行的查询).

The statements that build a page's JSON in PostgreSQL (``db.page_json``) are made once and
kept, and much of a request's own CPU around them went to SQLAlchemy's execution layer:
hashing the statement's cache key for the compiled cache (a page's statement is a deep
tree), the greenlet that carries each call into the synchronous engine, and the cursor and
result wrappers. None of that changes what comes out. :func:`driver_select` compiles such a
statement once for the dialect: its SQL, its parameters in order with their types' bind
conversions, and the result columns whose types convert what they read (``UtcDateTime``).
:func:`fetch` hands the SQL and arguments to the driver connection (asyncpg keeps a prepared
statement per connection) and converts those columns as SQLAlchemy would. Anything else
(another driver, parameters expanded at execution or given by a function) answers ``None``:
run it through SQLAlchemy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from db.queries import AnySelect


@dataclass(frozen=True, slots=True)
class DriverSelect:
    """A select's SQL for the driver, and how to turn its parameters into arguments."""

    sql: str
    binds: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]
    """Each positional parameter in order: its name, its value in the statement (used when
    the call gives none) and the type's conversion for the driver, if any."""

    conversions: tuple[tuple[str, Callable[[Any], Any]], ...]
    """The result columns whose values the column's type converts (by name), as SQLAlchemy
    would on reading them."""

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        given = params or {}
        arguments: list[Any] = []
        for name, default, convert in self.binds:
            value = given.get(name, default)
            arguments.append(value if convert is None else convert(value))
        return arguments


@functools.lru_cache(maxsize=512)
def driver_select(statement: AnySelect, dialect: Dialect) -> DriverSelect | None:
    """``statement`` compiled for ``dialect``'s asyncpg driver; ``None`` when it must go
    through SQLAlchemy (see the module's doc). Kept per statement object: the statements
    this serves are made once and reused."""
    if dialect.driver != "asyncpg":
        return None
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        return None
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None  # expanded per execution (IN lists and the like)
    conversions: list[tuple[str, Callable[[Any], Any]]] = []
    for name, column in statement.selected_columns.items():
        convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if convert is not None:
            conversions.append((name, convert))
    binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.callable is not None:
            return None
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        binds.append((bind.key, bind.value, convert))
    return DriverSelect(compiled.string, tuple(binds), tuple(conversions))


class FetchingConnection(Protocol):
    """The asyncpg connection :func:`fetch` reads on."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...


async def fetch(
    connection: FetchingConnection, form: DriverSelect, params: Mapping[str, Any] | None
) -> list[Any]:
    """``form``'s rows on the driver ``connection``, read by column name: the driver's
    records, or mappings where a column's value is converted."""
    rows = await connection.fetch(form.sql, *form.arguments(params))
    if not form.conversions:
        return rows
    converted: list[Any] = []
    for row in rows:
        values = dict(row.items())
        for name, convert in form.conversions:
            values[name] = convert(values[name])
        converted.append(values)
    return converted


def refused_by_server(error: BaseException) -> bool:
    """Whether ``error`` is the server refusing a statement (it carries a SQLSTATE), after
    which the session itself is sound; anything else (a lost or interrupted session) means
    the connection must not be used again."""
    return getattr(error, "sqlstate", None) is not None
