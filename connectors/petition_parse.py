"""Mapping one 信访件 CSV row onto a ``Petition`` record (pure; replayable from dead letters).

The row is a dict of the Chinese column names to strings, plus ``_file`` (the export file it
came from, for the version). 信访人 / 证件号码 / 联系电话 are parallel lists (names joined by
``、``, the others by ``;``, blanks allowed) and become one ``PETITIONER`` party each.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from connectors.beijing import beijing_to_utc, chinese_date, midnight_utc
from connectors.errors import RecordError
from connectors.mappings.petition import CATEGORY_BY_CLASS, STATUS_BY_NAME
from domain.enums import DisputeCategory, PartyRole, SourceSystem
from domain.records import ParsedParty, ParsedRecord
from domain.validators import (
    InvalidIdentifier,
    normalize_phone,
    parse_case_number,
    validate_division_code,
    validate_resident_id,
)

KEY_COLUMN = "信访件编号"
REQUIRED = ("信访形式", "信访人", "信访日期", "更新时间")
UPDATE_TIME = "%Y-%m-%d %H:%M:%S"
MEDIATION_CASE = re.compile(r"^TJ\d+$")  # a mediation caseNo is cited as it is
_FILE_VERSION = re.compile(r"_v(\d+)\.csv$")


def _cell(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    return value.strip() if isinstance(value, str) else ""


def _source_version(file_name: str) -> str | None:
    if not file_name:
        return None
    match = _FILE_VERSION.search(file_name)
    return f"{int(match.group(1)) if match else 1:03d}"


def _date(raw: dict[str, Any], name: str, key: str) -> date | None:
    text = _cell(raw, name)
    if not text:
        return None
    try:
        return chinese_date(text)
    except ValueError as exc:
        raise RecordError("INVALID_DATE", f"{name} is not a calendar date", key=key) from exc


def _count(raw: dict[str, Any], name: str, key: str) -> int | None:
    text = _cell(raw, name)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise RecordError("MALFORMED", f"{name} is not a whole number", key=key)
    return int(text)


def parse_row(raw: Any) -> ParsedRecord:
    """The mapping of one petition row; raises ``RecordError`` with a code when it cannot."""
    if not isinstance(raw, dict):
        raise RecordError("MALFORMED", "a petition row must be an object of cells")
    key = _cell(raw, KEY_COLUMN) or None
    if raw.get("_undecodable"):
        columns = ", ".join(map(str, raw["_undecodable"]))
        raise RecordError("BAD_ENCODING", f"bytes that are not valid GBK in {columns}", key=key)
    if key is None:
        raise RecordError("MISSING_FIELD", f"{KEY_COLUMN} missing or empty")
    missing = [name for name in REQUIRED if not _cell(raw, name)]
    if missing:
        raise RecordError("MISSING_FIELD", f"{', '.join(missing)} missing or empty", key=key)
    try:
        updated_at = beijing_to_utc(_cell(raw, "更新时间"), UPDATE_TIME)
    except ValueError as exc:
        raise RecordError("INVALID_DATE", "更新时间 is not a valid time", key=key) from exc
    accepted_on = _date(raw, "信访日期", key)
    assert accepted_on is not None  # required above
    status_name = _cell(raw, "办理状态")
    if status_name and status_name not in STATUS_BY_NAME:
        raise RecordError("INVALID_CODE", f"unknown 办理状态 {status_name!r}", key=key)
    content_class = _cell(raw, "内容分类")
    category = (
        CATEGORY_BY_CLASS.get(content_class)
        or CATEGORY_BY_CLASS.get(content_class.partition("/")[0])
        or DisputeCategory.OTHER
    )
    topic = content_class.rpartition("/")[2] or "信访"
    form = _cell(raw, "信访形式")
    return ParsedRecord(
        source=SourceSystem.PETITION,
        source_key=key,
        source_updated_at=updated_at,
        source_version=_source_version(_cell(raw, "_file")),
        raw=dict(raw),
        category=category,
        title=f"{topic}（{form}）",
        summary=_cell(raw, "诉求") or None,
        occurred_at=midnight_utc(accepted_on),
        reported_at=midnight_utc(accepted_on),
        region_code=_region(_cell(raw, "问题属地"), key),
        status=STATUS_BY_NAME.get(status_name, STATUS_BY_NAME["待受理"]),
        source_status=status_name or None,
        source_category=content_class or None,
        fields={
            "petition_numbers": {"county": key},
            "form": form,
            "accepted_on": accepted_on,
            "deadline": _date(raw, "办理期限", key),
            "handling_unit": _cell(raw, "办理单位") or None,
            "repeat_count": _count(raw, "重复信访次数", key),
            "petitioner_count": _count(raw, "信访人数", key),
            "cited_case_number": _cited_case(_cell(raw, "关联案号")),
        },
        parties=_petitioners(raw, key),
    )


def _region(code: str, key: str) -> str | None:
    """问题属地 is zero-padded to 12 digits (``411202001000``): drop the padding, validate."""
    if not code:
        return None
    while len(code) > 6 and code.endswith("000"):
        code = code[:-3]
    try:
        return validate_division_code(code)
    except InvalidIdentifier as exc:
        raise RecordError("INVALID_CODE", f"问题属地: {exc}", key=key) from exc


def _cited_case(text: str) -> str | None:
    """A court 案号 in its canonical bracket form when it parses; anything else as given."""
    if not text:
        return None
    if MEDIATION_CASE.match(text):
        return text
    try:
        return parse_case_number(text).normalized
    except InvalidIdentifier:
        return text  # a citation we cannot read is still worth keeping for linking by hand


def _split(text: str, separator: str) -> list[str]:
    return [part.strip() for part in text.split(separator)] if text else []


def _petitioners(raw: dict[str, Any], key: str) -> list[ParsedParty]:
    names = [n for n in _split(_cell(raw, "信访人"), "、")]
    ids, phones = _split(_cell(raw, "证件号码"), ";"), _split(_cell(raw, "联系电话"), ";")
    if len(ids) > len(names) or len(phones) > len(names):
        raise RecordError(
            "MALFORMED", "证件号码 or 联系电话 lists more entries than 信访人", key=key
        )
    parties: list[ParsedParty] = []
    for index, name in enumerate(names):
        id_number = ids[index] if index < len(ids) else ""
        phone = phones[index] if index < len(phones) else ""
        try:
            id_number = validate_resident_id(id_number) if id_number else ""
        except InvalidIdentifier as exc:
            raise RecordError(
                "INVALID_ID_NUMBER", f"证件号码 #{index + 1}: {exc}", key=key
            ) from exc
        try:
            phone = normalize_phone(phone) if phone else ""
        except InvalidIdentifier as exc:
            raise RecordError("INVALID_PHONE", f"联系电话 #{index + 1}: {exc}", key=key) from exc
        if name or id_number or phone:
            parties.append(
                ParsedParty(
                    role=PartyRole.PETITIONER,
                    name=name,
                    source_role="信访人",
                    id_number=id_number or None,
                    phone=phone or None,
                )
            )
    return parties
