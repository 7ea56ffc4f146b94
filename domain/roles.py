"""Roles (角色) and what each may read and do — data, not if-chains.

Deny by default: a role reads only the record kinds listed for it, sees parties and free text
only when allowed, and calls only the mutations listed. Jurisdiction (辖区) is separate: every
principal carries division-code prefixes and sees records beneath them only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from domain.enums import RecordKind, Role
from domain.kinds import kinds_read_by
from domain.scope import RecordScope

__all__ = ["Role"]  # re-exported: callers import the role names with the policies


@dataclass(frozen=True, slots=True)
class RolePolicy:
    parties: bool
    """May read parties (names; ID numbers and phones stay masked without ``pii:read``)."""
    free_text: bool
    """May read summaries and addresses (they often name people)."""
    mutations: frozenset[str]
    """GraphQL mutations the role may call."""
    audit_log: bool = False
    """May query the audit log."""
    operations: bool = False
    """May read the hub's delivery state: write-backs to the departments' systems."""
    administration: bool = False
    """May read dead letters and the outbox backlog, and replay, retry or cancel them (运维)."""
    records: bool = True
    """May read records themselves; without it, only figures over the kinds it reads."""
    matters: bool = False
    """May read matters (事项): staff within their jurisdiction, partners those dispatched to
    their organisation (``domain.workflow.visibility``)."""
    kinds: frozenset[RecordKind] = frozenset()
    """Record kinds the role may read: derived from the kind table's ``readers``."""


LINK_DECISIONS = frozenset({"confirmLink", "rejectLink", "mergePersons", "splitPerson"})
RISK_DECISIONS = frozenset({"overrideRiskGrade"})
STAFF_DECISIONS = LINK_DECISIONS | RISK_DECISIONS

DEV_MUTATIONS = frozenset({"devToken"})
"""Mutations any caller may use in ``GOVHUB_ENV=dev`` only, even without a token (开发令牌)."""

MATTER_PARTNER_MUTATIONS = frozenset({
    "acceptMatter", "objectMatter", "reportMatterProgress", "reportMatterResult",
    "extendMatterClock", "recordMatterFact", "replySupervision",
})  # fmt: skip
"""What a partner organisation does on a matter dispatched to it (签收、退回、反馈、回复督办)."""

MATTER_STAFF_MUTATIONS = MATTER_PARTNER_MUTATIONS | frozenset({
    "openMatter", "admitMatter", "assessMatter", "dispatchMatter", "redispatchMatter",
    "verifyMatter", "sendBackMatter", "closeMatter", "revisitMatter", "reopenMatter",
    "suspendMatter", "resumeMatter", "withdrawMatter", "superviseMatter", "closeSupervision",
    "escalateSupervision", "attachMatterRecords", "detachMatterRecords", "mergeMatters",
    "splitMatter",
})  # fmt: skip
"""The whole loop, for centre staff within their jurisdiction (the machine refuses what a
staff member may not do, e.g. 签收 for a department)."""

ADMIN_MUTATIONS = frozenset({"replayDeadLetter", "retryWriteBack", "cancelWriteBack"})
"""What an administrator does to the hub's own deliveries (同步与运维: 重放死信、重试/撤销回写)."""

_RIGHTS: dict[Role, RolePolicy] = {
    Role.ADMIN: RolePolicy(
        parties=True,
        free_text=True,
        mutations=STAFF_DECISIONS | MATTER_STAFF_MUTATIONS | ADMIN_MUTATIONS,
        matters=True,
        operations=True,
        administration=True,
    ),
    Role.CENTER_STAFF: RolePolicy(
        parties=True,
        free_text=True,
        mutations=STAFF_DECISIONS | MATTER_STAFF_MUTATIONS,
        matters=True,
        operations=True,
    ),
    Role.MEDIATOR: RolePolicy(
        parties=True, free_text=True, mutations=MATTER_PARTNER_MUTATIONS, matters=True
    ),
    Role.PARTNER_POLICE: RolePolicy(
        parties=True, free_text=True, mutations=MATTER_PARTNER_MUTATIONS, matters=True
    ),
    Role.PARTNER_COURT: RolePolicy(
        parties=True, free_text=True, mutations=MATTER_PARTNER_MUTATIONS, matters=True
    ),
    Role.PARTNER_PETITION: RolePolicy(
        parties=True, free_text=True, mutations=MATTER_PARTNER_MUTATIONS, matters=True
    ),
    Role.PARTNER_JUDICIAL: RolePolicy(
        parties=True, free_text=False, mutations=MATTER_PARTNER_MUTATIONS, matters=True
    ),
    Role.DASHBOARD_VIEWER: RolePolicy(
        parties=False, free_text=False, mutations=frozenset(), records=False
    ),
    Role.AUDITOR: RolePolicy(parties=False, free_text=False, mutations=frozenset(), audit_log=True),
}

