"""People as sources name them (当事人) and as resolved persons (自然人).

ID numbers and phones are read from the database still sealed and only opened when a client
selects them: masked by default, in full only for a principal with the ``pii:read`` scope who
stated a purpose (``X-Purpose``). Both the grant and the purpose go into the audit row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import RowMapping
from strawberry import relay

from domain.enums import PartyRole
from domain.validators import mask_phone, mask_resident_id
from schema.context import Info
from schema.fastpath.marks import rereadable
from schema.ids import global_id
from schema.loading import loaded_or_load
from schema.makers import maker_of
from schema.regions import Region
from schema.risk import RiskAssessment
from schema.sensitivity import IDENTIFIER, PERSONAL, personal_type

if TYPE_CHECKING:
    from schema.linking import TimelineEntry


def _opened(info: Info, sealed: str | None, mask: Callable[[str], str]) -> str | None:
    if sealed is None:
        return None
    plain = info.context.services.open_sealed(sealed)
    return plain if info.context.security.reveal_pii else mask(plain)


ID_NUMBER_DESCRIPTION = (
    "Resident ID number (身份证号), masked: 4112**********1234; in full only with the pii:read "
    "scope and an X-Purpose header."
)
PHONE_DESCRIPTION = (
    "Phone number (联系电话), masked: 138****5678; in full only with the pii:read scope and an "
    "X-Purpose header."
)


@personal_type
@strawberry.type(description="A resolved natural person (自然人), possibly named by many records.")
class Person(relay.Node):
    id: strawberry.ID = strawberry.field(
        metadata=PERSONAL, description="Global id (全局 ID): base64 of `Person:number`."
    )
    person_id: relay.NodeID[int]
    name: str = strawberry.field(metadata=PERSONAL, description="Name (姓名).")
    region_code: str | None = strawberry.field(
        metadata=PERSONAL,
        description=(
            "Home region code (所在区划代码): the most precise place among the person's "
            "records; null when it lies outside your jurisdiction."
        ),
    )
    sealed_id_number: strawberry.Private[str | None]
    sealed_phone: strawberry.Private[str | None]

    @strawberry.field(metadata=IDENTIFIER, description=ID_NUMBER_DESCRIPTION)
    @rereadable
    def id_number(self, info: Info) -> str | None:
        return _opened(info, self.sealed_id_number, mask_resident_id)

    @strawberry.field(metadata=IDENTIFIER, description=PHONE_DESCRIPTION)
    @rereadable
    def phone(self, info: Info) -> str | None:
        return _opened(info, self.sealed_phone, mask_phone)

    @strawberry.field(metadata=PERSONAL, description="Home region (所在区划).")
    async def region(self, info: Info) -> Region | None:
        if self.region_code is None:
            return None
        return await info.context.loaders.region.load(self.region_code)

    @strawberry.field(
        metadata=PERSONAL,
        description=(
            "The person's risk grade over all their records, with the rules that fired "
            "(人员风险研判); null until graded."
        ),
    )
    async def risk_assessment(self, info: Info) -> RiskAssessment | None:
        return await info.context.loaders.person_risk.load(self.person_id)

    @strawberry.field(
        metadata=PERSONAL,
        description=(
            "The person's records across the five systems, by occurrence (人员时间线), as "
            "personTimeline answers them."
        ),
        graphql_type=list[Annotated["TimelineEntry", strawberry.lazy("schema.linking")]],
    )
    @rereadable
    def records(self, info: Info) -> list[TimelineEntry] | Awaitable[list[TimelineEntry]]:
        # Sync, handing back the loaded list when a page prefetched the timelines
        # (schema.loading), so the compiled path (schema.fastpath) reads it in place.
        return info.context.services.person_records(info, self.person_id)


@personal_type
@strawberry.type(description="A party exactly as one source record names it (当事人).")
class Party:
    role: PartyRole = strawberry.field(
        metadata=PERSONAL, description="Role in this record (当事人角色)."
    )
    source_role: str | None = strawberry.field(
        metadata=PERSONAL, description="The role as the source wrote it (来源角色)."
    )
    name: str = strawberry.field(
        metadata=PERSONAL, description="Name as the source wrote it (姓名/名称)."
    )
    is_organisation: bool = strawberry.field(
        metadata=PERSONAL, description="An organisation rather than a natural person (是否单位)."
    )
    person_id: strawberry.Private[int | None]
    sealed_id_number: strawberry.Private[str | None]
    sealed_phone: strawberry.Private[str | None]

    @strawberry.field(metadata=IDENTIFIER, description=ID_NUMBER_DESCRIPTION)
    @rereadable
    def id_number(self, info: Info) -> str | None:
        return _opened(info, self.sealed_id_number, mask_resident_id)

    @strawberry.field(metadata=IDENTIFIER, description=PHONE_DESCRIPTION)
    @rereadable
    def phone(self, info: Info) -> str | None:
        return _opened(info, self.sealed_phone, mask_phone)

    @strawberry.field(
        metadata=PERSONAL,
        description="The person this mention was resolved to (关联自然人); null until resolved.",
        graphql_type=Person | None,
    )
    @rereadable
    def person(self, info: Info) -> Person | Awaitable[Person | None] | None:
        if self.person_id is None:
            return None
        # Prefetched with the page: answered synchronously, no awaitable per party.
        security = info.context.security
        person = loaded_or_load(info.context.loaders.person, self.person_id)
        if not isinstance(person, Awaitable):
            return security.saw_person(person)

        async def seen(pending: Awaitable[Person | None]) -> Person | None:
            return security.saw_person(await pending)

        return seen(person)


_PARTY_COLUMNS = (
    "role",
    "source_role",
    "name",
    "is_organisation",
    "person_id",
    "sealed_id_number",
    "sealed_phone",
)
_make_party = maker_of(Party, _PARTY_COLUMNS)
_make_person = maker_of(
    Person, ("id", "person_id", "name", "region_code", "sealed_id_number", "sealed_phone")
)


def party_from_row(row: RowMapping) -> Party:
    return _make_party({name: row[name] for name in _PARTY_COLUMNS})


def person_from_row(row: RowMapping, label: str = "") -> Person:
    """The person of a ``persons`` row, or of the columns labelled ``label…`` beside another
    table's (``db.people_queries.PERSON_LABEL`` beside a party)."""
    pk = row[label + "id"]
    return _make_person(
        {
            "id": global_id("Person", pk),
            "person_id": pk,
            "name": row[label + "name"],
            "region_code": row[label + "region_code"],
            "sealed_id_number": row[label + "sealed_id_number"],
            "sealed_phone": row[label + "sealed_phone"],
        }
    )
