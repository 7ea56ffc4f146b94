"""The kind table (记录类型表): one declaration per record kind.

Every other registry of kinds is derived from :data:`KINDS` — the source each kind comes from,
the GraphQL type and list field that serve it, its Chinese label, which roles read it — in the
layer that owns it: the ORM map from each model's ``polymorphic_identity`` (``db.models``),
the GraphQL types from ``type_name`` (``schema.kinds``), the per-kind Query fields from
``list_field`` (``resolvers.root``), the access rules from both (``schema.access``), and each
role's readable kinds from ``readers`` (``domain.roles``). ``tests/unit/test_kind_table.py``
fails when a :class:`~domain.enums.RecordKind` lacks any of them.

Adding a kind, or a source of an existing kind: see docs/extending.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.enums import RecordKind, Role, SourceSystem


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One record kind and everything the rest of govhub needs to know of it."""

    kind: RecordKind
    sources: tuple[SourceSystem, ...]
    """The source systems that deliver this kind (a source delivers one kind)."""
    label: str
    """Chinese name (中文名), used in descriptions, reports and the console."""
    type_name: str
    """Its GraphQL object type, implementing ``Record``."""
    list_field: str
    """Its typed Relay connection on ``Query`` (camelCase, as the schema shows it)."""
    readers: frozenset[Role]
    """Roles that may read records of this kind (deny by default)."""


_STAFF = frozenset({Role.ADMIN, Role.CENTER_STAFF, Role.DASHBOARD_VIEWER})

KINDS: tuple[KindSpec, ...] = (
    KindSpec(
        RecordKind.DISPUTE,
        (SourceSystem.MEDIATION,),
        "矛盾纠纷/人民调解案件",
        "Dispute",
        "disputes",
        _STAFF
        | {
            Role.MEDIATOR,
            Role.PARTNER_POLICE,
            Role.PARTNER_COURT,
            Role.PARTNER_PETITION,
            Role.PARTNER_JUDICIAL,
        },
    ),
    KindSpec(
        RecordKind.GRID_EVENT,
        (SourceSystem.GRID,),
        "网格事件",
        "GridEvent",
        "gridEvents",
        _STAFF | {Role.MEDIATOR, Role.PARTNER_POLICE, Role.PARTNER_JUDICIAL},
    ),
    KindSpec(
        RecordKind.POLICE_ALERT,
        (SourceSystem.POLICE_110,),
        "110 警情",
        "PoliceAlert",
        "policeAlerts",
        _STAFF | {Role.PARTNER_POLICE},
    ),
    KindSpec(
        RecordKind.PETITION,
        (SourceSystem.PETITION,),
        "信访件",
        "Petition",
        "petitions",
        _STAFF | {Role.PARTNER_PETITION},
    ),
    KindSpec(
        RecordKind.COURT_FILING,
        (SourceSystem.COURT,),
        "诉讼/诉前调解案件",
        "CourtFiling",
        "courtFilings",
        _STAFF
        | {Role.MEDIATOR, Role.PARTNER_COURT, Role.PARTNER_PETITION, Role.PARTNER_JUDICIAL},
    ),
)

KIND_SPECS: dict[RecordKind, KindSpec] = {spec.kind: spec for spec in KINDS}
KIND_OF_SOURCE: dict[SourceSystem, RecordKind] = {
    source: spec.kind for spec in KINDS for source in spec.sources
}
KIND_OF_TYPE_NAME: dict[str, RecordKind] = {spec.type_name: spec.kind for spec in KINDS}


def kinds_read_by(role: Role, specs: Iterable[KindSpec] = KINDS) -> frozenset[RecordKind]:
    """The record kinds ``role`` may read."""
    return frozenset(spec.kind for spec in specs if role in spec.readers)
