"""Every GraphQL operation on the record (审计留痕): one ``audit_log`` row each.

Succeeded, failed, refused or unauthenticated alike: who (sub, role, org), what (operation
name masked, SHA-256 of the document, variables as a keyed digest and a short masked
preview — never the values themselves, whose size the caller controls), which records'
personal data was returned, why (``X-Purpose``), the outcome and how long it took. The row is
written through the app's :class:`~hub.audit.AuditWriter` (group commit) and awaited, so a
response is never sent for an operation whose audit row was lost.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import structlog
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from db.audit import AuditEvent, keyed_digest
from db.storable import storable_json, storable_text
from domain.masking import mask_text
from domain.roles import Principal
from schema.access import document_hash
from schema.errors import DENIED_CODES, AuditUnavailable, ErrorCode, error_code
from schema.security import RequestSecurity

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    OK = "OK"
    ERROR = "ERROR"
    DENIED = "DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"


def outcome_of(codes: list[str | None]) -> Outcome:
    if ErrorCode.UNAUTHENTICATED in codes:
        return Outcome.UNAUTHENTICATED
    if any(code in DENIED_CODES for code in codes):
        return Outcome.DENIED
    return Outcome.ERROR if codes else Outcome.OK


def masked(value: Any, depth: int = 8) -> Any:
    """A JSON value with every ID-number- or phone-shaped string (or number) masked; what
    lies deeper than ``depth`` levels is left out (``"…"``)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        if abs(value) >= 10**30:  # longer than any identifier, and costly to print
            return "…"
        text = str(value)
        return value if mask_text(text) == text else mask_text(text)
    if depth <= 0:
        return "…"
    if isinstance(value, dict):
        return {mask_text(str(key)): masked(item, depth - 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item, depth - 1) for item in value]
    return mask_text(str(value))


PREVIEW_CHARS = 1000


def variables_record(variables: dict[str, Any]) -> dict[str, Any]:
    """What the audit keeps of an operation's variables: an HMAC of their canonical JSON
    (an auditor holding the values can show these were sent) and a bounded preview, masked
    before it is cut (a cut ID number would no longer look like one)."""
    document = json.dumps(variables, sort_keys=True, ensure_ascii=False, default=str)
    preview = storable_json(masked(variables), max_text=64, max_items=20, max_depth=5)
    if len(json.dumps(preview, ensure_ascii=False)) > PREVIEW_CHARS:
        preview = storable_text(json.dumps(preview, ensure_ascii=False), PREVIEW_CHARS)
    digest = keyed_digest(storable_text(document))
    return {"digest": f"hmac-sha256:{digest}", "bytes": len(document), "preview": preview}


def expiry_event(principal: Principal) -> AuditEvent:
    """The audit row of a WebSocket closed because its token expired."""
    return AuditEvent(
        principal=principal.sub, role=principal.role.value, org=principal.org,
        operation="websocket token expired", document_hash=None, variables=None,
        record_ids=None, purpose=None, outcome=Outcome.UNAUTHENTICATED.value, duration_ms=None,
        occurred_at=datetime.now(UTC),
    )  # fmt: skip


class AuditTrail(SchemaExtension):
    """Listed first, so it wraps every other extension and sees every way an operation ends."""

    async def on_operation(self) -> AsyncIterator[None]:
        started = time.perf_counter()
        raised: list[str | None] = []
        try:
            yield
        except Exception:  # no query, wrong operation type: strawberry answers HTTP 400
            raised.append(ErrorCode.BAD_USER_INPUT.value)
            raise
        finally:
            await self._record(started, raised)

    def _errors(self) -> list[GraphQLError]:
        context = self.execution_context
        result = context.result
        errors = getattr(result, "errors", None) if result is not None else None
        return list(errors or context.pre_execution_errors or [])

    async def _record(self, started: float, raised: list[str | None]) -> None:
        security: RequestSecurity | None = getattr(self.execution_context.context, "security", None)
        if security is None or security.audit is None:
            return
        try:
            await security.audit.record(self._event(security, started, raised))
        except Exception as exc:
            # Fail closed: an operation that could not be put on the record returns nothing.
            log.error("audit_record_failed", error=type(exc).__name__)
            raise AuditUnavailable(
                "The operation could not be audited; nothing is returned."
            ) from exc

    def _event(
        self, security: RequestSecurity, started: float, raised: list[str | None]
    ) -> AuditEvent:
        context = self.execution_context
        codes = raised or [
            *(error_code(error) for error in self._errors()), *security.unanswered
        ]
        principal = security.principal
        operation = security.operation_name
        if security.refusal is None:
            with contextlib.suppress(RuntimeError):  # an unparsable document names none
                operation = context.operation_name
        if not isinstance(operation, str):  # a hostile client may send {"operationName": 5}
            operation = None
        return AuditEvent(
            principal=principal.sub if principal else None,
            role=principal.role.value if principal else None,
            org=principal.org if principal else None,
            # An operation name is the client's text, as able to carry an identifier.
            operation=storable_text(mask_text(operation), 128) if operation else None,
            document_hash=document_hash(context.query) if context.query else None,
            variables=variables_record(context.variables) if context.variables else None,
            record_ids=sorted(security.pii_record_ids) or None,
            person_ids=sorted(security.pii_person_ids) or None,
            matter_ids=sorted(security.pii_matter_ids) or None,
            purpose=mask_text(security.purpose) if security.purpose else None,
            outcome=outcome_of(codes).value,
            duration_ms=(time.perf_counter() - started) * 1000,
            occurred_at=datetime.now(UTC),
        )
