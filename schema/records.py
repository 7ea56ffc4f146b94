"""The ``Record`` interface every kind implements (记录), and links between records (关联)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date, datetime
from typing import Any

import strawberry
from graphql import GraphQLAbstractType, GraphQLResolveInfo
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types.base import get_object_definition

from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel, SourceSystem
from domain.titles import reads_source_title, redacted_title
from schema.context import Info
from schema.enums import LinkDirection
from schema.errors import Forbidden
from schema.fastpath.marks import places_without_info, rereadable
from schema.loading import loaded_or_load
from schema.persons import Party
from schema.regions import Region
from schema.risk import RiskAssessment
from schema.scalars import beijing_day
from schema.sensitivity import FREE_TEXT, PERSONAL, PUBLIC, guarded_type

_TYPE_NAMES: dict[type, str] = {}


@guarded_type
@strawberry.interface(
    description=(
        "A record from one of the five source systems (记录): its unified fields beside the "
        "source's own key, codes and status. Types: Dispute, GridEvent, PoliceAlert, Petition, "
        "CourtFiling."
    )
)
class Record(relay.Node):
    # The global id is encoded once when the row is mapped: a plain attribute resolves far
    # faster than relay.Node's per-object id resolver, and a page has many objects.
    id: strawberry.ID = strawberry.field(
        metadata=PUBLIC,
        description="Global id (全局 ID): base64 of `Type:number`, stable across requests.",
    )
    record_id: relay.NodeID[int]
    kind: RecordKind = strawberry.field(metadata=PUBLIC, description="Record kind (记录类型).")
    source: SourceSystem = strawberry.field(
        metadata=PUBLIC, description="Source system (来源系统)."
    )
    source_key: str = strawberry.field(
        metadata=PUBLIC, description="The source's own key (来源编号)."
    )
    category: DisputeCategory = strawberry.field(
        metadata=PUBLIC, description="Unified category (纠纷类别)."
    )
    source_category: str | None = strawberry.field(
        metadata=PUBLIC, description="The category code as the source wrote it (来源类别代码)."
    )
    source_title: strawberry.Private[str]
    summary: str | None = strawberry.field(
        metadata=FREE_TEXT, description="Summary of the matter (简要情况)."
    )
    occurred_at: datetime = strawberry.field(
        metadata=PUBLIC,
        description=(
            "When it happened (发生时间). Where the source gives only a date (MEDIATION, "
            "PETITION, COURT) this is Beijing midnight of it, 00:00+08:00: read `occurredOn`."
        ),
    )
    reported_at: datetime | None = strawberry.field(
        metadata=PUBLIC,
        description=(
            "When it was reported (上报时间); Beijing midnight where the source gives only a "
            "date (see `reportedOn`)."
        ),
    )
    region_code: str | None = strawberry.field(
        metadata=PUBLIC, description="Region code (区划代码)."
    )
    address: str | None = strawberry.field(
        metadata=FREE_TEXT, description="Where it happened (发生地址)."
    )
    status: CaseStatus = strawberry.field(metadata=PUBLIC, description="Unified status (案件状态).")
    source_status: str | None = strawberry.field(
        metadata=PUBLIC, description="The status as the source wrote it (来源状态)."
    )
    risk_level: RiskLevel = strawberry.field(metadata=PUBLIC, description="Risk level (风险等级).")
    source_updated_at: datetime = strawberry.field(
        metadata=PUBLIC, description="When the source last changed it (来源更新时间)."
    )
    updated_at: datetime = strawberry.field(
        metadata=PUBLIC, description="When govhub last changed it (更新时间)."
    )
    deleted: bool = strawberry.field(
        metadata=PUBLIC,
        description="Withdrawn by the source (已删除); only listed when the filter asks.",
    )

    @strawberry.field(
        metadata=PUBLIC,
        description=(
            "The Beijing calendar date it happened on (发生日期): the source's own date where "
            "it gives only a date, else the date of `occurredAt` in Beijing time."
        ),
    )
    @rereadable
    def occurred_on(self) -> date:
        return beijing_day(self.occurred_at)

    @strawberry.field(
        metadata=PUBLIC,
        description="The Beijing calendar date it was reported on (上报日期).",
    )
    @rereadable
    def reported_on(self) -> date | None:
        return None if self.reported_at is None else beijing_day(self.reported_at)

    @classmethod
    @places_without_info
    def resolve_type(
        cls, obj: object, info: GraphQLResolveInfo[Any], abstract_type: GraphQLAbstractType
    ) -> str:
        """The GraphQL type of a record object: its class's, looked up once per class.

        Strawberry's default tries a cast and walks the type's definition for every object;
        a page resolves fifty. It reads nothing of ``info`` (compiled readers pass none).
        """
        name = _TYPE_NAMES.get(type(obj))
        if name is None:
            name = get_object_definition(obj, strict=True).name
            _TYPE_NAMES[type(obj)] = name
        return name

    # Sync resolvers handing back the loader's future: graphql-core awaits it directly,
    # with no coroutine per record (a page has fifty of each).
    @strawberry.field(
        metadata=PUBLIC,
        description="The region it happened in (所属区划).",
        graphql_type=Region | None,
    )
    @rereadable
    def region(self, info: Info) -> Region | Awaitable[Region | None] | None:
        if self.region_code is None:
            return None
        return loaded_or_load(info.context.loaders.region, self.region_code)

    @strawberry.field(
        metadata=PUBLIC,
        description=(
            "Title (标题). The source's own title names parties and places, so roles that "
            "may not read both parties and free text get category and region instead, "
            "e.g. 房屋宅基地纠纷 · 湖滨区."
        ),
        graphql_type=str,
    )
    @rereadable
    def title(self, info: Info) -> str | Awaitable[str]:
        return shown_title(info, self.source_title, self.category, self.region_code)

    @strawberry.field(
        metadata=PERSONAL,
        description="The parties the source names, in its order (当事人).",
        graphql_type=list[Party],
    )
    @rereadable
    def parties(self, info: Info) -> list[Party] | Awaitable[list[Party]]:
        security = info.context.security
        if security.principal is None or not security.principal.policy.parties:
            raise Forbidden("This role may not read parties.")
        security.pii_record_ids.add(self.record_id)  # personal data returned: audited
        return loaded_or_load(info.context.loaders.parties, self.record_id)

    @strawberry.field(
        metadata=PUBLIC,
        description=(
            "Its risk grade with the rules that fired and their evidence (风险研判); null until "
            "graded. riskLevel is its level."
        ),
    )
    async def risk_assessment(self, info: Info) -> RiskAssessment | None:
        return await info.context.loaders.record_risk.load(self.record_id)

    @strawberry.field(
        metadata=PUBLIC,
        description="Records in other systems on the same matter or people, both ways (关联记录).",
    )
    async def linked_records(self, info: Info) -> list[LinkedRecord]:
        return await info.context.loaders.links.load(self.record_id)


async def _titled(category: DisputeCategory, region: Awaitable[Region | None]) -> str:
    loaded = await region
    return redacted_title(category, loaded.name if loaded else None)


def shown_title(
    info: Info, source_title: str, category: DisputeCategory, region_code: str | None
) -> str | Awaitable[str]:
    """The title a reader is shown of something titled as its source (a record, a record on
    the open risk list, a matter): the source's own only to roles reading parties and free
    text, else category and region (``domain.titles``).

    The string itself unless the region must still be loaded, so a resolver returning it
    stays synchronous (``rereadable``) and compiled readers read it in place; the awaitable
    is a future, not a coroutine, as a rereadable resolver may be called twice."""
    principal = info.context.security.principal
    if reads_source_title(principal.policy if principal else None):
        return source_title
    if region_code is None:
        return redacted_title(category, None)
    region = loaded_or_load(info.context.loaders.region, region_code)
    if isinstance(region, Region) or region is None:
        return redacted_title(category, region.name if region else None)
    return asyncio.ensure_future(_titled(category, region))


@strawberry.type(description="A link from this record to another (关联), with its evidence.")
class LinkedRecord:
    direction: LinkDirection = strawberry.field(
        metadata=PUBLIC, description="Which way it points (关联方向)."
    )
    link_kind: str = strawberry.field(metadata=PUBLIC, description="What kind of link (关联类型).")
    confidence: float = strawberry.field(metadata=PUBLIC, description="Confidence 0–1 (置信度).")
    evidence: JSON = strawberry.field(
        metadata=PUBLIC, description="Why they were linked (关联依据)."
    )
    decision: str | None = strawberry.field(
        metadata=PUBLIC,
        description="Staff decision: CONFIRMED or REJECTED; null while undecided (人工确认).",
    )
    other_record_id: strawberry.Private[int]

    @strawberry.field(
        metadata=PUBLIC, description="The record at the other end (对方记录); null if withdrawn."
    )
    async def record(self, info: Info) -> Record | None:
        return await info.context.loaders.record.load(self.other_record_id)
