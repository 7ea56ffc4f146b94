"""The record kinds (记录类型) as GraphQL types, each with its own source's typed fields.

Attribute names equal the column names of the kind's table (db/models/records.py), so rows
map onto these types by name (:func:`record_from_row`). Which type serves which kind comes from
the kind table (``domain.kinds``, by ``type_name``): a new kind's type is declared here once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import RowMapping

from db.queries import KIND_COLUMNS, RECORD_COLUMNS, kind_label
from domain.enums import RecordKind
from domain.kinds import KINDS
from schema.fastpath.marks import rereadable
from schema.ids import global_id
from schema.makers import maker_of
from schema.records import Record
from schema.sensitivity import FREE_TEXT, PUBLIC


@strawberry.type(
    description="Dispute / people's mediation case (矛盾纠纷/人民调解案件), MEDIATION."
)
class Dispute(Record):
    mediation_org: str | None = strawberry.field(
        metadata=PUBLIC, description="Mediation committee (调解组织)."
    )
    mediation_org_code: str | None = strawberry.field(
        metadata=PUBLIC, description="Its unified social credit code (调解组织统一社会信用代码)."
    )
    mediator: str | None = strawberry.field(metadata=PUBLIC, description="Mediator (调解员).")
    agreement_number: str | None = strawberry.field(
        metadata=PUBLIC, description="Agreement number (协议书编号)."
    )
    agreement_signed_on: date | None = strawberry.field(
        metadata=PUBLIC, description="Date the agreement was signed (协议签订日期)."
    )
    judicial_confirmation_status: str | None = strawberry.field(
        metadata=PUBLIC, description="Judicial confirmation status (司法确认状态)."
    )
    judicial_confirmation_applied_on: date | None = strawberry.field(
        metadata=PUBLIC, description="Judicial confirmation applied for on (司法确认申请日期)."
    )
    judicial_confirmation_confirmed_on: date | None = strawberry.field(
        metadata=PUBLIC, description="Judicial confirmation granted on (司法确认日期)."
    )
    judicial_confirmation_case_number: str | None = strawberry.field(
        metadata=PUBLIC, description="Court case number of the confirmation (司法确认案号)."
    )
    amount_involved: Decimal | None = strawberry.field(
        metadata=PUBLIC, description="Amount involved (涉及金额)."
    )
    party_count: int | None = strawberry.field(
        metadata=PUBLIC, description="Number of parties (当事人数)."
    )
    alert_number: str | None = strawberry.field(
        metadata=PUBLIC, description="110 alert number it came from (来源警情编号)."
    )
    accepted_on: date | None = strawberry.field(
        metadata=PUBLIC, description="Accepted on (受理日期)."
    )


@strawberry.type(description="Grid event (网格事件), GRID.")
class GridEvent(Record):
    grid_code: str | None = strawberry.field(metadata=PUBLIC, description="Grid code (网格编码).")
    reporter: str | None = strawberry.field(
        metadata=PUBLIC, description="Grid worker who reported it (网格员)."
    )
    event_type: str | None = strawberry.field(
        metadata=PUBLIC, description="Event type code (事件类型)."
    )
    # The grid's coordinates place the event at the door, as precisely as its address: roles
    # that may not read addresses (free text) get neither.
    longitude: float | None = strawberry.field(
        metadata=FREE_TEXT, description="Longitude (经度), as precise as the address."
    )
    latitude: float | None = strawberry.field(
        metadata=FREE_TEXT, description="Latitude (纬度), as precise as the address."
    )


@strawberry.type(description="Police alert (110 警情), POLICE_110.")
class PoliceAlert(Record):
    alert_number: str = strawberry.field(
        metadata=PUBLIC, description="Alert number (接警编号, JJDBH)."
    )
    alarm_time: datetime = strawberry.field(
        metadata=PUBLIC, description="When the call came in (报警时间, BJSJ)."
    )
    category_code_l1: str | None = strawberry.field(
        metadata=PUBLIC, description="Alert category, level 1 (警情类别一级)."
    )
    category_code_l2: str | None = strawberry.field(
        metadata=PUBLIC, description="Alert category, level 2 (警情类别二级)."
    )
    category_code_l3: str | None = strawberry.field(
        metadata=PUBLIC, description="Alert category, level 3 (警情类别三级)."
    )
    disposal_result: str | None = strawberry.field(
        metadata=PUBLIC, description="Disposal result (处警结果, CJJG)."
    )


@strawberry.type(description="A petition number issued by one level (信访件编号).")
class PetitionNumber:
    level: str = strawberry.field(
        metadata=PUBLIC, description="Issuing level, e.g. county, city (层级)."
    )
    number: str = strawberry.field(metadata=PUBLIC, description="The number (编号).")


@strawberry.type(description="Petition (信访件), PETITION.")
class Petition(Record):
    form: str | None = strawberry.field(
        metadata=PUBLIC, description="Form: letter, visit, online… (信访形式)."
    )
    accepted_on: date | None = strawberry.field(
        metadata=PUBLIC, description="Accepted on (受理日期)."
    )
    deadline: date | None = strawberry.field(
        metadata=PUBLIC, description="Reply due by (办理期限)."
    )
    handling_unit: str | None = strawberry.field(
        metadata=PUBLIC, description="Unit handling it (承办单位)."
    )
    repeat_count: int | None = strawberry.field(
        metadata=PUBLIC,
        description=(
            "Times petitioned before, as the petition system counts them (重复信访次数); "
            "1 or more makes it a repeat petition (重复信访) in 重复信访率."
        ),
    )
    petitioner_count: int | None = strawberry.field(
        metadata=PUBLIC, description="Number of petitioners (信访人数)."
    )
    cited_case_number: str | None = strawberry.field(
        metadata=PUBLIC, description="Court case number the petition cites (涉及案号)."
    )
    petition_numbers: strawberry.Private[dict[str, str] | None]

    @strawberry.field(
        metadata=PUBLIC, description="Numbers issued by each level's bureau (各级信访件编号)."
    )
    @rereadable
    def numbers(self) -> list[PetitionNumber]:
        return [
            PetitionNumber(level=level, number=number)
            for level, number in sorted((self.petition_numbers or {}).items())
        ]


@strawberry.type(
    description="Court case: litigation or pre-litigation mediation (诉讼/诉前调解案件), COURT."
)
class CourtFiling(Record):
    case_number: str = strawberry.field(metadata=PUBLIC, description="Case number (案号).")
    cause: str | None = strawberry.field(metadata=PUBLIC, description="Cause of action (案由).")
    court: str | None = strawberry.field(metadata=PUBLIC, description="Court (法院).")
    court_code: str | None = strawberry.field(metadata=PUBLIC, description="Court code (法院代码).")
    case_type: str | None = strawberry.field(
        metadata=PUBLIC, description="Case type code (案件类型)."
    )
    filed_on: date | None = strawberry.field(metadata=PUBLIC, description="Filed on (立案日期).")
    judge: str | None = strawberry.field(metadata=PUBLIC, description="Presiding judge (承办法官).")
    outcome: str | None = strawberry.field(metadata=PUBLIC, description="Outcome (结案方式).")
    mediation_case_number: str | None = strawberry.field(
        metadata=PUBLIC, description="Pre-litigation mediation number (诉前调解编号)."
    )


def _types_by_kind() -> dict[RecordKind, type[Record]]:
    by_name = {cls.__name__: cls for cls in Record.__subclasses__()}
    return {spec.kind: by_name[spec.type_name] for spec in KINDS if spec.type_name in by_name}


TYPE_OF_KIND: dict[RecordKind, type[Record]] = _types_by_kind()
KIND_TYPES: tuple[type[Record], ...] = tuple(TYPE_OF_KIND.values())

# Columns whose attribute has another name: the title is read through a resolver (per role).
_RENAMED = {"id": "record_id", "title": "source_title"}
_SHARED = tuple((_RENAMED.get(name, name), name) for name in RECORD_COLUMNS)
# (attribute, label) pairs per kind: the shared columns, then the kind table's own.
_FIELDS: dict[RecordKind, tuple[tuple[str, str], ...]] = {
    kind: _SHARED + tuple((name, kind_label(kind, name)) for name in columns)
    for kind, columns in KIND_COLUMNS.items()
}


# Per kind: the kind table's own attributes, left unset (None) by a row of shared columns only.
_UNREAD: dict[RecordKind, dict[str, Any]] = {
    kind: dict.fromkeys(columns) for kind, columns in KIND_COLUMNS.items()
}

# Per kind: the type's maker (schema.makers) and the (attribute, label) pairs of its columns.
_MAKERS: dict[RecordKind, Callable[[dict[str, Any]], Record]] = {
    kind: maker_of(TYPE_OF_KIND[kind], ["id", *(attribute for attribute, _ in fields)])
    for kind, fields in _FIELDS.items()
}


def record_from_row(row: RowMapping, *, kind_columns: bool = True) -> Record:
    """The typed record of a row selected with its kind's columns (``db.queries``); without
    ``kind_columns``, of a row of the shared columns only, for a selection that reads none of
    its kind's own fields (they are left ``None``, never read)."""
    kind: RecordKind = row["kind"]
    values: dict[str, Any] = {"id": global_id(TYPE_OF_KIND[kind].__name__, row["id"])}
    if kind_columns:
        for attribute, label in _FIELDS[kind]:
            values[attribute] = row[label]
    else:
        for attribute, label in _SHARED:
            values[attribute] = row[label]
        values.update(_UNREAD[kind])
    return _MAKERS[kind](values)
