"""The ``Subscription`` root type (订阅) over WebSocket (``graphql-transport-ws`` on ``/graphql``).

``recordChanges`` streams what syncs commit, within the subscriber's record kinds and
jurisdiction. An event names the record and what happened to it, never personal data: a
console that wants the record reads it with ``node(id)``, which is answered and audited like
any read. The subscription itself is one audited operation, its row written when it ends.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers.risk import resolve_risk_alerts
from resolvers.subscriptions import resolve_matter_events, resolve_record_changes
from schema.changes import RecordChange
from schema.matters import MatterEventNotice
from schema.risk import RiskAlert
from schema.sensitivity import RECORDS


@strawberry.type(description="Streams over WebSocket, graphql-transport-ws (订阅).")
class Subscription:
    # Each event names one record and its place, to the grid: a role that reads figures only
    # (dashboard_viewer, whose small counts are suppressed) follows no record, as it reads none.
    record_changes: AsyncGenerator[RecordChange, None] = strawberry.subscription(
        metadata=RECORDS,
        resolver=resolve_record_changes,
        description=(
            "Records as syncs change them (记录变更推送), within your kinds and jurisdiction, "
            "optionally narrowed to some kinds and a region and everything beneath it."
        ),
    )
    risk_alerts: AsyncGenerator[RiskAlert, None] = strawberry.subscription(
        metadata=RECORDS,
        resolver=resolve_risk_alerts,
        description=(
            "Risk grades as they rise to the alert level (风险预警推送), once per rise: records "
            "you may read, and persons when you may read parties and their records there."
        ),
    )
    matter_events: AsyncGenerator[MatterEventNotice, None] = strawberry.subscription(
        resolver=resolve_matter_events,
        description=(
            "Matter events (事项事件推送): opened, step changed, record joined, warning, overdue, "
            "supervised — within your jurisdiction, or for partners the matters dispatched to "
            "your organisation, and the step that takes one away from it (改派, 重新办理)."
        ),
    )
