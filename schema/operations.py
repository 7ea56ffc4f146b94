"""Who is asking (当前用户) and the hub's own deliveries as an administrator runs them
(同步与运维): dead letters and the write-back backlog, and what replaying or retrying did."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db.models import DeadLetter
from domain.enums import SourceSystem
from domain.roles import ConsolePage, Principal, RolePolicy, console_pages
from domain.validators import division_of_prefix
from domain.writeback import WriteState
from schema.context import Info
from schema.regions import Region, region_of
from schema.writeback import WriteBack

strawberry.enum(
    ConsolePage,
    description=(
        "A page of the staff console (工作台页面): WORKLIST 工作台, RECORDS 记录, PERSONS 人员, "
        "INTAKE 登记, DASHBOARD 综合态势, RISK 风险预警, SYNC 同步与运维, AUDIT 审计日志."
    ),
)

_RIGHTS = ("parties", "free_text", "matters", "operations", "administration", "audit_log")


def _rights(policy: RolePolicy) -> list[str]:
    """Figures and records need a kind to read; the other rights stand as the policy says."""
    reads = ["figures"] + (["records"] if policy.records else []) if policy.kinds else []
    return reads + [right for right in _RIGHTS if getattr(policy, right)]


@strawberry.type(description="The caller as the hub sees it (当前用户): role, scope and rights.")
class Viewer:
    principal: str = strawberry.field(description="Subject of the token (访问主体).")
    name: str = strawberry.field(description="Display name (姓名).")
    role: str = strawberry.field(description="Role (角色).")
    org: str = strawberry.field(description="Organisation; empty for none (所属单位).")
    regions: list[str] = strawberry.field(description="Jurisdiction division codes (辖区代码).")
    scopes: list[str] = strawberry.field(description="Token scopes, e.g. pii:read (授权范围).")
    rights: list[str] = strawberry.field(
        description=(
            "What the role policy allows beyond single mutations (角色权限): figures, records, "
            "parties, free_text, matters, operations, administration, audit_log."
        )
    )
    mutations: list[str] = strawberry.field(description="Mutations the role may call (可用操作).")
    menu: list[ConsolePage] = strawberry.field(
        description="The console pages the role policy gives, in menu order (菜单)."
    )
    expires_at: datetime | None = strawberry.field(description="Token expiry (令牌到期时间).")

    @strawberry.field(description="The jurisdiction's regions, by code (辖区).")
    async def jurisdiction(self, info: Info) -> list[Region]:
        # the token's regions are prefixes ("41" for 河南省): each names its division's code
        found = [await region_of(info, division_of_prefix(code)) for code in self.regions]
        return [region for region in found if region is not None]

    @classmethod
    def from_principal(cls, principal: Principal) -> Viewer:
        policy = principal.policy
        return cls(
            principal=principal.sub, name=principal.name, role=principal.role.value,
            org=principal.org, regions=list(principal.regions), scopes=sorted(principal.scopes),
            rights=_rights(policy),
            mutations=sorted(policy.mutations), menu=list(console_pages(policy)),
            expires_at=datetime.fromtimestamp(principal.expires_at).astimezone()
            if principal.expires_at is not None else None,
        )  # fmt: skip


@strawberry.type(description="A source record set aside because it could not be ingested (死信).")
class DeadLetterEntry:
    id: int = strawberry.field(description="Dead letter id (死信编号).")
    source: SourceSystem = strawberry.field(description="Source system (来源系统).")
    source_key: str | None = strawberry.field(description="The source's key, if read (来源编号).")
    error_code: str = strawberry.field(description="Why, as a code, e.g. BAD_ID (错误码).")
    reason: str = strawberry.field(description="Why, in words; no personal data (原因).")
    attempts: int = strawberry.field(description="Times received or replayed (处理次数).")
    received_at: datetime = strawberry.field(description="First received (接收时间).")
    last_seen_at: datetime = strawberry.field(description="Last received or replayed (最近处理).")
    resolved_at: datetime | None = strawberry.field(description="Ingested at last (已解决时间).")

    @classmethod
    def from_row(cls, row: DeadLetter) -> DeadLetterEntry:
        return cls(
            id=row.id, source=row.source, source_key=row.source_key, error_code=row.error_code,
            reason=row.reason, attempts=row.attempts, received_at=row.first_seen_at,
            last_seen_at=row.last_seen_at, resolved_at=row.resolved_at,
        )  # fmt: skip


@strawberry.type(description="Write-backs of one state (按状态计数).")
class WriteBackStateCount:
    state: WriteState = strawberry.field(description="State (回写状态).")
    count: int = strawberry.field(description="Rows (条数).")


@strawberry.type(description="The outbox towards one target system (回写积压).")
class WriteBackBacklog:
    target: SourceSystem = strawberry.field(description="Target system (目标系统).")
    states: list[WriteBackStateCount] = strawberry.field(description="Rows per state (各状态).")
    oldest_open_seconds: float = strawberry.field(
        description="Age of the oldest write not yet settled, in seconds (最久待办秒数)."
    )
    open: list[WriteBack] = strawberry.field(
        description=(
            "Writes not settled (PENDING, SENDING, UNKNOWN, FAILED, DEAD) or cancelled (they "
            "may be retried), oldest first, with attempts and last error (未完成回写)."
        )
    )


@strawberry.type(description="What replaying a dead letter did (死信重放结果).")
class DeadLetterReplay:
    letter: DeadLetterEntry = strawberry.field(description="The dead letter now (死信).")
    ingested: bool = strawberry.field(description="Parsed and stored this time (已入库).")


@strawberry.type(description="What retrying or cancelling a write-back did (回写处理结果).")
class WriteBackChange:
    write_back: WriteBack = strawberry.field(description="The write-back now (回写记录).")
    changed: bool = strawberry.field(
        description="False when its state allowed no such change, e.g. already sent (已变更)."
    )
