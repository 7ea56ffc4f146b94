"""Source values longer than their columns (超长字段).

A source may send a value longer than govhub's column for it: PostgreSQL refuses it, and with
it the whole batch (SQLite stores it). So every parsed record is fitted before it is stored
(:func:`fit_columns`, from the sync engine and dead-letter replay):

* **free text** (an address, a mediator's name, a unit, a court, an outcome …) is cut to its
  column, ending with an ellipsis (…), as the audit trail's values are (``db.storable``);
* an **identifier or code** (a record's key, a case or alert number, a division code, a credit
  code) cannot be cut without naming something else: :class:`TooLong` names the field, and the
  record goes to the dead letters (``FIELD_TOO_LONG``), never its batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, String, Table

from db.models import PartyMention, Record
from db.models.records import kind_models
from db.storable import storable_text
from domain.enums import RecordKind
from domain.records import ParsedParty, ParsedRecord

CUT = frozenset({
    "address", "source_status", "source_category", "mediation_org", "mediator",
    "judicial_confirmation_status", "reporter", "handling_unit", "cause", "court", "judge",
    "outcome", "source_role",
})  # fmt: skip
"""Columns of free text, cut to fit; any other text column that a value overflows refuses it.
(A record's title and a party's name are cut where they are stored, as they always were.)"""


class TooLong(ValueError):
    """An identifier or code longer than its column."""

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(f"{field} is longer than its {limit} characters")
        self.field = field
        self.limit = limit


def column_length(column: ColumnElement[Any]) -> int | None:
    """The most characters a text column holds; None for an unbounded one or another type."""
    kind = column.type
    return kind.length if isinstance(kind, String) else None


def text_length(column: ColumnElement[Any]) -> int:
    """The most characters a bounded text column holds."""
    length = column_length(column)
    if length is None:
        raise TypeError(f"{column} is not a bounded text column")
    return length


def _limits(*tables: Table) -> dict[str, int]:
    """The length of each bounded text column of ``tables`` (the first table's wins)."""
    limits: dict[str, int] = {}
    for table in reversed(tables):
        for column in table.columns:
            if (length := column_length(column)) is not None:
                limits[column.name] = length
    return limits


_RECORDS: Table = Record.__table__  # type: ignore[assignment]  # a declarative model's table
_RECORD_LIMITS = _limits(_RECORDS)
_FIELD_LIMITS: dict[RecordKind, dict[str, int]] = {
    kind: _limits(model.__table__, _RECORDS)  # type: ignore[arg-type]
    for kind, model in kind_models().items()
}
_PARTY_LIMITS = _limits(PartyMention.__table__)  # type: ignore[arg-type]
_RECORD_ATTRIBUTES = ("source_key", "region_code", "address", "source_status", "source_category",
                      "source_version", "external_ref")  # fmt: skip
_PARTY_ATTRIBUTES = ("source_role", "uscc", "address")
_RECORD_BOUNDS = tuple((name, _RECORD_LIMITS[name]) for name in _RECORD_ATTRIBUTES)
_PARTY_BOUNDS = tuple((name, _PARTY_LIMITS[name]) for name in _PARTY_ATTRIBUTES)


def _fitted(values: Mapping[str, Any], limits: Mapping[str, int], where: str) -> dict[str, Any]:
    """The values of ``values`` that must change to fit (free text cut); raises
    :class:`TooLong` for an identifier or code that does not fit."""
    changes: dict[str, Any] = {}
    for name, value in values.items():
        limit = limits.get(name)
        if limit is None or not isinstance(value, str) or len(value) <= limit:
            continue
        if name not in CUT:
            raise TooLong(f"{where}{name}", limit)
        changes[name] = storable_text(value, limit)
    return changes


def _overflows(parsed: ParsedRecord) -> bool:
    """Whether any of ``parsed``'s values is longer than its column (the usual answer, no,
    found without building anything)."""
    for name, limit in _RECORD_BOUNDS:
        value = getattr(parsed, name)
        if isinstance(value, str) and len(value) > limit:
            return True
    limits = _FIELD_LIMITS[parsed.kind]
    for name, value in parsed.fields.items():
        if isinstance(value, str) and len(value) > limits.get(name, len(value)):
            return True
    for party in parsed.parties:
        for name, limit in _PARTY_BOUNDS:
            value = getattr(party, name)
            if isinstance(value, str) and len(value) > limit:
                return True
    return False


def fit_columns(parsed: ParsedRecord) -> ParsedRecord:
    """``parsed`` as it fits govhub's columns: itself when it does (the usual case), else a
    copy with its free text cut; raises :class:`TooLong` when an identifier or code does not
    fit."""
    if not _overflows(parsed):
        return parsed
    own = _fitted({n: getattr(parsed, n) for n in _RECORD_ATTRIBUTES}, _RECORD_LIMITS, "")
    fields = _fitted(parsed.fields, _FIELD_LIMITS[parsed.kind], "")
    parties: list[ParsedParty] | None = None
    for position, party in enumerate(parsed.parties):
        values = {n: getattr(party, n) for n in _PARTY_ATTRIBUTES}
        changes = _fitted(values, _PARTY_LIMITS, f"parties[{position}].")
        if changes:
            parties = parties or list(parsed.parties)
            parties[position] = replace(party, **changes)
    return replace(
        parsed,
        **own,
        fields={**parsed.fields, **fields},
        parties=parties if parties is not None else parsed.parties,
    )
