"""Inserting a batch's new records in bulk (批量入库): Core ``INSERT``s, no ORM objects.

A first sync is almost all new records, and building, tracking and flushing an ORM object
per record, per kind row and per party mention cost more than the database's own work. Here
each table gets one multi-row ``INSERT`` per batch (``RETURNING`` the ids, in the order of
the rows): the records, their kinds' rows, their party mentions and the mentions' blocking
keys. Column types still apply — mention identifiers and raw payloads are sealed on the way
in, with the same blind indexes the ORM's validators would set.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, bindparam, insert, inspect, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from db.linking_facts import MentionRow, first_party, mention_row
from db.models import PartyMention, PersonBlockingKey, Record
from db.models.records import kind_models
from db.pii import blind_index
from domain.enums import RecordKind
from domain.linking.evidence import stored_blocking_keys
from domain.linking.organisations import looks_like_organisation
from domain.records import ParsedRecord
from domain.stats import kpi_class

_RECORDS: Table = Record.__table__  # type: ignore[assignment]  # a declarative model's table
_MENTIONS: Table = PartyMention.__table__  # type: ignore[assignment]
_KIND_TABLES: dict[RecordKind, Table] = {
    kind: model.__table__  # type: ignore[misc]
    for kind, model in kind_models().items()
}
COMMON_COLUMNS = (
    "category", "title", "summary", "reported_at", "region_code", "address", "status",
    "source_status", "source_category", "source_updated_at", "source_version", "raw",
    "external_ref",
)  # fmt: skip
"""The record columns a parsed record sets as they are, on insert (here) and update."""


@dataclass(frozen=True, slots=True)
class Inserted:
    """A record this batch inserted: its new id and what it was made from."""

    id: int
    parsed: ParsedRecord


def _record_row(parsed: ParsedRecord, digest: str, now: datetime) -> dict[str, Any]:
    row = {name: getattr(parsed, name) for name in COMMON_COLUMNS}
    row.update(
        kind=parsed.kind, source=parsed.source, source_key=parsed.source_key,
        title=parsed.title[:256],
        occurred_at=parsed.occurred_at or parsed.reported_at or parsed.source_updated_at,
        source_risk_level=parsed.risk_level, risk_level=parsed.risk_level, deleted=False,
        content_hash=digest, kpi_class=kpi_class(parsed.kind, parsed.fields),
        created_at=now, updated_at=now,
    )  # fmt: skip
    row.update((k, v) for k, v in parsed.fields.items() if k in _RECORDS.c)
    return row


def _kind_row(table: Table, record_id: int, parsed: ParsedRecord) -> dict[str, Any]:
    """The kind's own columns the record names (as the ORM would set them: a column it
    leaves out stays SQL NULL, a ``None`` it gives is a JSON null in a JSON column)."""
    row = {k: v for k, v in parsed.fields.items() if k in table.c}
    row["id"] = record_id
    return row


def _mention_rows(record_id: int, parsed: ParsedRecord) -> list[dict[str, Any]]:
    rows = []
    for position, party in enumerate(parsed.parties):
        rows.append({
            "record_id": record_id, "position": position, "role": party.role,
            "source_role": party.source_role, "name": party.name[:128],
            "is_organisation": party.is_organisation, "id_number": party.id_number,
            "id_number_index": blind_index("id_number", party.id_number),
            "phone": party.phone, "phone_index": blind_index("phone", party.phone),
            "uscc": party.uscc, "address": party.address, "staff_decided": False,
        })  # fmt: skip
    return rows


async def insert_returning(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]]
) -> list[int]:
    """Ids of ``rows`` inserted in one statement (batched by the driver), in their order; on
    PostgreSQL the ids are drawn from the table's sequence first and the rows copied."""
    if _copies(session):
        ids = await _next_ids(session, table, len(rows))
        numbered = [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)]
        await copy_rows(session, table, numbered)
        return ids
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    result = await session.execute(statement, rows)
    return [row_id for (row_id,) in result]


