"""Reading values out of JSON source payloads (取值与校验), shared by the REST connectors.

Each helper either returns the canonical value or raises :class:`RecordError` with the code
a dead letter carries: ``MISSING_FIELD``, ``INVALID_DATE``, ``INVALID_ID_NUMBER``,
``INVALID_PHONE``, ``INVALID_CODE``, ``INVALID_CASE_NUMBER``, ``BAD_ENCODING``. Messages name
the field, never its value: ID numbers and phones must not reach logs or dead-letter reasons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.beijing import BEIJING, midnight_utc
from connectors.errors import RecordError
from domain.enums import PartyRole
from domain.records import ParsedParty
from domain.validators import (
    InvalidIdentifier,
    normalize_phone,
    parse_case_number,
    validate_division_code,
    validate_resident_id,
    validate_uscc,
)

REPLACEMENT = "\ufffd"
"""What a byte sequence that is not valid text becomes once scrubbed (see :func:`scrub_text`)."""

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_RESIDENT_ID_SHAPE = re.compile(r"^\d{17}[\dXx]$")


def scrub_text(value: Any) -> Any:
    """A copy of a decoded JSON value with lone surrogates replaced by U+FFFD.

    A source that sends bytes that are not valid text yields lone surrogates after decoding;
    those cannot be stored (UTF-8) or logged, so they are replaced before the raw payload is
    kept, and :func:`check_text` then rejects the record with ``BAD_ENCODING``.
    """
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {str(k): scrub_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_text(v) for v in value]
    return value


def _holds_broken(value: Any) -> bool:
    """Whether any text in ``value`` is broken: nearly none is, so this walk makes no paths
    (:func:`_broken_field` names the field once one is)."""
    if isinstance(value, str):
        return REPLACEMENT in value or _SURROGATE.search(value) is not None
    if isinstance(value, Mapping):
        return any(map(_holds_broken, value.values()))
    if isinstance(value, list):
        return any(map(_holds_broken, value))
    return False


def _broken_field(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if REPLACEMENT in value or _SURROGATE.search(value) else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    for sub_path, sub in items:
        found = _broken_field(sub, sub_path)
        if found is not None:
            return found
    return None


def check_text(raw: Mapping[str, Any], key: str | None) -> None:
    """Raise ``BAD_ENCODING`` naming the first field whose text was not valid."""
    broken = _broken_field(dict(raw), "") if _holds_broken(raw) else None
    if broken is not None:
        raise RecordError(
            "BAD_ENCODING", f"{broken} carries bytes that are not valid text", key=key
        )


def text(
    raw: Mapping[str, Any],
    name: str,
    key: str | None,
    *,
    required: bool = False,
) -> str | None:
    """A string field, stripped; blank is ``None`` (``MISSING_FIELD`` when required)."""
    value = raw.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if value is not None and not isinstance(value, str):
        raise RecordError("MALFORMED", f"{name} is not text", key=key)
    value = value.strip() if value else None
    if required and not value:
        raise RecordError("MISSING_FIELD", f"{name} is missing", key=key)
    return value or None


def required(raw: Mapping[str, Any], name: str, key: str | None) -> str:
    value = text(raw, name, key, required=True)
    assert value is not None
    return value


def day(value: str | None, name: str, key: str | None, fmt: str = "%Y-%m-%d") -> date | None:
    """A calendar date in ``fmt``; ``INVALID_DATE`` for 2026/02/30 and the like."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError as exc:
        raise RecordError("INVALID_DATE", f"{name} is not a valid date", key=key) from exc


def start_of_day(value: date | None) -> datetime | None:
    """Midnight Beijing time of a source's local date, as an aware instant."""
    return None if value is None else midnight_utc(value)


def instant(value: str | None, name: str, key: str | None) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset; none means Beijing) as an aware UTC instant."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise RecordError("INVALID_DATE", f"{name} is not a valid time", key=key) from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)).astimezone(UTC)