POLICIES: dict[Role, RolePolicy] = {
    role: replace(rights, kinds=kinds_read_by(role)) for role, rights in _RIGHTS.items()
}
"""Each role's rights, with the kinds it reads taken from the kind table (domain.kinds)."""


class ConsolePage(StrEnum):
    """The staff console's pages (工作台菜单), each shown to the roles whose policy serves it."""

    WORKLIST = "WORKLIST"  # 工作台
    RECORDS = "RECORDS"  # 记录
    PERSONS = "PERSONS"  # 人员
    INTAKE = "INTAKE"  # 登记
    DASHBOARD = "DASHBOARD"  # 综合态势
    RISK = "RISK"  # 风险预警
    SYNC = "SYNC"  # 同步与运维
    AUDIT = "AUDIT"  # 审计日志


_PAGE_NEEDS: dict[ConsolePage, Callable[[RolePolicy], bool]] = {
    ConsolePage.WORKLIST: lambda p: p.matters,
    ConsolePage.RECORDS: lambda p: p.records and bool(p.kinds),
    ConsolePage.PERSONS: lambda p: p.records and p.parties and bool(p.kinds),
    ConsolePage.INTAKE: lambda p: "openMatter" in p.mutations,
    ConsolePage.DASHBOARD: lambda p: bool(p.kinds),
    ConsolePage.RISK: lambda p: p.records and bool(p.kinds),
    ConsolePage.SYNC: lambda p: p.operations,
    ConsolePage.AUDIT: lambda p: p.audit_log,
}


def console_pages(policy: RolePolicy) -> tuple[ConsolePage, ...]:
    """The console menu a policy gives, in menu order: derived, never listed per role."""
    return tuple(page for page in ConsolePage if _PAGE_NEEDS[page](policy))


PII_SCOPE = "pii:read"
"""The scope that, with a stated purpose (``X-Purpose``), unmasks ID numbers and phones."""


@dataclass(frozen=True, slots=True)
class RoleLimits:
    """How much one operation of a role may ask for (查询限额): see schema/limits.py."""

    max_page_size: int
    max_cost: int
    max_depth: int = 10


LIMITS: dict[Role, RoleLimits] = {
    Role.ADMIN: RoleLimits(max_page_size=100, max_cost=10_000),
    Role.CENTER_STAFF: RoleLimits(max_page_size=100, max_cost=10_000),
    Role.MEDIATOR: RoleLimits(max_page_size=100, max_cost=5_000),
    Role.PARTNER_POLICE: RoleLimits(max_page_size=50, max_cost=3_000, max_depth=8),
    Role.PARTNER_COURT: RoleLimits(max_page_size=50, max_cost=3_000, max_depth=8),
    Role.PARTNER_PETITION: RoleLimits(max_page_size=50, max_cost=3_000, max_depth=8),
    Role.PARTNER_JUDICIAL: RoleLimits(max_page_size=50, max_cost=3_000, max_depth=8),
    Role.DASHBOARD_VIEWER: RoleLimits(max_page_size=20, max_cost=1_000, max_depth=6),
    Role.AUDITOR: RoleLimits(max_page_size=100, max_cost=2_000, max_depth=6),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, in which role, over which jurisdiction (辖区)."""

    sub: str
    role: Role
    name: str = ""
    org: str = ""
    regions: tuple[str, ...] = ()
    """Division-code prefixes, e.g. ``("4112",)`` for all of 三门峡市; empty means none."""
    scopes: frozenset[str] = field(default_factory=frozenset)
    expires_at: float | None = None
    """The token's ``exp`` (Unix seconds): past it, the principal may do nothing more."""

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    @property
    def policy(self) -> RolePolicy:
        return POLICIES[self.role]

    @property
    def limits(self) -> RoleLimits:
        return LIMITS[self.role]

    @property
    def sees_unplaced(self) -> bool:
        """Records without a region code (区划不明) lie outside every jurisdiction but admin's."""
        return self.role is Role.ADMIN

    @property
    def scope(self) -> RecordScope:
        """The records this principal may see: its role's kinds within its regions."""
        return RecordScope(
            kinds=self.policy.kinds, region_prefixes=self.regions, unplaced=self.sees_unplaced
        )

    def covers(self, region_code: str | None) -> bool:
        return self.scope.covers(region_code)
