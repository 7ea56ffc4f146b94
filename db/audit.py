"""The hash-chained audit log (审计日志): append in batches, verify the chain.

Each row's ``hash`` is an HMAC-SHA-256, keyed with a key the database does not hold (the
audit key, by default derived from the PII key), over its own id and content plus the previous
row's hash, so editing a row, deleting one, moving rows, re-chaining after an edit or appending
a forged row breaks the chain at a row that ``verify_chain`` names. Rows written before the
chain was keyed (``scheme`` null) keep their plain SHA-256 and verify as before, but none may
follow a keyed row. Deleting the newest rows leaves a shorter chain that is still whole; the
signed checkpoints (``db.audit_checkpoints``), kept outside the database, catch that.
Appends are serialised (a PostgreSQL transaction-level advisory lock across processes)
and grouped: many requests' rows share one transaction (group commit), so auditing every
read does not become the bottleneck.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import AuditEntry
from db.pii import cipher
from db.storable import optional_text, storable_json, storable_text
from domain.jsontext import column_json

GENESIS = "0" * 64
KEYED = "hmac-sha256"
_AUDIT_TABLE = AuditEntry.metadata.tables["audit_log"]
_LOCK_KEY = 0x60B4A0D1  # advisory-lock key reserved for audit appends
_key: bytes | None = None


def configure_audit_key(key: bytes | None) -> None:
    """Install the chain key (``GOVHUB_AUDIT_KEY``); ``None`` derives it from the PII key."""
    global _key  # like the PII cipher: one key per process, set at start-up
    if key is not None and len(key) < 32:
        raise ValueError("the audit key must be at least 32 bytes")
    _key = key


def audit_key() -> bytes:
    if _key is not None:
        return _key
    return _derived_key(cipher().key)


@functools.lru_cache(maxsize=4)
def _derived_key(pii_key: bytes) -> bytes:
    """The chain key derived from the PII key (once per key, not once per row)."""
    return hmac.new(pii_key, b"govhub audit chain v1", hashlib.sha256).digest()


def keyed_digest(document: str) -> str:
    """HMAC-SHA-256 of ``document`` under the audit key, hex (also digests variables)."""
    return hmac.new(audit_key(), document.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited operation, before it is chained."""

    principal: str | None
    role: str | None
    org: str | None
    operation: str | None
    document_hash: str | None
    variables: dict[str, Any] | None
    record_ids: list[int] | None
    purpose: str | None
    outcome: str
    duration_ms: float | None
    occurred_at: datetime
    person_ids: list[int] | None = None
    matter_ids: list[int] | None = None
    made_storable: bool = field(default=False, compare=False, repr=False)
    """Whether :meth:`storable` made this event (it is not made storable twice: the audit
    writer does so before queueing, ``append_events`` for every other caller)."""

    def storable(self) -> AuditEvent:
        """This event with every caller-controlled value storable (``db.storable``) and cut
        to its column's size, so no value of one request can fail another's batch."""
        if self.made_storable:
            return self
        return AuditEvent(
            principal=optional_text(self.principal, 128),
            role=optional_text(self.role, 32),
            org=optional_text(self.org, 128),
            operation=optional_text(self.operation, 128),
            document_hash=optional_text(self.document_hash, 64),
            variables=storable_json(self.variables) if self.variables is not None else None,
            record_ids=self.record_ids,
            purpose=optional_text(self.purpose, 400),
            outcome=storable_text(self.outcome, 32),
            duration_ms=self.duration_ms,
            occurred_at=self.occurred_at,
            person_ids=self.person_ids,
            matter_ids=self.matter_ids,
            made_storable=True,
        )


CHAINED_COLUMNS = (
    "id", "occurred_at", "principal", "role", "org", "operation", "document_hash", "variables",
    "record_ids", "person_ids", "matter_ids", "purpose", "outcome", "duration_ms", "prev_hash",
    "scheme",
)  # fmt: skip
"""The columns a row's hash covers (all but ``hash`` itself)."""


