"""Resolvers of the audit log (审计日志): the auditor's only view, newest entries first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy import RowMapping

from db import status_queries
from db.audit import verify_chain
from resolvers.cursors import decode_audit_cursor, encode_audit_cursor
from resolvers.filters import timezone_aware
from resolvers.pagination import page_request
from resolvers.rows import fetch_all, fetch_count
from schema.audit import AuditChainProblem, AuditChainStatus, AuditLogEntry
from schema.context import Info
from schema.errors import BadUserInput, Forbidden
from schema.pagination import MAX_PAGE_SIZE, Connection, Edge


def _require_auditor(info: Info) -> None:
    principal = info.context.security.principal
    if principal is None or not principal.policy.audit_log:
        raise Forbidden("Only the auditor role reads the audit log.")


def _entry(row: RowMapping) -> AuditLogEntry:
    return AuditLogEntry(
        sequence=row["id"],
        occurred_at=row["occurred_at"],
        principal=row["principal"],
        role=row["role"],
        org=row["org"],
        operation=row["operation"],
        document_hash=row["document_hash"],
        variables=cast("Any", row["variables"]),
        record_ids=row["record_ids"],
        person_ids=row["person_ids"],
        matter_ids=row["matter_ids"],
        purpose=row["purpose"],
        outcome=row["outcome"],
        duration_ms=row["duration_ms"],
        hash=row["hash"],
    )


async def resolve_audit_log(
    info: Info,
    first: Annotated[
        int | None,
        strawberry.argument(description=f"Page size, at most {MAX_PAGE_SIZE} (每页条数)."),
    ] = None,
    after: Annotated[
        str | None, strawberry.argument(description="Cursor to continue after (游标之后).")
    ] = None,
    principal: Annotated[
        str | None, strawberry.argument(description="Only this subject's entries (访问主体).")
    ] = None,
    from_: Annotated[
        datetime | None,
        strawberry.argument(name="from", description="Recorded at or after (起始时间)."),
    ] = None,
    to: Annotated[
        datetime | None, strawberry.argument(description="Recorded before (截止时间).")
    ] = None,
) -> Connection[AuditLogEntry]:
    _require_auditor(info)
    request = page_request(first, after, None, None)
    occurred_from = timezone_aware(from_, "from")
    occurred_to = timezone_aware(to, "to")
    if principal is not None and not 1 <= len(principal) <= 128:
        raise BadUserInput("principal must be 1–128 characters.")
    sessions = info.context.sessions
    rows = await fetch_all(
        sessions,
        status_queries.audit_page(
            principal=principal,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
            before_id=decode_audit_cursor(request.cursor) if request.cursor else None,
            limit=request.size + 1,
        ),
    )
    edges = [Edge(cursor=encode_audit_cursor(row["id"]), node=_entry(row)) for row in rows]

    async def count_all() -> int:
        statement = status_queries.audit_count(
            principal=principal, occurred_from=occurred_from, occurred_to=occurred_to
        )
        return await fetch_count(sessions, statement)

    return request.page_of(edges, count_all)


async def resolve_audit_chain_status(info: Info) -> AuditChainStatus:
    """Walk the whole chain now (审计链校验): costs a read of every row."""
    _require_auditor(info)
    audit = info.context.security.audit
    checkpoint = audit.latest_checkpoint() if audit is not None else None
    async with info.context.sessions() as session:
        checked, problem = await verify_chain(session, checkpoint=checkpoint)
    return AuditChainStatus(
        rows_checked=checked,
        intact=problem is None,
        first_problem=AuditChainProblem(
            sequence=problem.row_id, problem=problem.problem, description=problem.describe()
        )
        if problem
        else None,
    )
