"""A select compiled once and run by the asyncpg driver itself (驱动直接执行的查询).

The statements that build a page's JSON in PostgreSQL (``db.page_json``) are made once and
kept, and much of a request's own CPU around them went to SQLAlchemy's execution layer:
hashing the statement's cache key for the compiled cache (a page's statement is a deep
tree), the greenlet that carries each call into the synchronous engine, and the cursor and
result wrappers. None of that changes what comes out.

:func:`driver_select` compiles such a statement once for the dialect: its SQL, its
parameters in order with their types' bind conversions, and the result columns whose types
convert what they read (``UtcDateTime``). The caller hands the SQL and arguments to the
driver connection (asyncpg keeps a prepared statement per connection), and
:meth:`DriverSelect.converted` converts those columns as SQLAlchemy would. Values the
statement carries and SQLAlchemy writes into the SQL at execution (a page's ``LIMIT``, a
scope's kinds ``IN``) are written in once (``SQLCompiler.construct_expanded_state``, as for
an execution): the statement object is made for them, and a call that gives them other
values goes through SQLAlchemy.

``None`` means: run it through SQLAlchemy. So it is for another driver; a parameter given by
a function, or written into the SQL from the call's values; a result column without a name
of its own; and a statement object seen for the first time: one made for a single request (a
page after a cursor) would be compiled afresh at each, where SQLAlchemy's compiled cache
knows it by its shape.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

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


_SEEN: weakref.WeakSet[Any] = weakref.WeakSet()


def driver_select(statement: AnySelect, dialect: Dialect) -> DriverSelect | None:
    """``statement`` compiled for ``dialect``'s asyncpg driver; ``None`` when it must go
    through SQLAlchemy (see the module's doc). Kept per statement object, and only for one
    seen a second time: a statement made for one request (a page after a cursor) is left to
    SQLAlchemy, whose compiled cache serves it by its shape."""
    if dialect.driver != "asyncpg":
        return None
    if statement not in _SEEN:
        _SEEN.add(statement)
        return None
    return _compiled(statement, dialect)


@functools.lru_cache(maxsize=256)
def _compiled(statement: AnySelect, dialect: Dialect) -> DriverSelect | None:
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
        bind = by_name.get(name)
        if bind is None:  # one of a written parameter's values, converted as it was expanded
            arguments.append((None, expanded.parameters[name], expanded.processors.get(name)))
        else:
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            arguments.append((bind.key, bind.value, convert))
    conversions = _conversions(statement, dialect)
    if conversions is None:
        return None
    fixed = frozenset(bind.key for bind in written)
    required = frozenset(bind.key for bind in binds if bind.required)
    return DriverSelect(
        expanded.statement, tuple(arguments), tuple(conversions), fixed, required
    )


def _conversions(
    statement: AnySelect, dialect: Dialect
) -> list[tuple[str, Callable[[Any], Any]]] | None:
    """The result columns' conversions by name; ``None`` when a column's name is not the one
    the driver's record will carry (repeated, or longer than the server keeps) or its type
    cannot say how it converts without the driver's type code (SQLAlchemy asks the cursor)."""
    longest = dialect.max_identifier_length or 63
    named: dict[str, Any] = {}
    for column in statement.selected_columns:
        name = getattr(column, "name", None)
        if not isinstance(name, str) or "%(" in name or len(name) > longest or name in named:
            return None  # unnamed (SQLAlchemy names it when it writes the SQL), cut, or twice
        named[name] = column
    conversions: list[tuple[str, Callable[[Any], Any]]] = []
    for name, column in named.items():
        try:
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
        except (TypeError, NotImplementedError):
            return None
        if convert is not None:
            conversions.append((name, convert))
    return conversions


class FetchingConnection(Protocol):
    """The asyncpg connection a :class:`DriverSelect` runs on."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...

    def is_closed(self) -> bool: ...


AfterError = Literal["refused", "unsure", "lost"]
"""What a failed statement leaves: the server ``refused`` it and the session is sound; the
session is ``unsure`` (a cancelled call, an error on the client's side) and must not be used
again; or the server is ``lost`` (gone, ended or restarting): no session opened before it may
be used again either."""


def after_error(connection: FetchingConnection, error: BaseException) -> AfterError:
    """What ``error``, raised by a statement on ``connection``, leaves (:data:`AfterError`)."""
    state = getattr(error, "sqlstate", None)
    if connection.is_closed() or (isinstance(state, str) and state[:2] in ("08", "57")):
        return "lost"  # class 08 connection exception, 57 operator intervention (57P01 …)
    if isinstance(error, OSError):
        return "lost"
    return "refused" if state is not None else "unsure"
