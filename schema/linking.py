"""Linking as clients read and decide it (关联): linked records, timelines, decision results.

Expected failures of a staff decision are part of the schema: each mutation answers a union of
its success payload and :class:`LinkDecisionError`, whose ``code`` is the domain's
(``domain.linking.errors``) one to one. Refusals by role stay GraphQL errors (``FORBIDDEN``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.enums import PartyRole, RecordKind
from domain.linking.errors import LinkingError, LinkingErrorCode
from schema.context import Info
from schema.persons import Person
from schema.records import LinkedRecord, Record
from schema.sensitivity import PERSONAL, personal_type

LINK_TYPE_NAME = "Link"
MENTION_TYPE_NAME = "PartyMention"

strawberry.enum(
    LinkingErrorCode,
    name="LinkDecisionErrorCode",
    description=(
        "Why a staff decision was not applied (研判错误码): NOT_FOUND 不存在或不在辖区, "
        "BAD_USER_INPUT 请求有误, CONFLICT 与现有状态冲突."
    ),
)


@strawberry.type(
    description=(
        "A record linked to the one asked about (关联记录), with the link's own global id "
        "for confirmLink / rejectLink."
    )
)
class RecordLink(LinkedRecord):
    id: strawberry.ID = strawberry.field(
        description="The link's global id (关联 ID): base64 of `Link:number`."
    )


@personal_type
@strawberry.type(description="One record of a person's timeline (人员时间线条目).")
class TimelineEntry:
    occurred_at: datetime = strawberry.field(
        metadata=PERSONAL, description="When it happened (发生时间)."
    )
    kind: RecordKind = strawberry.field(metadata=PERSONAL, description="Record kind (记录类型).")
    roles: list[PartyRole] = strawberry.field(
        metadata=PERSONAL,
        description="The parts the person plays in it, in the source's order (当事人角色).",
    )
    mention_ids: list[strawberry.ID] = strawberry.field(
        metadata=PERSONAL,
        description=(
            "Global ids of the person's mentions in it (当事人提及 ID), base64 of "
            "`PartyMention:number`: what splitPerson moves to a new person."
        ),
    )
    record: Record = strawberry.field(metadata=PERSONAL, description="The record itself (记录).")


@strawberry.type(description="A link after a staff decision (已研判关联).")
class LinkDecided:
    id: strawberry.ID = strawberry.field(description="The link's global id (关联 ID).")
    link_kind: str = strawberry.field(description="What kind of link (关联类型).")
    decision: str = strawberry.field(description="CONFIRMED or REJECTED (研判结论).")
    decided_by: str = strawberry.field(description="Subject of the decider's token (研判人).")
    decided_at: datetime = strawberry.field(description="When it was decided (研判时间).")
    from_record_id: strawberry.Private[int]
    to_record_id: strawberry.Private[int]

    @strawberry.field(description="The record the link points from (源记录).")
    async def from_record(self, info: Info) -> Record | None:
        return await info.context.loaders.record.load(self.from_record_id)

    @strawberry.field(description="The record the link points to (目标记录).")
    async def to_record(self, info: Info) -> Record | None:
        return await info.context.loaders.record.load(self.to_record_id)


@strawberry.type(description="Persons merged (合并人员结果): the one kept answers for them all.")
class PersonsMerged:
    person: Person = strawberry.field(metadata=PERSONAL, description="The person kept (保留人员).")


@strawberry.type(description="A person split (拆分人员结果): the mentions moved to a new person.")
class PersonSplit:
    person: Person = strawberry.field(metadata=PERSONAL, description="The person split (原人员).")
    split_off: Person = strawberry.field(
        metadata=PERSONAL, description="The new person (新建人员)."
    )


@strawberry.type(description="A staff decision that was not applied, and why (研判失败).")
class LinkDecisionError:
    code: LinkingErrorCode = strawberry.field(description="What went wrong (错误码).")
    message: str = strawberry.field(description="For people; names ids and states only (错误说明).")

    @classmethod
    def of(cls, error: LinkingError) -> LinkDecisionError:
        return cls(code=error.code, message=error.message)


LinkDecisionResult = Annotated[
    LinkDecided | LinkDecisionError,
    strawberry.union(
        "LinkDecisionResult", description="The link decided, or why not (关联研判结果)."
    ),
]
MergePersonsResult = Annotated[
    PersonsMerged | LinkDecisionError,
    strawberry.union(
        "MergePersonsResult", description="The person kept, or why not (合并人员结果)."
    ),
]
SplitPersonResult = Annotated[
    PersonSplit | LinkDecisionError,
    strawberry.union("SplitPersonResult", description="Both persons, or why not (拆分人员结果)."),
]
