"""A select compiled once and run by the asyncpg driver itself (驱动直接执行的查询).

The statements that build a page's JSON in PostgreSQL (``db.page_json``) are made once and
kept, and much of a request's own CPU around them went to SQLAlchemy's execution layer:
hashing the statement's cache key for the compiled cache (a page's statement is a deep
tree), the greenlet that carries each call into the synchronous engine, and the cursor and
result wrappers. None of that changes what comes out. :func:`driver_select` compiles such a
statement once for the dialect: its SQL, its parameters in order with their types' bind
conversions, and the result columns whose types convert what they read (``UtcDateTime``).
The caller hands the SQL and arguments to the driver connection (asyncpg keeps a prepared
statement per connection), and :meth:`DriverSelect.converted` converts those columns as
SQLAlchemy would. Anything else
(another driver, a parameter given by a function, or written into the SQL from the call's
values) answers ``None``: run it through SQLAlchemy. Values the statement carries and
SQLAlchemy writes into the SQL at execution (a page's ``LIMIT``, a scope's kinds ``IN``) are
written in once: the statement object is made for them, and a call that gives them other
values goes through SQLAlchemy (``SQLCompiler.construct_expanded_state`` writes them, as it
does for an execution).
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
    binds: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]
    """Each positional parameter in order: the name a call gives it by (``None`` for one of
    the values of a parameter written in), its value in the statement (used when the call
    gives none) and the type's conversion for the driver, if any."""

    conversions: tuple[tuple[str, Callable[[Any], Any]], ...]
    """The result columns whose values the column's type converts (by name), as SQLAlchemy
    would on reading them."""

    fixed: frozenset[str]
    """The parameters written into :attr:`sql` with the statement's own values."""

    required: frozenset[str]
    """The parameters without a value of their own: each call must give them."""

    def takes(self, params: Mapping[str, Any] | None) -> bool:
        """Whether a call with ``params`` may run on the driver: it leaves :attr:`fixed`
        alone and gives every :attr:`required` one (else SQLAlchemy runs it, and says what
        is wrong)."""
        given = params or {}
        return self.fixed.isdisjoint(given) and self.required.issubset(given)

    def converted(self, rows: list[Any]) -> list[Any]:
        """The driver's ``rows``, read by column name: as they came, or as mappings where a
        column's type converts what it reads."""
        if not self.conversions:
            return rows
        converted: list[Any] = []
        for row in rows:
            values = dict(row.items())
            for name, convert in self.conversions:
                values[name] = convert(values[name])
            converted.append(values)
        return converted

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        given = params or {}
        arguments: list[Any] = []
        for name, default, convert in self.binds:
            value = default if name is None else given.get(name, default)
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
    if not isinstance(compiled, SQLCompiler):
        return None
    binds = list(compiled.binds.values())
    if any(bind.callable is not None for bind in binds):
        return None
    written = compiled.literal_execute_params | compiled.post_compile_params
    if any(bind.value is None for bind in written):
        return None  # written into the SQL at execution from the call's values
    # Values the statement carries and SQLAlchemy writes into the SQL at execution (a page's
    # LIMIT, a scope's kinds IN) are written in once: the statement is made for them.
    expanded = compiled.construct_expanded_state(
        {bind.key: None for bind in binds if bind.required}, escape_names=False
    )
    if expanded.positiontup is None:
        return None
    by_name = {name: bind for name, bind in compiled.binds.items() if bind not in written}
    arguments: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
    for name in expanded.positiontup:
        convert = expanded.processors.get(name)
        bind = by_name.get(name)
        if bind is None:  # one of a written parameter's values
            arguments.append((None, expanded.parameters[name], convert))
        else:
            arguments.append((bind.key, bind.value, convert))
    conversions: list[tuple[str, Callable[[Any], Any]]] = []
    for name, column in statement.selected_columns.items():
        convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if convert is not None:
            conversions.append((name, convert))
    fixed = frozenset(bind.key for bind in written)
    required = frozenset(bind.key for bind in binds if bind.required)
    return DriverSelect(
        expanded.statement, tuple(arguments), tuple(conversions), fixed, required
    )


class FetchingConnection(Protocol):
    """The asyncpg connection a :class:`DriverSelect` runs on."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...

    def is_closed(self) -> bool: ...


def session_lost(connection: FetchingConnection, error: BaseException) -> bool:
    """Whether ``error`` leaves ``connection`` unfit for another statement: anything but the
    server refusing a statement (an error with a SQLSTATE) on a session still open, such as
    a dropped or interrupted session, or one the server ended (57P01)."""
    return getattr(error, "sqlstate", None) is None or connection.is_closed()
