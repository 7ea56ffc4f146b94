"""Who is asking and what they may see, for one request (请求安全上下文).

Built by the HTTP layer (``hub.context``) or by in-process callers (``LoaderContext``); read by
the access-control and audit extensions and by resolvers. No HTTP and no token handling here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from db.audit import Anchor, AuditEvent
from domain.roles import LIMITS, PII_SCOPE, Principal, Role, RoleLimits
from domain.scope import NOTHING, RecordScope
from domain.stats import DEFAULT_MIN_CELL
from schema.errors import GovhubError

UNAUTHENTICATED_LIMITS = LIMITS[Role.DASHBOARD_VIEWER]


class HasPersonId(Protocol):
    @property
    def person_id(self) -> int: ...


PersonT = TypeVar("PersonT", bound=HasPersonId | None)
PURPOSE_LENGTH = (4, 200)


class AuditSink(Protocol):
    """Where audit events go (``hub.audit.AuditWriter``); ``record`` returns once committed."""

    async def record(self, event: AuditEvent) -> None: ...

    def latest_checkpoint(self) -> Anchor | None:
        """The newest signed checkpoint of the chain, kept outside the database."""
        ...


def record_scope(principal: Principal | None) -> RecordScope:
    """The SQL scope of a principal: its role's kinds, its regions, NULL regions for admin."""
    return NOTHING if principal is None else principal.scope


def clean_purpose(raw: str | None) -> str | None:
    """A stated purpose (``X-Purpose``), trimmed; ``None`` unless 4–200 characters."""
    if raw is None:
        return None
    purpose = raw.strip()
    low, high = PURPOSE_LENGTH
    return purpose if low <= len(purpose) <= high else None


@dataclass
class RequestSecurity:
    """The principal (``None`` when the credential was refused) and what follows from it."""

    principal: Principal | None
    authentication_error: str | None = None
    purpose: str | None = None
    env: str = "dev"
    audit: AuditSink | None = None
    persisted_documents: Mapping[str, str] = field(default_factory=dict)
    persisted_roles: frozenset[Role] = frozenset()
    stats_min_cell: int = DEFAULT_MIN_CELL
    """The smallest count figures show a role that may not read parties (小数抑制)."""
    over_websocket: bool = False
    """The operation came over the WebSocket (subscriptions may run only there)."""
    refusal: GovhubError | None = None
    """Why the operation is refused before parsing (no principal, persisted-document rules)."""
    operation_name: str | None = None
    """The client's operation name when refused (the stand-in document has none)."""
    pii_record_ids: set[int] = field(default_factory=set)
    """Records whose parties (personal data) this request returned, for the audit row."""
    pii_person_ids: set[int] = field(default_factory=set)
    """Persons this request returned (a person is personal data), for the audit row."""
    pii_matter_ids: set[int] = field(default_factory=set)
    """Matters whose intake parties (personal data) this request returned, for the audit row."""
    unanswered: list[str] = field(default_factory=list)
    """Codes of what the answer leaves null without an error (an unknown id in ``nodes``, as
    Relay expects), for the audit row's outcome: as if the error had been shown."""
    scope: RecordScope = field(init=False)

    def __post_init__(self) -> None:
        self.scope = record_scope(self.principal)

    def start_operation(self) -> None:
        """Forget what the previous operation on this context noted (refusal, audit ids)."""
        self.refusal = None
        self.operation_name = None
        self.pii_record_ids = set()
        self.pii_person_ids = set()
        self.pii_matter_ids = set()
        self.unanswered = []

    def saw_person(self, person: PersonT) -> PersonT:
        """``person`` (or ``None``) unchanged, noted for the audit row when it is one."""
        if person is not None:
            self.pii_person_ids.add(person.person_id)
        return person

    @property
    def limits(self) -> RoleLimits:
        return self.principal.limits if self.principal else UNAUTHENTICATED_LIMITS

    @property
    def reveal_pii(self) -> bool:
        """Full ID numbers and phones: the ``pii:read`` scope *and* a stated purpose."""
        return (
            self.principal is not None
            and PII_SCOPE in self.principal.scopes
            and self.purpose is not None
        )
