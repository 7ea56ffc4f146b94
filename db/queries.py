"""Reusable selects for the read API (查询构建): filters, keyset pages and batch lookups.

Everything here is SQLAlchemy Core over the mapped tables, so a page of records is one
statement whatever its kinds (the kind tables are outer-joined), and batch lookups take a list
of keys for DataLoaders. Sealed columns are selected still sealed (``type_coerce`` to text):
callers open only what a client asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    FromClause,
    FunctionElement,
    Integer,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, ScalarResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType
from sqlalchemy.types import TypeEngine
from sqlalchemy.util.typing import TupleAny

from db.models import Link, PartyMention, Person, Record, Region
from db.models.base import UtcDateTime
from db.models.records import kind_models
from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.scope import NOTHING, RecordScope

__all__ = ["NOTHING", "RecordScope"]  # re-exported: the scope every query here takes

RECORDS: Table = Record.__table__  # type: ignore[assignment]  # declarative tables are Tables
PARTIES: Table = PartyMention.__table__  # type: ignore[assignment]
PERSONS: Table = Person.__table__  # type: ignore[assignment]
REGIONS: Table = Region.__table__  # type: ignore[assignment]
LINKS: Table = Link.__table__  # type: ignore[assignment]

KIND_TABLES: dict[RecordKind, Table] = {
    kind: model.__table__  # type: ignore[misc]  # declarative tables are Tables
    for kind, model in kind_models().items()
}

# The shared columns a client can read (``raw`` and ``content_hash`` stay inside).
RECORD_COLUMNS: tuple[str, ...] = (
    "id", "kind", "source", "source_key", "category", "source_category", "title", "summary",
    "occurred_at", "reported_at", "region_code", "address", "status", "source_status",
    "risk_level", "source_updated_at", "updated_at", "deleted",
)  # fmt: skip


def kind_label(kind: RecordKind, column: str) -> str:
    """The label of a kind table's column in a record select (two kinds share names)."""
    return f"{KIND_TABLES[kind].name}__{column}"


KIND_COLUMNS: dict[RecordKind, tuple[str, ...]] = {
    kind: tuple(column.name for column in table.c if column.name != "id")
    for kind, table in KIND_TABLES.items()
}

# Any select: the column types are read back by label, not by position.
AnySelect: TypeAlias = Select[*tuple[Any, ...]]

SORT_LABEL = "sort_key"
_SORT_COLUMNS = {"occurred_at", "reported_at", "updated_at"}


@dataclass(frozen=True, slots=True)
class RecordCriteria:
    """What a record list is filtered by; empty tuples and ``None`` mean "any"."""

    kinds: tuple[RecordKind, ...] = ()
    sources: tuple[SourceSystem, ...] = ()
    categories: tuple[DisputeCategory, ...] = ()
    statuses: tuple[CaseStatus, ...] = ()
    risk_levels: tuple[RiskLevel, ...] = ()
    region_code: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    search: str | None = None
    party_name: str | None = None
    include_deleted: bool = False


def insert_for(session: AsyncSession) -> Any:
    """The session's dialect's ``insert`` (PostgreSQL's or SQLite's), for ``ON CONFLICT``."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def prefix_range(prefix: str) -> tuple[str, str]:
    """``[low, high)`` bounds on a code for everything starting with ``prefix``."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