def chain_fields(entry: AuditEntry | Mapping[str, Any]) -> dict[str, Any]:
    """What the hash covers of a stored row, or of a row about to be inserted (its values
    by column name)."""
    row = entry if isinstance(entry, Mapping) else {c: getattr(entry, c) for c in CHAINED_COLUMNS}
    fields = {
        "id": row["id"],
        "occurred_at": row["occurred_at"].astimezone(UTC).isoformat(),
        "principal": row["principal"],
        "role": row["role"],
        "org": row["org"],
        "operation": row["operation"],
        "document_hash": row["document_hash"],
        "variables": row["variables"],
        "record_ids": row["record_ids"],
        "purpose": row["purpose"],
        "outcome": row["outcome"],
        "duration_ms": None if row["duration_ms"] is None else round(row["duration_ms"], 3),
        "prev_hash": row["prev_hash"],
    }
    # Only when set: rows written before the column existed hash exactly as they did.
    if row["person_ids"] is not None:
        fields["person_ids"] = row["person_ids"]
    if row["matter_ids"] is not None:
        fields["matter_ids"] = row["matter_ids"]
    if row["scheme"] is not None:
        fields["scheme"] = row["scheme"]
    return fields


def chain_hash(entry: AuditEntry | Mapping[str, Any]) -> str:
    fields = chain_fields(entry)
    document = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    if fields.get("scheme") == KEYED:
        return keyed_digest(document)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


# Built once: a batch's statements are the same every time.
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_SQLITE_WRITE_LOCK = text("UPDATE audit_log SET id = id WHERE 0 = 1")
_CHAIN_TAIL = select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


async def append_events(
    session: AsyncSession | AsyncConnection, events: list[AuditEvent]
) -> list[int]:
    """Chain and insert ``events`` in order, in ``session``'s transaction (an ORM session, or
    a Core connection: the app's audit writer uses one, lighter per batch); the caller
    commits. Returns their ids.

    Serialised against every other process until the commit: PostgreSQL takes an advisory
    lock; on SQLite a no-op write first takes the database's write lock (``uvicorn --workers
    2``), so no two transactions read the same chain tail before inserting after it.
    """
    if isinstance(session, AsyncConnection):
        dialect = session.dialect.name
    else:
        dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect == "postgresql":
        await session.execute(_ADVISORY_LOCK, {"k": _LOCK_KEY})
    elif dialect == "sqlite":
        await session.execute(_SQLITE_WRITE_LOCK)
    last = (await session.execute(_CHAIN_TAIL)).first()
    rows = chained_rows(events, ChainTail(last[0], last[1]) if last else EMPTY_CHAIN)
    # A plain INSERT, no ORM unit of work: the rows are written, never read back here.
    if rows:
        await session.execute(insert(_AUDIT_TABLE), rows)
    return [row["id"] for row in rows]


@dataclass(frozen=True, slots=True)
class ChainTail:
    """The newest row of the chain: what the next row follows (``id`` 0 on an empty log)."""

    id: int
    hash: str


EMPTY_CHAIN = ChainTail(0, GENESIS)


def chained_rows(events: list[AuditEvent], tail: ChainTail) -> list[dict[str, Any]]:
    """``events`` as rows by column name, chained in order after ``tail``."""
    next_id, prev = tail.id + 1, tail.hash
    rows: list[dict[str, Any]] = []
    for event in (event.storable() for event in events):
        row: dict[str, Any] = {
            "id": next_id, "occurred_at": event.occurred_at, "principal": event.principal,
            "role": event.role, "org": event.org, "operation": event.operation,
            "document_hash": event.document_hash, "variables": event.variables,
            "record_ids": event.record_ids, "person_ids": event.person_ids,
            "matter_ids": event.matter_ids,
            "purpose": event.purpose, "outcome": event.outcome, "duration_ms": event.duration_ms,
            "prev_hash": prev, "scheme": KEYED,
        }  # fmt: skip
        row["hash"] = prev = chain_hash(row)
        rows.append(row)
        next_id += 1
    return rows


