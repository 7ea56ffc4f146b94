"""Matters as clients read them (事项): the matter, its records, parties, timeline, clocks and
supervision orders. Each type maps itself from its row (``from_row``).

Every field declares what it reveals (``schema.sensitivity``): ``MATTERS`` for the matter's
own facts (roles with the ``matters`` right), ``FREE_TEXT`` for summaries and notes,
``PERSONAL``/``IDENTIFIER`` for parties, masked like every identifier. Which matters a
principal reaches (jurisdiction, own organisation) is decided in SQL by the resolvers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Sequence
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from strawberry import relay

import schema.matter_enums  # noqa: F401  # registers the loop's enums before the types use them
from db.matters import clock_of
from db.models import ClockRow, Matter, MatterEvent, SealedParty, Supervision
from domain.calendar import ChineseWorkingCalendar, WorkingCalendar
from domain.deadlines import ClockState, RuleBook, load_rules
from domain.enums import CaseStatus, DisputeCategory, PartyRole, RiskLevel
from domain.events import MatterEventKind
from domain.supervision import SupervisionStatus, escalated
from domain.validators import mask_phone, mask_resident_id
from domain.workflow.actors import Actor
from domain.workflow.machine import may_extend
from domain.workflow.timeline import cited_record_ids, redact_entry
from domain.workflow.vocabulary import (
    ActorKind,
    ComplexityTier,
    DispatchTrack,
    MatterOrigin,
    MatterOutcome,
    MatterStep,
    Satisfaction,
    SupervisionLevel,
)
from schema.context import Info
from schema.fastpath.marks import rereadable
from schema.ids import global_id
from schema.persons import ID_NUMBER_DESCRIPTION, PHONE_DESCRIPTION, _opened
from schema.records import Record, shown_title
from schema.regions import Region
from schema.risk import RiskAssessment
from schema.sensitivity import (
    FREE_TEXT,
    IDENTIFIER,
    MATTERS,
    PERSONAL,
    guarded_type,
    personal_type,
)
from schema.writeback import MatterWriteBack

MATTER_TYPE_NAME = "Matter"
SUPERVISION_TYPE_NAME = "SupervisionOrder"
_DEFAULTS: tuple[RuleBook, WorkingCalendar] | None = None


def _rules_and_calendar(info: Info) -> tuple[RuleBook, WorkingCalendar, datetime]:
    """The running service's rules, calendar and clock; the shipped defaults in-process."""
    global _DEFAULTS  # built once, on first use outside the server
    workflow = info.context.workflow
    if workflow is not None:
        return workflow.rules, workflow.calendar, workflow.now()
    if _DEFAULTS is None:
        _DEFAULTS = (load_rules(), ChineseWorkingCalendar())
    return _DEFAULTS[0], _DEFAULTS[1], datetime.now(UTC)


@guarded_type
@strawberry.type(description="A detail of a timeline entry: a code or an id (办理记录明细).")
class Detail:
    key: str = strawberry.field(metadata=MATTERS, description="What it is (明细项).")
    value: str = strawberry.field(metadata=MATTERS, description="Its value (明细值).")


@guarded_type
@strawberry.type(description="One entry of a matter's append-only timeline (办理记录).")
class MatterTimelineEntry:
    action: str = strawberry.field(
        metadata=MATTERS,
        description=(
            "What was done (操作): a MatterAction (OPEN, ASSESS, DISPATCH…), a supervision "
            "action (ISSUE_SUPERVISION…), RECORD_JOINED, or the scanner's WARNING / OVERDUE."
        ),
    )
    at: datetime = strawberry.field(metadata=MATTERS, description="When (操作时间).")
    actor_kind: ActorKind = strawberry.field(metadata=MATTERS, description="Who (操作主体).")
    actor: str = strawberry.field(
        metadata=MATTERS, description="The actor's token subject, or system:… (操作人)."
    )
    actor_role: str | None = strawberry.field(metadata=MATTERS, description="Role (角色).")
    actor_org: str = strawberry.field(metadata=MATTERS, description="Organisation (所属单位).")
    from_step: MatterStep | None = strawberry.field(
        metadata=MATTERS, description="Step before (原环节)."
    )
    to_step: MatterStep | None = strawberry.field(
        metadata=MATTERS, description="Step after (新环节)."
    )
    note: str = strawberry.field(metadata=FREE_TEXT, description="Note or reason (备注/理由).")
    details: list[Detail] = strawberry.field(
        metadata=MATTERS,
        description=(
            "Codes and ids (org, track, rule, record…) (明细); a record you may not read "
            "shows as 辖区外记录, its kind too, and a row about it or written by the hub "
            "citing it has no note."
        ),
    )

    @classmethod
    def from_row(
        cls, row: MatterEvent, visible_records: Collection[int]
    ) -> MatterTimelineEntry:
        """The row as a reader sees it: records it names that they may not read shown as
        辖区外记录 (``domain.workflow.timeline``)."""
        note, details = redact_entry(
            row.note, row.details or {}, visible_records.__contains__,
            automatic=row.actor_kind is ActorKind.SYSTEM,
        )
        return cls(
            action=row.action, at=row.at, actor_kind=row.actor_kind, actor=row.actor_sub,
            actor_role=row.actor_role, actor_org=row.actor_org, from_step=row.from_step,
            to_step=row.to_step, note=note,
            details=[Detail(key=k, value=v) for k, v in sorted(details.items())],
        )  # fmt: skip