def _copies(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _next_ids(session: AsyncSession, table: Table, count: int) -> list[int]:
    """``count`` new ids from ``table``'s id sequence, ascending."""
    rows = await session.execute(
        text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
        {"t": table.name, "n": count},
    )
    return sorted(row_id for (row_id,) in rows)


_MISSING = object()


async def copy_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` into ``table`` with PostgreSQL's binary ``COPY``, in the session's
    transaction: each value goes through its column type as an INSERT's would (sealing,
    JSON, enums), a column a row leaves out gets its Python default or stays NULL, and the
    table's triggers fire as for an INSERT. Far cheaper than INSERTs for many rows."""
    if not rows:
        return
    connection = await session.connection()
    dialect = connection.dialect
    given = set().union(*rows)
    columns = [c for c in table.columns if c.name in given or c.default is not None]
    names = [c.name for c in columns]
    # column by column: one comprehension per column, not a generator and a call per value
    values = [
        _column_values(rows, c.name, c.type.dialect_impl(dialect).bind_processor(dialect),
                       _default_of(c))
        for c in columns
    ]  # fmt: skip
    records = list(zip(*values, strict=True))
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table.name, records=records, columns=names)


async def insert_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (ids left to the table) in one go: on PostgreSQL by :func:`copy_rows`,
    elsewhere one executemany ``INSERT``. The same stored values either way."""
    if not rows:
        return
    if _copies(session):
        await copy_rows(session, table, rows)
    else:
        await session.execute(insert(table), rows)


def _column_values(rows: list[dict[str, Any]], name: str, process: Any, default: Any) -> list[Any]:
    """One column's bound values for ``rows`` (see :func:`_bound`), with the common cases
    (no default; no bind processing) written out."""
    if default is not None:
        return [_bound(row.get(name, _MISSING), process, default) for row in rows]
    if process is None:
        return [row.get(name) for row in rows]
    return [None if (v := row.get(name, _MISSING)) is _MISSING else process(v) for row in rows]


def _bound(value: Any, process: Any, default: Any) -> Any:
    if value is _MISSING:  # as an INSERT that leaves the column out
        if default is None:
            return None
        value = default()
    return value if process is None else process(value)


def _default_of(column: Any) -> Any:
    """A column's Python-side insert default as a function of nothing, or None."""
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return lambda: default.arg
    if default.is_callable:
        return lambda: default.arg(None)
    raise ValueError(f"{column} has a default COPY cannot compute")


@dataclass(frozen=True, slots=True)
class InsertedBatch:
    """What :func:`insert_new` wrote: the records with their ids, in input order, and their
    party mentions as linking reads them (``db.linking_facts.mention_row``), in id order, so
    the resolution pass that follows need not read them back and open their sealed values."""

    records: list[Inserted]
    mentions: list[MentionRow]


async def insert_new(
    session: AsyncSession, batch: Sequence[tuple[ParsedRecord, str]]
) -> InsertedBatch:
    """Insert new, live records (with their content digests), their kind rows, party
    mentions and blocking keys."""
    if not batch:
        return InsertedBatch([], [])
    now = datetime.now(UTC)
    ids = await insert_returning(
        session, _RECORDS, [_record_row(parsed, digest, now) for parsed, digest in batch]
    )
    inserted = [Inserted(rid, parsed) for rid, (parsed, _) in zip(ids, batch, strict=True)]
    # one executemany per kind and set of columns (a source's records all name the same)
    by_kind: dict[tuple[RecordKind, frozenset[str]], list[dict[str, Any]]] = {}
    for item in inserted:
        row = _kind_row(_KIND_TABLES[item.parsed.kind], item.id, item.parsed)
        by_kind.setdefault((item.parsed.kind, frozenset(row)), []).append(row)
    for (kind, _), rows in by_kind.items():
        await insert_rows(session, _KIND_TABLES[kind], rows)
    mentions = [(row, i.parsed) for i in inserted for row in _mention_rows(i.id, i.parsed)]
    if not mentions:
        return InsertedBatch(inserted, [])
    mention_ids = await insert_returning(session, _MENTIONS, [row for row, _ in mentions])
    await store_blocking_keys(
        session,
        [(mid, row["name"], row["is_organisation"] or row["uscc"], parsed.region_code)
         for mid, (row, parsed) in zip(mention_ids, mentions, strict=True)],
    )  # fmt: skip
    firsts = {i.id: first_party([party.role for party in i.parsed.parties]) for i in inserted}
    facts = [
        mention_row(
            mid, row["record_id"], row["name"], row["is_organisation"], row["role"], row["uscc"],
            row["id_number"], row["phone"], row["id_number_index"], row["phone_index"],
            parsed.region_code, row["address"], parsed.address, row["position"],
            firsts[row["record_id"]], None, None, False,
        )
        for mid, (row, parsed) in zip(mention_ids, mentions, strict=True)
    ]  # fmt: skip
    facts.sort(key=lambda fact: fact.mention_id)
    return InsertedBatch(inserted, facts)


async def store_blocking_keys(
    session: AsyncSession, mentions: Sequence[tuple[int, str, Any, str | None]]
) -> None:
    """The name keys of each (mention id, name, organisation?, record region), in one
    executemany; an organisation's mention has none."""
    rows = [
        {"key": key, "mention_id": mention_id}
        for mention_id, name, organisation, region in mentions
        if not (organisation or looks_like_organisation(name))
        for key in stored_blocking_keys(name, region)
    ]
    await insert_rows(session, PersonBlockingKey.__table__, rows)  # type: ignore[arg-type]


BULK_UPDATE_MIN = 8
"""Changed records from which :func:`write_updates` writes them itself (fewer: the ORM)."""
_PENDING = itertools.count()


async def write_updates(session: AsyncSession, records: Sequence[Record]) -> None:
    """On PostgreSQL, write the pending column changes of stored ``records`` with one
    ``UPDATE … FROM`` a temporary table (filled by COPY) per table and set of columns, and
    mark them written.

    Flushed by the ORM, each record's UPDATE is a statement of its own (the driver's
    executemany), and each statement runs the records' statement-level triggers (the figures
    summaries, the link flags) once more; here they run once per batch.
    """
    if len(records) < BULK_UPDATE_MIN or not _copies(session):
        return
    now = datetime.now(UTC)
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    written: list[tuple[Record, dict[str, Any]]] = []
    for record in records:
        state = inspect(record)
        if not state.persistent or not state.modified:
            continue
        per_table: dict[Table, dict[str, Any]] = {}
        values: dict[str, Any] = {}
        for prop in state.mapper.column_attrs:
            added = state.attrs[prop.key].history.added
            column = prop.columns[0]
            if not added or column.primary_key:
                continue
            per_table.setdefault(column.table, {})[column.name] = added[0]  # type: ignore[arg-type]
            values[prop.key] = added[0]
        if _RECORDS in per_table:
            per_table[_RECORDS].setdefault("updated_at", now)
            values.setdefault("updated_at", now)
        for table, row in per_table.items():
            groups.setdefault((table, tuple(sorted(row))), []).append({"id": record.id, **row})
        written.append((record, values))
    # parents first, as the ORM would; and no autoflush before a statement here, which would
    # send these changes as the ORM does first
    with session.no_autoflush:
        for (table, names), rows in sorted(groups.items(), key=lambda g: g[0][0] is not _RECORDS):
            await update_rows(session, table, names, rows)
    for record, values in written:
        for key, value in values.items():
            set_committed_value(record, key, value)


async def update_rows(
    session: AsyncSession, table: Table, names: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """Set the columns ``names`` of the rows of ``table`` whose ``id`` each of ``rows`` gives.

    On PostgreSQL, from :data:`BULK_UPDATE_MIN` rows, with one ``UPDATE … FROM`` a temporary
    table filled by COPY: one statement, not one execution per row (and the table's statement
    triggers run once); otherwise one executemany ``UPDATE`` by id."""
    if not rows:
        return
    if len(rows) < BULK_UPDATE_MIN or not _copies(session):
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(f"_{name}") for name in names})
        )
        await session.execute(
            statement,
            [{"_id": row["id"], **{f"_{name}": row[name] for name in names}} for row in rows],
        )
        return
    pending = f"pending_{table.name}_{next(_PENDING)}"
    listed = ", ".join(("id", *names))
    await session.execute(text(
        f"CREATE TEMPORARY TABLE {pending} ON COMMIT DROP AS "  # noqa: S608 -- fixed names
        f"SELECT {listed} FROM {table.name} WITH NO DATA"
    ))  # fmt: skip
    columns = [Column("id", Integer), *(Column(n, table.c[n].type) for n in names)]
    await copy_rows(session, Table(pending, MetaData(), *columns), rows)
    assignments = ", ".join(f"{name} = p.{name}" for name in names)
    await session.execute(text(
        f"UPDATE {table.name} AS t SET {assignments} FROM {pending} AS p "  # noqa: S608 -- fixed names
        f"WHERE t.id = p.id"
    ))  # fmt: skip
