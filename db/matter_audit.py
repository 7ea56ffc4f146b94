"""Audit rows for what the hub does to matters by itself (系统自动操作留痕).

Staff actions reach the audit log as GraphQL operations; the deadline scanner (预警, 逾期,
automatic 督办) and the sync's intake (自动立项, 并案, 自动签收/反馈) act with no request, so
they write their own rows: one per action, under a system principal (``system:sync:GRID``,
``system:deadline-scanner``, role ``system``), naming the matter by id and number and the
records involved. The rows are appended in the transaction of the actions they record, as
its last statements (the chain's lock is then held only until the commit), so an action and
its audit row commit or roll back together. A row's time is the wall clock's; the action's
own instant (the workflow's clock) is on the matter's timeline. Values are codes and ids;
every text is masked (:func:`domain.masking.mask_text`) all the same, as the request audit
masks its variables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.audit import AuditEvent, append_events
from db.models import Matter
from domain.masking import mask_text

SYSTEM_ROLE = "system"
"""The audit role of the hub acting by itself."""


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


@dataclass
class SystemAudit:
    """The audit rows of one transaction's automatic matter actions, by one principal."""

    principal: str
    events: list[AuditEvent] = field(default_factory=list)

    def add(
        self,
        action: str,
        matter: Matter,
        details: Mapping[str, Any] | None = None,
        records: Iterable[int] = (),
    ) -> None:
        """Note ``action`` (a timeline action, e.g. ``OVERDUE``) taken on ``matter``."""
        variables = {"matterId": matter.id, "matterNumber": matter.number, **(details or {})}
        self.events.append(AuditEvent(
            principal=self.principal, role=SYSTEM_ROLE, org=None,
            operation=f"matter.{action}", document_hash=None, variables=_masked(variables),
            record_ids=sorted(set(records)) or None, purpose=None, outcome="OK",
            duration_ms=None, occurred_at=datetime.now(UTC),
        ))  # fmt: skip

    async def write(self, session: AsyncSession) -> None:
        """Append the noted rows to the chain in ``session``; call it last before commit."""
        if self.events:
            await append_events(session, self.events)
            self.events = []