# PostgreSQL, in one round trip (``append_after``): a function of the writer's own session
# (``pg_temp``: no schema object, created on first use) takes the advisory lock, reads the
# chain's tail, and inserts the rows (one array per column) only if the chain still ends where
# the caller believes; otherwise it returns the tail it found, and the caller chains the batch
# after that and calls again. Each statement of a VOLATILE function takes its own snapshot, so
# the tail is read after the lock is held: rows another writer committed while this one waited
# are seen. (A plain ``INSERT … SELECT`` takes its snapshot before it waits for the lock; with
# two processes writing, about one batch in five then failed on the primary key, an error, a
# line in the server's log and an extra round trip each.) The function plans its statements
# once per session, with the statistics of that moment: planned just after an ``ANALYZE``
# counted the log empty (a first sync's statistics refresh, ``db.statistics``), the tail was
# read by scanning and sorting the whole log, for every batch, until the log was analysed again
# or the writer reconnected (with autovacuum off, perhaps never). Without sequential scans the
# tail is always the primary key's last entry.
_PG_TAIL = "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
_PG_APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.govhub_audit_append(
    in_lock bigint, in_tail_id int, in_tail_hash text, in_id int[], in_occurred_at timestamptz[],
    in_principal text[], in_role text[], in_org text[], in_operation text[],
    in_document_hash text[], in_variables text[], in_record_ids text[], in_person_ids text[],
    in_matter_ids text[], in_purpose text[], in_outcome text[], in_duration_ms float8[],
    in_prev_hash text[], in_hash text[], in_scheme text[])
RETURNS TABLE (appended boolean, tail_id int, tail_hash text)
LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $fn$
DECLARE
    found_id int;
    found_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(in_lock);
    SELECT a.id, a.hash INTO found_id, found_hash FROM audit_log a ORDER BY a.id DESC LIMIT 1;
    IF coalesce(found_id, 0) <> in_tail_id
            OR (found_id IS NOT NULL AND found_hash <> in_tail_hash) THEN
        RETURN QUERY SELECT false, coalesce(found_id, 0), found_hash;
        RETURN;
    END IF;
    INSERT INTO audit_log (id, occurred_at, principal, role, org, operation, document_hash,
        variables, record_ids, person_ids, matter_ids, purpose, outcome, duration_ms, prev_hash,
        hash, scheme)
    SELECT r.id, r.occurred_at, r.principal, r.role, r.org, r.operation, r.document_hash,
        r.variables::json, r.record_ids::json, r.person_ids::json, r.matter_ids::json, r.purpose,
        r.outcome, r.duration_ms, r.prev_hash, r.hash, r.scheme
    FROM unnest(in_id, in_occurred_at, in_principal, in_role, in_org, in_operation,
        in_document_hash, in_variables, in_record_ids, in_person_ids, in_matter_ids, in_purpose,
        in_outcome, in_duration_ms, in_prev_hash, in_hash, in_scheme)
        AS r(id, occurred_at, principal, role, org, operation, document_hash, variables,
            record_ids, person_ids, matter_ids, purpose, outcome, duration_ms, prev_hash, hash,
            scheme);
    RETURN QUERY SELECT true, in_id[cardinality(in_id)], in_hash[cardinality(in_hash)];
END
$fn$
"""
_PG_APPEND_AFTER = (
    "SELECT appended, tail_id, tail_hash FROM pg_temp.govhub_audit_append($1, $2, $3, $4, $5, "
    "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
)
_UNIQUE_VIOLATION = "23505"
_NOT_CREATED = frozenset({"42883", "3F000"})
"""undefined_function; invalid_schema_name (the session has no ``pg_temp`` schema yet)."""
_JSON_COLUMNS = frozenset({"variables", "record_ids", "person_ids", "matter_ids"})
_PG_COLUMNS = (
    "id", "occurred_at", "principal", "role", "org", "operation", "document_hash", "variables",
    "record_ids", "person_ids", "matter_ids", "purpose", "outcome", "duration_ms", "prev_hash",
    "hash", "scheme",
)  # fmt: skip


class DriverConnection(Protocol):
    """The asyncpg connection :func:`append_after` writes on (at autocommit)."""

    async def fetchrow(self, query: str, *args: Any) -> Any: ...

    async def execute(self, query: str, *args: Any) -> str: ...


async def chain_tail(connection: DriverConnection) -> ChainTail:
    """The chain's newest row, read on a PostgreSQL driver connection."""
    row = await connection.fetchrow(_PG_TAIL)
    return ChainTail(row[0], row[1]) if row is not None else EMPTY_CHAIN


async def prepare_append(connection: DriverConnection) -> None:
    """Create :func:`append_after`'s function in the session of ``connection`` (the writer's,
    once it holds one); ``append_after`` creates it too if the session lost it."""
    await connection.execute(_PG_APPEND_FUNCTION)


