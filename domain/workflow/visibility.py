"""Which matters a principal sees (事项可见范围): the one rule, with its SQL translation in
:func:`db.matters.matter_scope_conditions` and used as is on events (subscriptions).

Centre staff see the matters within their jurisdiction (辖区, the same division-code rule as
records; admin also those without a region); a partner organisation sees only the matters
dispatched to it (its ``org`` claim), wherever they lie; dashboards and auditors see none.
A matter outside the scope does not exist for the principal (``NOT_FOUND``).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.roles import Principal
from domain.scope import RecordScope
from domain.workflow.actors import Actor
from domain.workflow.vocabulary import ActorKind


@dataclass(frozen=True, slots=True)
class MatterScope:
    """``places``: the jurisdiction (None: not limited by place); ``org``: only matters
    dispatched to it (None: any); ``nothing``: no matter at all."""

    places: RecordScope | None
    org: str | None = None
    nothing: bool = False

    @classmethod
    def of(cls, principal: Principal | None) -> MatterScope:
        actor = Actor.of(principal) if principal is not None else None
        if actor is None or actor.kind is None:
            return NO_MATTERS
        assert principal is not None
        if actor.kind is ActorKind.PARTNER:
            return cls(places=None, org=principal.org) if principal.org else NO_MATTERS
        return cls(places=principal.scope)

    @classmethod
    def for_figures(cls, principal: Principal | None) -> MatterScope:
        """The matters a principal's figures are counted over (统计范围): a partner's those
        dispatched to its organisation; anyone else's those in their jurisdiction, roles that
        read no matter (dashboards) included — they get figures, never a matter."""
        if principal is None:
            return NO_MATTERS
        actor = Actor.of(principal)
        if actor.kind is ActorKind.PARTNER:
            return cls(places=None, org=principal.org) if principal.org else NO_MATTERS
        return cls(places=principal.scope)

    def admits(self, region_code: str | None, assigned_org: str | None) -> bool:
        if self.nothing:
            return False
        if self.org is not None and assigned_org != self.org:
            return False
        return self.places is None or self.places.covers(region_code)


NO_MATTERS = MatterScope(places=None, nothing=True)
ALL_MATTERS = MatterScope(places=None)
