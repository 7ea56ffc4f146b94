"""The audit log as the auditor reads it (审计日志查询)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON


@strawberry.type(description="One audited operation (审计记录), as chained in the log.")
class AuditLogEntry:
    sequence: int = strawberry.field(description="Position in the chain, from 1 (序号).")
    occurred_at: datetime = strawberry.field(description="When it was recorded (记录时间).")
    principal: str | None = strawberry.field(
        description="Subject of the token; null when unauthenticated (访问主体)."
    )
    role: str | None = strawberry.field(description="Role of the principal (角色).")
    org: str | None = strawberry.field(description="Organisation of the principal (所属单位).")
    operation: str | None = strawberry.field(description="GraphQL operation name (操作名).")
    document_hash: str | None = strawberry.field(
        description="SHA-256 of the document text (查询文档摘要)."
    )
    variables: JSON | None = strawberry.field(
        description=(
            "Variables as a keyed digest, their size and a short preview, ID numbers and "
            "phones masked (查询变量摘要, 已脱敏)."
        )
    )
    record_ids: list[int] | None = strawberry.field(
        description="Records whose personal data was returned (返回个人信息的记录)."
    )
    person_ids: list[int] | None = strawberry.field(
        description="Persons returned, each personal data in itself (返回的自然人)."
    )
    matter_ids: list[int] | None = strawberry.field(
        description="Matters whose intake parties were returned (返回当事人信息的事项)."
    )
    purpose: str | None = strawberry.field(description="Stated purpose, X-Purpose (查询事由).")
    outcome: str = strawberry.field(description="OK, ERROR, DENIED or UNAUTHENTICATED (结果).")
    duration_ms: float | None = strawberry.field(description="Duration in ms (耗时毫秒).")
    hash: str = strawberry.field(description="This row's chain hash (链式摘要).")


@strawberry.type(description="The first break found in the chain (审计链问题).")
class AuditChainProblem:
    sequence: int = strawberry.field(description="The row where the chain breaks (问题行序号).")
    problem: str = strawberry.field(
        description=(
            "EDITED, DELETED_BEFORE, MOVED, UNKEYED (re-chained without the key), REWRITTEN "
            "(differs from the signed checkpoint) or TRUNCATED (newest rows missing) (问题类型)."
        )
    )
    description: str = strawberry.field(description="What happened, in words (问题说明).")


@strawberry.type(description="Whether the audit chain is intact (审计链校验结果).")
class AuditChainStatus:
    rows_checked: int = strawberry.field(description="Rows verified before a break (已校验行数).")
    intact: bool = strawberry.field(description="No break found (链完整).")
    first_problem: AuditChainProblem | None = strawberry.field(
        description="The first break, if any (首个问题)."
    )