async def _timeline_entries(info: Info, rows: Sequence[MatterEvent]) -> list[MatterTimelineEntry]:
    """Timeline rows for this reader: the records they name are read through the record
    loader, within the reader's record scope, and only those it returns are shown."""
    cited = sorted(cited_record_ids(row.details or {} for row in rows))
    found = await info.context.loaders.record.load_many(cited) if cited else []
    visible = {record_id for record_id, record in zip(cited, found, strict=True) if record}
    return [MatterTimelineEntry.from_row(row, visible) for row in rows]


@guarded_type
@strawberry.type(
    description=(
        "A clock (计时器): a rule's budget and its ledger; due, state and remaining are "
        "derived now, so suspension, extension or a calendar change recompute them."
    )
)
class MatterClock:
    rule_id: str = strawberry.field(metadata=MATTERS, description="Rule id (时限规则编号).")
    rule_name: str = strawberry.field(metadata=MATTERS, description="Rule name (时限名称).")
    legal_basis: str = strawberry.field(metadata=MATTERS, description="Legal basis (依据).")
    budget: int = strawberry.field(metadata=MATTERS, description="Budget (时限).")
    unit: str = strawberry.field(
        metadata=MATTERS,
        description="calendar_day, working_day, working_hour or hour (计算单位).",
    )
    extended: int = strawberry.field(metadata=MATTERS, description="Extension granted (已延期).")
    started_at: datetime = strawberry.field(metadata=MATTERS, description="Started (起算时间).")
    stopped_at: datetime | None = strawberry.field(
        metadata=MATTERS, description="Stopped (停止时间)."
    )
    due_at: datetime | None = strawberry.field(
        metadata=MATTERS, description="Due; null while suspended (到期时间)."
    )
    state: ClockState = strawberry.field(metadata=MATTERS, description="State (计时状态).")
    remaining_seconds: int = strawberry.field(
        metadata=MATTERS,
        description=(
            "Counted time left in the clock's own counting, negative once overdue (剩余时间, 秒)."
        ),
    )
    provisional: bool = strawberry.field(
        metadata=MATTERS,
        description="Rests on days past the published holiday schedule (暂定, 待节假日数据).",
    )
    met: bool | None = strawberry.field(
        metadata=MATTERS, description="For a stopped clock: stopped in time (是否按期)."
    )
    supervision_order_id: strawberry.ID | None = strawberry.field(
        metadata=MATTERS, description="The 督办单 this clock belongs to (所属督办单)."
    )
    extendable: bool = strawberry.field(
        metadata=MATTERS,
        description=(
            "Whether the reader may extend it now (可延期): running and not yet due, its rule"
            " allows an extension with some left, and for a partner, a limit of its own."
        ),
    )

    @classmethod
    def from_row(
        cls, row: ClockRow, rules: RuleBook, calendar: WorkingCalendar, now: datetime,
        reader: ActorKind | None = None,
    ) -> MatterClock:
        clock = clock_of(row)
        reading = clock.read(calendar, now)
        rule = rules.rules.get(row.rule_id)
        running = row.stopped_at is None and (reading.due_at is None or now < reading.due_at)
        extendable = (
            running and rule is not None and reader is not None
            and may_extend(rule, reader, clock.extended)
        )
        return cls(
            rule_id=row.rule_id, rule_name=rule.name if rule else row.rule_id,
            legal_basis=rule.basis if rule else "", budget=row.budget, unit=row.unit,
            extended=clock.extended, started_at=row.started_at, stopped_at=row.stopped_at,
            due_at=reading.due_at, state=reading.state,
            remaining_seconds=int(reading.remaining.total_seconds()),
            provisional=reading.provisional, met=reading.met,
            supervision_order_id=(
                global_id(SUPERVISION_TYPE_NAME, row.supervision_id)
                if row.supervision_id is not None else None
            ),
            extendable=extendable,
        )  # fmt: skip