async def append_after(
    connection: DriverConnection, events: list[AuditEvent], tail: ChainTail
) -> tuple[bool, ChainTail]:
    """Chain ``events`` after ``tail`` and insert them in one autocommitted round trip on a
    PostgreSQL driver connection (the audit writer's), where :func:`append_events` takes
    five. Returns (True, the new tail); or, when the chain no longer ends at ``tail`` (another
    writer appended), (False, the tail it ends at): nothing was written, and the caller chains
    the batch after that tail and calls again."""
    if not events:
        return True, tail
    rows = chained_rows(events, tail)
    columns = [
        [_json_text(row[name]) for row in rows]
        if name in _JSON_COLUMNS
        else [row[name] for row in rows]
        for name in _PG_COLUMNS
    ]
    arguments = (_LOCK_KEY, tail.id, tail.hash, *columns)
    try:
        found = await connection.fetchrow(_PG_APPEND_AFTER, *arguments)
    except Exception as exc:
        state = getattr(exc, "sqlstate", None)
        if state == _UNIQUE_VIOLATION:
            # the session reads with one snapshot per transaction (default_transaction_isolation
            # REPEATABLE READ), taken before the lock: the key refused the ids another writer took
            return False, await chain_tail(connection)
        if state not in _NOT_CREATED:
            raise
        await prepare_append(connection)  # a session that lost it (DISCARD TEMP)
        found = await connection.fetchrow(_PG_APPEND_AFTER, *arguments)
    appended, tail_id, tail_hash = found
    return appended, (ChainTail(tail_id, tail_hash) if tail_id else EMPTY_CHAIN)


def _json_text(value: Any) -> str | None:
    return None if value is None else column_json(value)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    row_id: int
    problem: str  # EDITED | DELETED_BEFORE | MOVED | UNKEYED | TRUNCATED | REWRITTEN
    missing: int = 0

    def describe(self) -> str:
        return {
            "EDITED": f"row {self.row_id} was edited (its hash no longer matches its content)",
            "DELETED_BEFORE": f"a row before row {self.row_id} was deleted",
            "MOVED": f"row {self.row_id} was moved (it does not follow the row before it)",
            "UNKEYED": f"row {self.row_id} is chained without the key after keyed rows "
            "(the chain was rewritten from there)",
            "TRUNCATED": f"the newest {self.missing} rows (up to row {self.row_id}, the latest "
            "checkpoint) were deleted",
            "REWRITTEN": f"row {self.row_id} differs from the latest checkpoint "
            "(the chain was rewritten)",
        }[self.problem]


class Anchor(Protocol):
    """What the chain is checked against at its end (``db.audit_checkpoints.Checkpoint``)."""

    @property
    def sequence(self) -> int: ...

    @property
    def head(self) -> str: ...


async def verify_chain(
    session: AsyncSession, batch: int = 5000, checkpoint: Anchor | None = None
) -> tuple[int, ChainProblem | None]:
    """Walk the chain in id order, then compare it with ``checkpoint`` (a signed one, kept
    outside the database): return (rows checked, the first problem or None)."""
    expected_prev, expected_id, checked = GENESIS, 1, 0
    after, keyed, anchored = 0, False, checkpoint is None
    while True:
        rows = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
            )
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.id != expected_id:
                return checked, ChainProblem(entry.id, "DELETED_BEFORE")
            if keyed and entry.scheme != KEYED:
                return checked, ChainProblem(entry.id, "UNKEYED")
            if chain_hash(entry) != entry.hash:
                return checked, ChainProblem(entry.id, "EDITED")
            if entry.prev_hash != expected_prev:
                return checked, ChainProblem(entry.id, "MOVED")
            if checkpoint is not None and entry.id == checkpoint.sequence:
                if not hmac.compare_digest(entry.hash, checkpoint.head):
                    return checked, ChainProblem(entry.id, "REWRITTEN")
                anchored = True
            keyed = keyed or entry.scheme == KEYED
            expected_prev, expected_id, checked = entry.hash, entry.id + 1, checked + 1
        after = rows[-1].id
    if not anchored and checkpoint is not None:
        missing = checkpoint.sequence - checked
        return checked, ChainProblem(checkpoint.sequence, "TRUNCATED", missing)
    return checked, None
