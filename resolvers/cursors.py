"""Opaque cursors and global ids (游标与全局 ID): encoded here, validated on the way in.

A record cursor is ``base64url(json(["r1", order, sort key, id]))``: it carries the order it
was issued under, so a cursor from one order cannot silently page another.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from strawberry.relay import GlobalID, GlobalIDValueError

from db.queries import Keyset
from schema.enums import RecordOrder
from schema.errors import BadUserInput

_RECORD_CURSOR = "r1"
_PERSON_CURSOR = "p1"
_AUDIT_CURSOR = "a1"
_DEAD_LETTER_CURSOR = "d1"
_MAX_CURSOR_LENGTH = 200


def _encode(payload: list[object]) -> str:
    text = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def _decode(cursor: str, version: str) -> list[object]:
    try:
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise ValueError("cursor too long")
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise BadUserInput("Invalid cursor.") from exc
    if not isinstance(payload, list) or not payload or payload[0] != version:
        raise BadUserInput("Invalid cursor.")
    return payload


def encode_record_cursor(order: RecordOrder, sort_value: datetime, record_id: int) -> str:
    return _encode([_RECORD_CURSOR, order.name, sort_value.isoformat(), record_id])


def decode_record_cursor(cursor: str, order: RecordOrder) -> Keyset:
    moment, record_id = _decode_keyset(cursor, _RECORD_CURSOR, order.name)
    return Keyset(sort_value=moment, record_id=record_id)


def _decode_keyset(cursor: str, version: str, order_name: str) -> tuple[datetime, int]:
    """``(sort value, id)`` of a keyset cursor issued under ``order_name``."""
    payload = _decode(cursor, version)
    if len(payload) != 4:
        raise BadUserInput("Invalid cursor.")
    _, name, sort_value, item_id = payload
    if name != order_name:
        raise BadUserInput("This cursor belongs to another orderBy; start again without it.")
    if not isinstance(sort_value, str) or type(item_id) is not int:
        raise BadUserInput("Invalid cursor.")
    try:
        moment = datetime.fromisoformat(sort_value)
    except ValueError as exc:
        raise BadUserInput("Invalid cursor.") from exc
    if moment.tzinfo is None:
        raise BadUserInput("Invalid cursor.")
    return moment, item_id


def _decode_id(cursor: str, version: str) -> int:
    payload = _decode(cursor, version)
    if len(payload) != 2 or type(payload[1]) is not int:
        raise BadUserInput("Invalid cursor.")
    return payload[1]


def encode_person_cursor(person_id: int) -> str:
    return _encode([_PERSON_CURSOR, person_id])


def decode_person_cursor(cursor: str) -> int:
    return _decode_id(cursor, _PERSON_CURSOR)


def encode_audit_cursor(sequence: int) -> str:
    return _encode([_AUDIT_CURSOR, sequence])


def decode_audit_cursor(cursor: str) -> int:
    return _decode_id(cursor, _AUDIT_CURSOR)


def encode_dead_letter_cursor(letter_id: int) -> str:
    return _encode([_DEAD_LETTER_CURSOR, letter_id])


def decode_dead_letter_cursor(cursor: str) -> int:
    return _decode_id(cursor, _DEAD_LETTER_CURSOR)


MAX_ROW_ID = 2**31 - 1  # the id columns are 32-bit INTEGER


def parse_global_id(value: str) -> tuple[str, int]:
    """``(type name, numeric id)`` of a global id, or :class:`BadUserInput`."""
    try:
        global_id = GlobalID.from_id(value)
        number = int(global_id.node_id)
    except (GlobalIDValueError, ValueError) as exc:
        raise BadUserInput("Invalid id.") from exc
    if abs(number) > MAX_ROW_ID:  # beyond any stored row, and any SQL integer
        raise BadUserInput("Invalid id.")
    return global_id.type_name, number


_MATTER_CURSOR = "m1"


def encode_matter_cursor(order_name: str, sort_value: datetime, matter_id: int) -> str:
    return _encode([_MATTER_CURSOR, order_name, sort_value.isoformat(), matter_id])


def decode_matter_cursor(cursor: str, order_name: str) -> tuple[datetime, int]:
    return _decode_keyset(cursor, _MATTER_CURSOR, order_name)
