"""``writebacks``: the outbox as operators see it (回写状态), oldest first; no payloads.

An administrator sees every write; centre staff only those of the matters they see (their
jurisdiction, as ``matter(id)``): a write names its matter's number, the department's own id
for it and the department's last error."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.outbox import Aggregate, list_writes
from domain.enums import SourceSystem
from domain.workflow.visibility import MatterScope
from domain.writeback import WriteState
from schema.context import Info
from schema.writeback import WriteBack

MAX_ROWS = 200


async def resolve_writebacks(
    info: Info,
    target: Annotated[
        SourceSystem | None, strawberry.argument(description="Only this target (目标系统).")
    ] = None,
    states: Annotated[
        list[WriteState] | None,
        strawberry.argument(description="Only these states (回写状态)."),
    ] = None,
    matter: Annotated[
        str | None, strawberry.argument(description="Only this matter's writes (所属事项).")
    ] = None,
    first: Annotated[
        int, strawberry.argument(description=f"At most this many, up to {MAX_ROWS} (条数).")
    ] = 50,
) -> list[WriteBack]:
    principal = info.context.security.principal
    # an administrator runs the whole outbox; centre staff see their jurisdiction's matters'
    administers = principal is not None and principal.policy.administration
    async with info.context.sessions() as session:
        rows = await list_writes(
            session,
            target=target,
            states=[WriteState(s) for s in states or []],
            aggregate=Aggregate("matter", matter) if matter else None,
            matters=None if administers else MatterScope.of(principal),
            limit=max(1, min(first, MAX_ROWS)),
        )
    return [WriteBack.from_row(row) for row in rows]