@guarded_type
@strawberry.type(description="A supervision order on a matter (督办单).")
class SupervisionOrder:
    id: strawberry.ID = strawberry.field(
        metadata=MATTERS, description="Global id (全局 ID): base64 of `SupervisionOrder:n`."
    )
    level: SupervisionLevel = strawberry.field(metadata=MATTERS, description="Level (督办等级).")
    target_org: str = strawberry.field(metadata=MATTERS, description="Target (被督办单位).")
    issuing_region: str | None = strawberry.field(
        metadata=MATTERS, description="Issuing centre's region (督办主体区划)."
    )
    reason: str = strawberry.field(metadata=FREE_TEXT, description="Reason (督办事由).")
    issued_at: datetime = strawberry.field(metadata=MATTERS, description="Issued (下发时间).")
    automatic: bool = strawberry.field(
        metadata=MATTERS, description="Issued by the scanner on breach (自动督办)."
    )
    breach_rule_id: str | None = strawberry.field(
        metadata=MATTERS, description="The breached rule (逾期时限)."
    )
    status: SupervisionStatus = strawberry.field(metadata=MATTERS, description="Status (状态).")
    reply: str = strawberry.field(metadata=FREE_TEXT, description="Reply (督办回复).")
    version: int = strawberry.field(
        metadata=MATTERS, description="Version for optimistic concurrency (版本号)."
    )
    escalatable: bool = strawberry.field(
        metadata=MATTERS,
        description=(
            "Whether 督办升级 still raises its level or issuing region (可升级); false for "
            "挂牌督办 issued by a province or by no region, which escalates no further."
        ),
    )

    @classmethod
    def from_row(cls, row: Supervision) -> SupervisionOrder:
        return cls(
            id=global_id(SUPERVISION_TYPE_NAME, row.id), level=row.level,
            target_org=row.target_org, issuing_region=row.issuing_region, reason=row.reason,
            issued_at=row.issued_at, automatic=row.automatic,
            breach_rule_id=row.breach_rule_id, status=SupervisionStatus(row.status),
            reply=row.reply, version=row.version,
            escalatable=escalated(row.level, row.issuing_region) is not None,
        )  # fmt: skip


@personal_type
@strawberry.type(description="A party registered at intake (来访/来电当事人).")
class MatterParty:
    role: PartyRole = strawberry.field(metadata=PERSONAL, description="Role (当事人角色).")
    name: str = strawberry.field(metadata=PERSONAL, description="Name (姓名).")
    sealed_id_number: strawberry.Private[str | None]
    sealed_phone: strawberry.Private[str | None]
    """Still sealed, as stored: opened only when selected (``_opened``)."""

    @classmethod
    def from_row(cls, row: SealedParty) -> MatterParty:
        return cls(role=PartyRole(row.role), name=row.name,
                   sealed_id_number=row.sealed_id_number, sealed_phone=row.sealed_phone)

    @strawberry.field(metadata=IDENTIFIER, description=ID_NUMBER_DESCRIPTION)
    def id_number(self, info: Info) -> str | None:
        return _opened(info, self.sealed_id_number, mask_resident_id)

    @strawberry.field(metadata=IDENTIFIER, description=PHONE_DESCRIPTION)
    def phone(self, info: Info) -> str | None:
        return _opened(info, self.sealed_phone, mask_phone)


