"""Who acts on a matter (操作主体), derived from the caller's role.

Centre staff (综治中心) run the loop within their jurisdiction (辖区); a partner organisation
acts only on matters dispatched to it (its ``org`` claim); the system records what synced
source records and the deadline scanner report. Every role is listed in
:data:`ACTOR_KIND_OF_ROLE`; a role mapped to None (dashboards, auditors) may do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.roles import Principal, Role
from domain.workflow.vocabulary import ActorKind

ACTOR_KIND_OF_ROLE: dict[Role, ActorKind | None] = {
    Role.ADMIN: ActorKind.CENTRE_STAFF,
    Role.CENTER_STAFF: ActorKind.CENTRE_STAFF,
    Role.MEDIATOR: ActorKind.PARTNER,
    Role.PARTNER_POLICE: ActorKind.PARTNER,
    Role.PARTNER_COURT: ActorKind.PARTNER,
    Role.PARTNER_PETITION: ActorKind.PARTNER,
    Role.PARTNER_JUDICIAL: ActorKind.PARTNER,
    Role.DASHBOARD_VIEWER: None,
    Role.AUDITOR: None,
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The one acting: a person through their :class:`~domain.roles.Principal`, or the system."""

    kind: ActorKind | None
    sub: str
    principal: Principal | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(ACTOR_KIND_OF_ROLE[principal.role], principal.sub, principal)

    @classmethod
    def system(cls, name: str) -> Actor:
        """The hub itself, e.g. ``Actor.system("sync:MEDIATION")`` or ``"deadline-scanner"``."""
        return cls(ActorKind.SYSTEM, f"system:{name}")

    @property
    def role(self) -> Role | None:
        return self.principal.role if self.principal else None

    @property
    def org(self) -> str:
        return self.principal.org if self.principal else ""

    def covers(self, region_code: str | None) -> bool:
        """Whether the region lies within this actor's jurisdiction (the one rule, on
        :class:`~domain.roles.Principal`); the system covers everything."""
        if self.kind is ActorKind.SYSTEM:
            return True
        return self.principal is not None and self.principal.covers(region_code)

    def belongs_to(self, org: str | None) -> bool:
        """Whether this actor speaks for organisation ``org``."""
        return bool(org) and self.org == org