def epoch_millis(value: Any, name: str, key: str | None) -> datetime:
    """Epoch milliseconds (an integer) as an aware UTC instant."""
    if value is None or value == "":
        raise RecordError("MISSING_FIELD", f"{name} is missing", key=key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError("INVALID_DATE", f"{name} is not epoch milliseconds", key=key)
    return datetime.fromtimestamp(value / 1000, UTC)


def money(value: Any, name: str, key: str | None) -> Decimal | None:
    """An amount in yuan as a two-place ``Decimal`` (from the float's shortest text)."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise RecordError("MALFORMED", f"{name} is not a number", key=key) from exc


def coordinate(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def division(value: str | None, name: str, key: str | None) -> str | None:
    """A 6/9/12-digit division code (行政区划代码), or ``INVALID_CODE``."""
    if value is None:
        return None
    try:
        return validate_division_code(value)
    except InvalidIdentifier as exc:
        raise RecordError("INVALID_CODE", f"{name}: {exc}", key=key) from exc


def case_number(value: str | None, name: str, key: str | None) -> str | None:
    """The normalised 案号, e.g. ``(2024)豫1202民初123号``, or ``INVALID_CASE_NUMBER``."""
    if value is None:
        return None
    try:
        return parse_case_number(value).normalized
    except InvalidIdentifier as exc:
        raise RecordError("INVALID_CASE_NUMBER", f"{name}: {exc}", key=key) from exc


def coded(table: Mapping[str, Any], value: str, name: str, key: str | None) -> Any:
    """Look a source code up in a mapping table; an unknown code is ``INVALID_CODE``."""
    try:
        return table[value]
    except KeyError as exc:
        raise RecordError("INVALID_CODE", f"{name} has an unknown code", key=key) from exc


def party(
    entry: Any,
    *,
    role: PartyRole,
    fields: tuple[str, str, str],
    key: str | None,
    position: int,
    organisation: bool = False,
    source_role: str | None = None,
) -> ParsedParty:
    """One party from ``{name, <id field>, <phone field>}``, identifiers validated.

    ``fields`` names the payload's (name, ID, phone) keys. An organisation — flagged by the
    source (法人) or carrying an 18-character code that is no resident ID number in its ID
    field — is validated as a USCC (统一社会信用代码). A blank ID or phone is ``None``.
    """
    where = f"parties[{position}]"
    if not isinstance(entry, dict):
        raise RecordError("MALFORMED", f"{where} is not an object", key=key)
    name_field, id_field, phone_field = fields
    name = text(entry, name_field, key)
    if name is None:
        raise RecordError("MISSING_FIELD", f"{where}.{name_field} is missing", key=key)
    ident = text(entry, id_field, key)
    id_number = uscc = None
    if ident is not None:
        organisation = organisation or (len(ident) == 18 and not _RESIDENT_ID_SHAPE.match(ident))
        try:
            if organisation:
                uscc = validate_uscc(ident)
            else:
                id_number = validate_resident_id(ident)
        except InvalidIdentifier as exc:
            raise RecordError("INVALID_ID_NUMBER", f"{where}.{id_field}: {exc}", key=key) from exc
    phone = phone_number(text(entry, phone_field, key), f"{where}.{phone_field}", key)
    return ParsedParty(
        role=role,
        name=name,
        source_role=source_role,
        id_number=id_number,
        phone=phone,
        is_organisation=organisation,
        uscc=uscc,
    )


def role_labelled_parties(
    raw: Mapping[str, Any],
    key: str | None,
    *,
    roles: Mapping[str, PartyRole],
    fields: tuple[str, str, str],
    organisation_type: str,
) -> list[ParsedParty]:
    """``raw["parties"]`` whose entries carry a Chinese ``role`` label and a ``partyType``
    (法人 for organisations) — the shape the mediation platform and the court share."""
    parties = []
    for position, entry in enumerate(entries(raw, "parties", key)):
        is_object = isinstance(entry, dict)  # party() dead-letters anything else
        label = text(entry, "role", key) if is_object else None
        role = coded(roles, label or "", f"parties[{position}].role", key)
        parties.append(
            party(
                entry,
                role=role,
                fields=fields,
                key=key,
                position=position,
                source_role=label,
                organisation=is_object and entry.get("partyType") == organisation_type,
            )
        )
    return parties


def phone_number(value: str | None, name: str, key: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_phone(value)
    except InvalidIdentifier as exc:
        raise RecordError("INVALID_PHONE", f"{name}: {exc}", key=key) from exc


def entries(raw: Mapping[str, Any], name: str, key: str | None) -> list[Any]:
    """A list field; absent or null is empty."""
    value = raw.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError("MALFORMED", f"{name} is not a list", key=key)
    return value