@guarded_type
@strawberry.type(
    name="Matter",
    description=(
        "A matter the centre works on through the loop (事项): 登记受理 → 研判 → 分流 → 处置 → "
        "反馈 → 核查 → 结案 → 回访."
    )
)
class MatterNode(relay.Node):
    id: strawberry.ID = strawberry.field(
        metadata=MATTERS, description="Global id (全局 ID): base64 of `Matter:number`."
    )
    matter_id: relay.NodeID[int]
    number: str = strawberry.field(
        metadata=MATTERS, description="Matter number, region-year-sequence (一案一码)."
    )
    source_title: strawberry.Private[str]
    summary: str | None = strawberry.field(metadata=FREE_TEXT, description="Summary (简要情况).")
    origin: MatterOrigin = strawberry.field(metadata=MATTERS, description="Came in as (来源).")
    category: DisputeCategory = strawberry.field(metadata=MATTERS, description="Category (类别).")
    region_code: str | None = strawberry.field(
        metadata=MATTERS, description="Region code (区划代码)."
    )
    risk: RiskLevel = strawberry.field(
        metadata=MATTERS,
        description=(
            "Risk level set by staff at 研判 (研判环节风险等级); the graded level, over the "
            "matter's records, breaches and 督办, is riskAssessment.level."
        ),
    )
    tier: ComplexityTier | None = strawberry.field(
        metadata=MATTERS, description="Complexity (复杂程度)."
    )
    lead_org: str | None = strawberry.field(metadata=MATTERS, description="Lead (牵头单位).")
    assigned_org: str | None = strawberry.field(
        metadata=MATTERS, description="Dispatched to (承办单位)."
    )
    track: DispatchTrack | None = strawberry.field(
        metadata=MATTERS, description="Procedure (处置途径)."
    )
    step: MatterStep = strawberry.field(metadata=MATTERS, description="Step (当前环节).")
    status: CaseStatus = strawberry.field(metadata=MATTERS, description="Status (案件状态).")
    result: CaseStatus | None = strawberry.field(
        metadata=MATTERS, description="Last feedback result (反馈结果)."
    )
    outcome: MatterOutcome | None = strawberry.field(
        metadata=MATTERS, description="Closed as (结案方式)."
    )
    satisfaction: Satisfaction | None = strawberry.field(
        metadata=MATTERS, description="Revisit verdict (回访满意度)."
    )
    suspended: bool = strawberry.field(metadata=MATTERS, description="Suspended (已挂起).")
    version: int = strawberry.field(
        metadata=MATTERS,
        description="Version; pass it as expectedVersion so a stale action gets CONFLICT (版本号).",
    )
    opened_at: datetime = strawberry.field(metadata=MATTERS, description="Registered (登记时间).")
    updated_at: datetime = strawberry.field(metadata=MATTERS, description="Last acted (更新时间).")
    closed_at: datetime | None = strawberry.field(
        metadata=MATTERS, description="Closed (结案时间)."
    )
    due_at: datetime | None = strawberry.field(
        metadata=MATTERS,
        description="The earliest due instant among the running clocks (最近到期时间).",
    )

    @classmethod
    def from_row(cls, row: Matter, due_at: datetime | None = None) -> MatterNode:
        return cls(
            id=global_id(MATTER_TYPE_NAME, row.id), matter_id=row.id, number=row.number,
            source_title=row.title, summary=row.summary, origin=row.origin, category=row.category,
            region_code=row.region_code, risk=row.risk, tier=row.tier, lead_org=row.lead_org,
            assigned_org=row.assigned_org, track=row.track, step=row.step, status=row.status,
            result=row.result, outcome=row.outcome, satisfaction=row.satisfaction,
            suspended=row.suspended, version=row.version, opened_at=row.opened_at,
            updated_at=row.updated_at, closed_at=row.closed_at, due_at=due_at,
        )  # fmt: skip

    @strawberry.field(
        metadata=MATTERS,
        description=(
            "Title (事项标题): its source's, or as staff typed it, which names the parties or "
            "the place; roles that may not read both parties and free text get category and "
            "region instead, as on records (邻里纠纷 · 湖滨区)."
        ),
        graphql_type=str,
    )
    @rereadable
    def title(self, info: Info) -> str | Awaitable[str]:
        return shown_title(info, self.source_title, self.category, self.region_code)

    @strawberry.field(
        metadata=MATTERS, description="A running clock is past due now (已逾期)."
    )
    def overdue(self, info: Info) -> bool:
        return self.due_at is not None and self.due_at <= _rules_and_calendar(info)[2]

    @strawberry.field(
        metadata=MATTERS,
        description=(
            "Its risk grade (事项风险研判) over its records' facts and its own (clocks breached, "
            "督办), with the rules that fired; evidence names only records you read. Null "
            "until graded."
        ),
    )
    async def risk_assessment(self, info: Info) -> RiskAssessment | None:
        return await info.context.loaders.matter_risk.load(self.matter_id)

    @strawberry.field(metadata=MATTERS, description="Region (行政区划).")
    async def region(self, info: Info) -> Region | None:
        if self.region_code is None:
            return None
        return await info.context.loaders.region.load(self.region_code)

    @strawberry.field(
        metadata=MATTERS,
        description=(
            "The matter's records (关联记录): the one that opened it, linked and attached ones; "
            "only those of kinds and places you read."
        ),
    )
    async def records(
        self, info: Info
    ) -> list[Record]:
        ids = await info.context.loaders.matters.record_ids.load(self.matter_id)
        records = await info.context.loaders.record.load_many(ids)
        return [r for r in records if r is not None]

    @strawberry.field(metadata=PERSONAL, description="Parties registered at intake (当事人).")
    async def parties(self, info: Info) -> list[MatterParty]:
        info.context.security.pii_matter_ids.add(self.matter_id)  # personal data: audited
        rows = await info.context.loaders.matters.parties.load(self.matter_id)
        return [MatterParty.from_row(row) for row in rows]

    @strawberry.field(metadata=MATTERS, description="Timeline, oldest first (办理记录).")
    async def timeline(self, info: Info) -> list[MatterTimelineEntry]:
        rows = await info.context.loaders.matters.events.load(self.matter_id)
        return await _timeline_entries(info, rows)

    @strawberry.field(
        metadata=MATTERS,
        description="Revisits, oldest first: verdict in details.satisfaction, note (回访记录).",
    )
    async def revisits(self, info: Info) -> list[MatterTimelineEntry]:
        rows = await info.context.loaders.matters.events.load(self.matter_id)
        return await _timeline_entries(info, [r for r in rows if r.action == "REVISIT"])

    @strawberry.field(
        metadata=MATTERS, description="Clocks, running ones first, then by start (时限)."
    )
    async def clocks(
        self,
        info: Info,
        running_only: Annotated[
            bool, strawberry.argument(description="Only running clocks (仅计时中).")
        ] = False,
    ) -> list[MatterClock]:
        rules, calendar, now = _rules_and_calendar(info)
        rows = await info.context.loaders.matters.clocks.load(self.matter_id)
        if running_only:
            rows = [r for r in rows if r.stopped_at is None]
        rows = sorted(rows, key=lambda r: (r.stopped_at is not None, r.id))
        principal = info.context.security.principal
        reader = Actor.of(principal).kind if principal is not None else None
        return [MatterClock.from_row(r, rules, calendar, now, reader) for r in rows]

    @strawberry.field(metadata=MATTERS, description="Supervision orders (督办单).")
    async def supervisions(self, info: Info) -> list[SupervisionOrder]:
        rows = await info.context.loaders.matters.supervisions.load(self.matter_id)
        return [SupervisionOrder.from_row(r) for r in rows]

    @strawberry.field(
        metadata=MATTERS,
        description=(
            "Write-backs to the departments' own systems, oldest first (回写状态): the dispatch's "
            "filing, referral or 交办; the result, once verified (核查), to 110 / 信访 / 网格."
        ),
    )
    async def writebacks(self, info: Info) -> list[MatterWriteBack]:
        rows = await info.context.loaders.matters.writebacks.load(self.number)
        return [MatterWriteBack.from_row(r) for r in rows]


@strawberry.type(
    description=(
        "A matter event as a subscriber receives it (事项事件): ids and codes only; read the "
        "matter with `matter(id)`."
    )
)
class MatterEventNotice:
    matter_id: strawberry.ID = strawberry.field(description="The matter's global id (事项 ID).")
    kind: MatterEventKind = strawberry.field(description="What happened (事件类型).")
    step: str = strawberry.field(description="The matter's step then (当时环节).")
    region_code: str | None = strawberry.field(description="Region code (区划代码).")
    detail: str = strawberry.field(
        description="The action, rung (rule:rung) or level, as a code (事件明细)."
    )
    at: datetime = strawberry.field(description="When (时间).")