class filter_only(FunctionElement[Any]):
    """A column compared without choosing its index: ``+column`` on SQLite, as is elsewhere.

    SQLite's planner has no range statistics and, offered a jurisdiction's region range,
    sorts the whole range instead of walking the ``(occurred_at, id)`` index and filtering;
    a province-wide page then costs ten times more. PostgreSQL decides from its statistics.
    """

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(filter_only)
def _filter_only(element: filter_only, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(filter_only, "sqlite")
def _filter_only_sqlite(element: filter_only, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


class in_list(FunctionElement[bool]):
    """``column`` among the list bound as ``name`` (run with ``{name: [...]}``): on PostgreSQL
    ``column = ANY(:name)``, one array parameter, so the statement's SQL is rendered once and
    reused; elsewhere (SQLite) ``column IN (...)``, the list expanded at each execution."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        super().__init__(column, bindparam(name, type_=ARRAY(column.type)))


@compiles(in_list)
def _in_list(element: in_list, compiler: Any, **kw: Any) -> str:
    column, array = element.clauses.clauses
    expanding = bindparam(array.key, expanding=True, type_=column.type)
    return str(compiler.process(column.in_(expanding), **kw))


@compiles(in_list, "postgresql")
def _in_list_postgresql(element: in_list, compiler: Any, **kw: Any) -> str:
    column, array = element.clauses.clauses
    return str(compiler.process(column == any_(array), **kw))


async def column_rows(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None
) -> CursorResult[*TupleAny]:
    """The rows of a select of columns, as the driver returns them: run on the connection
    ``session`` uses, without the ORM's loading that ``session.execute`` gives every statement
    naming a mapped class (a wrapper made per row: several microseconds each, and a sync's
    grading and linking read hundreds of thousands of rows). As ``session.execute`` would,
    the session's pending changes are flushed first (unless it does not autoflush), and the
    statement runs in the session's transaction on its own connection (an operation's read
    session included: its connection is already the session's alone)."""

    def run(sync_session: Session) -> CursorResult[*TupleAny]:
        if sync_session.autoflush:
            sync_session.flush()  # nothing to do when nothing is pending
        return sync_session.connection().execute(statement, dict(params or {}))

    return await session.run_sync(run)


async def column_scalars(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None
) -> ScalarResult[Any]:
    """The first column of :func:`column_rows`."""
    return (await column_rows(session, statement, params)).scalars()


class fixed_literal(ColumnElement[Any]):
    """A value written into the SQL text when the statement is compiled, and part of the
    statement's cache key (so each value has its compiled SQL, rendered once).

    ``literal(..., literal_execute=True)`` writes it in at every execution instead: the
    compiled SQL keeps a placeholder, and each execution renders the value into a copy of the
    text. For values fixed per principal (a jurisdiction's bounds) the text is then the same
    at every request, so rendering it once per scope saves that work. The value is rendered
    by the dialect's own literal processor, as ``literal_execute`` renders it."""

    __visit_name__ = "govhub_fixed_literal"
    inherit_cache = True
    # as SQLAlchemy declares its own (read per class, never mutated)
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012
        ("value", InternalTraversal.dp_plain_obj),
        ("type", InternalTraversal.dp_type),
    ]

    def __init__(self, value: Any, type_: TypeEngine[Any]) -> None:
        self.value = value
        self.type = type_


@compiles(fixed_literal)
def _fixed_literal(element: fixed_literal, compiler: Any, **kw: Any) -> str:
    return str(compiler.render_literal_value(element.value, element.type))


def _fixed(value: Any, like: ColumnElement[Any]) -> ColumnElement[Any]:
    """A value rendered into the SQL text rather than bound (类型安全的字面量).

    For values fixed per principal (jurisdiction bounds here; ``LIMIT`` in
    :func:`record_page` is rendered at execution, ``literal_execute``): a
    statement with no parameters left is planned once per connection by PostgreSQL and its
    plan reused, where bound ones had the page query re-planned (≈1.5 ms) on every request.
    Rendered when the statement is compiled (:class:`fixed_literal`), once per scope.
    Never for client-supplied text: filters and cursors stay bound.
    """
    return fixed_literal(value, like.type)


def within_prefixes(
    code: ColumnElement[Any], prefixes: Iterable[str]
) -> list[ColumnElement[bool]]:
    """``code`` within each prefix's ``[low, high)`` range (a range scan, never LIKE), the
    bounds written into the SQL (:func:`_fixed`): a jurisdiction's, fixed per principal."""
    return [
        and_(code >= _fixed(low, code), code < _fixed(high, code))
        for low, high in map(prefix_range, prefixes)
    ]


def scope_conditions(
    scope: RecordScope, records: FromClause | None = None, *, no_region: str | None = None
) -> list[ColumnElement[bool]]:
    """The one SQL translation of the scope rule (``domain.scope``), on ``records`` (the
    records table unless an alias or the figures summary is given; ``no_region`` is what its
    ``region_code`` holds for a record without one, NULL unless given): an OR of prefix
    ranges (index range scans), never LIKE."""
    table = RECORDS if records is None else records
    kind, region_code = filter_only(table.c.kind), filter_only(table.c.region_code)
    if scope.reads_nothing:
        return [false()]
    conditions: list[ColumnElement[bool]] = []
    if scope.kinds != frozenset(RecordKind):
        kinds = sorted(scope.kinds)
        conditions.append(kind.in_(kinds) if len(kinds) > 1 else kind == kinds[0])
    placeless = (
        table.c.region_code.is_(None) if no_region is None else table.c.region_code == no_region
    )
    if "" in scope.region_prefixes:  # the empty prefix covers every placed record
        if not scope.unplaced:
            conditions.append(~placeless)
        return conditions
    places = within_prefixes(region_code, scope.region_prefixes)
    if scope.unplaced:
        places.append(placeless)
    conditions.append(or_(*places) if len(places) > 1 else places[0])
    return conditions


@dataclass(frozen=True, slots=True)
class Keyset:
    """A position in an ordered list: the sort key and the id of the item it follows."""

    sort_value: datetime
    record_id: int


def region_prefix(code: str) -> str:
    """The code prefix shared by a region and everything beneath it.

    Six-digit GB/T 2260 codes pad with "00" pairs (411200 is a city, 410000 a province), so
    those are stripped; longer codes (township, village, grid) are their own prefix.
    """
    prefix = code
    if len(code) == 6:
        while len(prefix) > 2 and prefix.endswith("00"):
            prefix = prefix[:-2]
    return prefix


def region_range(code: str) -> tuple[str, str]:
    """``[low, high)`` bounds on ``region_code`` for a region's subtree: a range scan, not LIKE."""
    return prefix_range(region_prefix(code))


def like_pattern(text: str, *, prefix_only: bool = False) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix_only else f"%{escaped}%"


def value_conditions(criteria: RecordCriteria, table: FromClause) -> list[ColumnElement[bool]]:
    """The filter on a record's own values (withdrawn, kind, source, category, status, risk,
    region) over ``table``: the records or a figures summary, which share these columns
    (a summary without one is never asked to filter by it)."""
    c = table.c
    conditions: list[ColumnElement[bool]] = []
    if not criteria.include_deleted:
        conditions.append(c.deleted == false())
    for name, values in (
        ("kind", criteria.kinds),
        ("source", criteria.sources),
        ("category", criteria.categories),
        ("status", criteria.statuses),
        ("risk_level", criteria.risk_levels),
    ):
        if values:
            column = c[name]
            conditions.append(column.in_(values) if len(values) > 1 else column == values[0])
    if criteria.region_code is not None:
        low, high = region_range(criteria.region_code)
        conditions += [c.region_code >= low, c.region_code < high]
    return conditions


def record_conditions(criteria: RecordCriteria, scope: RecordScope) -> list[ColumnElement[bool]]:
    c = RECORDS.c
    conditions = scope_conditions(scope) + value_conditions(criteria, RECORDS)
    if criteria.occurred_from is not None:
        conditions.append(c.occurred_at >= criteria.occurred_from)
    if criteria.occurred_to is not None:
        conditions.append(c.occurred_at < criteria.occurred_to)
    if criteria.search:
        pattern = like_pattern(criteria.search)
        conditions.append(
            or_(*(column.ilike(pattern, escape="\\") for column in (c.title, c.summary, c.address)))
        )
    if criteria.party_name:
        pattern = like_pattern(criteria.party_name, prefix_only=True)
        conditions.append(
            exists().where(PARTIES.c.record_id == c.id, PARTIES.c.name.ilike(pattern, escape="\\"))
        )
    return conditions


def sort_expression(column: str) -> ColumnElement[datetime]:
    """The sort key of an order; a record never reported sorts by when it occurred."""
    if column not in _SORT_COLUMNS:
        raise ValueError(f"cannot sort records by {column!r}")
    if column == "reported_at":
        return func.coalesce(RECORDS.c.reported_at, RECORDS.c.occurred_at, type_=UtcDateTime)
    return RECORDS.c[column]


REGION_LABEL = "region__"
"""The prefix of a record's region columns in a page selected ``with_regions``."""
REGION_COLUMNS: tuple[str, ...] = ("code", "name", "level", "parent_code", "population")


def _record_select(
    kinds: Sequence[RecordKind], sort_column: str | None = None, *, with_regions: bool = False
) -> AnySelect:
    """The shared and kind columns, kind tables outer-joined; plus the sort key if named,
    and with ``with_regions`` the record's region (columns ``region__…``, null without one)."""
    return _cached_record_select(tuple(kinds), sort_column, with_regions)


@functools.lru_cache(maxsize=256)
def _cached_record_select(
    kinds: tuple[RecordKind, ...], sort_column: str | None, with_regions: bool
) -> AnySelect:
    # Built once per (kinds, sort): some eighty labelled columns cost more to assemble than
    # the page query takes to run. Selects are immutable, so the cached one is shared.
    joined: FromClause = RECORDS
    columns: list[ColumnElement[Any]] = [RECORDS.c[name] for name in RECORD_COLUMNS]
    for kind in kinds:
        table = KIND_TABLES[kind]
        joined = joined.outerjoin(table, table.c.id == RECORDS.c.id)
        columns += [table.c[name].label(kind_label(kind, name)) for name in KIND_COLUMNS[kind]]
    if with_regions:
        joined = joined.outerjoin(REGIONS, REGIONS.c.code == RECORDS.c.region_code)
        columns += [REGIONS.c[name].label(REGION_LABEL + name) for name in REGION_COLUMNS]
    if sort_column is not None:
        columns.append(sort_expression(sort_column).label(SORT_LABEL))
    return select(*columns).select_from(joined)


@functools.lru_cache(maxsize=512)
def record_page(
    criteria: RecordCriteria,
    scope: RecordScope,
    *,
    sort_column: str,
    descending: bool,
    after: Keyset | None,
    limit: int,
    with_regions: bool = False,
    kind_columns: bool = True,
) -> AnySelect:
    """One page of records in ``(sort key, id)`` order, strictly after ``after``, polymorphic;
    with ``with_regions`` each record's region beside it (one statement, not two); without
    ``kind_columns`` only the shared columns (no kind table joined), for a selection that
    reads none of a kind's own fields.

    Cached: the first page of a list is asked for again and again with the same filter and
    scope, and a statement reused keeps its SQLAlchemy cache key, which is otherwise worked
    out afresh on every execution. Statements are immutable, so sharing one is safe.
    """
    key = sort_expression(sort_column)
    kinds = criteria.kinds or tuple(kind for kind in RecordKind if kind in scope.kinds)
    if not kind_columns:
        kinds = ()
    statement = _record_select(kinds, sort_column, with_regions=with_regions).where(
        *record_conditions(criteria, scope)
    )
    if after is not None:
        position = tuple_(key, RECORDS.c.id)
        bound = tuple_(
            literal(after.sort_value, UtcDateTime()), literal(after.record_id, Integer())
        )
        statement = statement.where(position < bound if descending else position > bound)
    order = (key.desc(), RECORDS.c.id.desc()) if descending else (key.asc(), RECORDS.c.id.asc())
    return statement.order_by(*order).limit(literal(int(limit), Integer(), literal_execute=True))


def record_count(criteria: RecordCriteria, scope: RecordScope) -> Select[int]:
    return select(func.count()).select_from(RECORDS).where(*record_conditions(criteria, scope))


def records_by_id(ids: Sequence[int], scope: RecordScope | None = None) -> AnySelect:
    """Records by id within ``scope`` (``None``: unrestricted); withdrawn ones are left out."""
    if scope is None:
        return _record_select(tuple(RecordKind)).where(
            RECORDS.c.id.in_(ids), RECORDS.c.deleted == false()
        )
    kinds = [kind for kind in RecordKind if kind in scope.kinds]
    return _record_select(kinds).where(
        RECORDS.c.id.in_(ids), RECORDS.c.deleted == false(), *scope_conditions(scope)
    )


IDS = "ids"
"""The bound parameter of :func:`records_in_scope` and :func:`regions_in` (a list)."""


@functools.lru_cache(maxsize=256)
def records_in_scope(scope: RecordScope, *, with_regions: bool = False) -> AnySelect:
    """:func:`records_by_id` as one statement object per scope, run with ``{"ids": [...]}``:
    reused, SQLAlchemy computes its cache key once, not at every request. With
    ``with_regions`` each record's region beside it (columns ``region__…``)."""
    kinds = [kind for kind in RecordKind if kind in scope.kinds]
    return _record_select(kinds, with_regions=with_regions).where(
        in_list(RECORDS.c.id, IDS),
        RECORDS.c.deleted == false(),
        *scope_conditions(scope),
    )


RECORD_ID = "record_id"
KIND = "kind"
"""The bound parameters of :func:`record_in_scope`."""


@functools.lru_cache(maxsize=256)
def record_in_scope(scope: RecordScope, *, with_regions: bool = False) -> AnySelect:
    """One record by id and kind within ``scope``, shared columns only, with its sort key by
    occurrence (``SORT_LABEL``; a page of one) and with ``with_regions`` its region; run with
    ``{"record_id": …, "kind": …}``. One statement object per scope, reused."""
    return _record_select((), "occurred_at", with_regions=with_regions).where(
        RECORDS.c.id == bindparam(RECORD_ID, type_=Integer()),
        RECORDS.c.kind == bindparam(KIND),
        RECORDS.c.deleted == false(),
        *scope_conditions(scope),
    )


@functools.cache
def records_in(kind_columns: bool = True) -> AnySelect:
    """:func:`records_by_id` unrestricted as one statement object, run with ``{"ids": [...]}``
    (for ids already read within a scope); without ``kind_columns`` the shared columns only."""
    return _record_select(tuple(RecordKind) if kind_columns else ()).where(
        in_list(RECORDS.c.id, IDS), RECORDS.c.deleted == false()
    )


MENTION_LABEL = "mention__"
"""Prefix of the party-mention columns :func:`records_naming` selects beside a record's."""


@functools.lru_cache(maxsize=256)
def records_naming(scope: RecordScope, kind_columns: bool = True) -> AnySelect:
    """The records within ``scope`` that name the persons ``{"ids": [...]}``, one row per
    mention (role, id, person as ``mention__…`` beside the record's columns), in timeline
    order: occurrence, record, the mention's position. Records withdrawn are left out;
    without ``kind_columns`` the shared columns only. One statement object per scope."""
    return (
        _record_select(tuple(RecordKind) if kind_columns else ())
        .add_columns(
            PARTIES.c.role.label(MENTION_LABEL + "role"),
            PARTIES.c.id.label(MENTION_LABEL + "id"),
            PARTIES.c.person_id.label(MENTION_LABEL + "person_id"),
        )
        .join(PARTIES, PARTIES.c.record_id == RECORDS.c.id)
        .where(in_list(PARTIES.c.person_id, IDS), RECORDS.c.deleted == false())
        .where(*scope_conditions(scope))
        .order_by(RECORDS.c.occurred_at, RECORDS.c.id, PARTIES.c.position)
    )


@functools.cache
def regions_in() -> AnySelect:
    """Regions by code, run with ``{"ids": [codes...]}``; one statement object, reused."""
    return select(REGIONS).where(in_list(REGIONS.c.code, IDS))


def regions_by_code(codes: Sequence[str]) -> AnySelect:
    return select(REGIONS).where(REGIONS.c.code.in_(codes))


def region_children(parent_codes: Sequence[str]) -> AnySelect:
    return select(REGIONS).where(REGIONS.c.parent_code.in_(parent_codes)).order_by(REGIONS.c.code)


def top_regions() -> AnySelect:
    return select(REGIONS).where(REGIONS.c.parent_code.is_(None)).order_by(REGIONS.c.code)


def links_of_records(record_ids: Sequence[int], scope: RecordScope) -> AnySelect:
    """Links touching the records either way whose other end is within ``scope``; links staff
    rejected are left out (a link to a record out of reach would leak that it exists)."""
    c = LINKS.c

    def visible(record_id: ColumnElement[int]) -> ColumnElement[bool]:
        return exists().where(
            RECORDS.c.id == record_id, RECORDS.c.deleted == false(), *scope_conditions(scope)
        )

    return (
        select(c.from_record_id, c.to_record_id, c.link_kind, c.confidence, c.evidence, c.decision)
        .where(
            or_(
                and_(c.from_record_id.in_(record_ids), visible(c.to_record_id)),
                and_(c.to_record_id.in_(record_ids), visible(c.from_record_id)),
            ),
            or_(c.decision.is_(None), c.decision != "REJECTED"),
        )
        .order_by(c.confidence.desc(), c.id)
    )
