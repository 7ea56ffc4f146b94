"""An audit event is made storable once (db/audit.py ``AuditEvent.storable``)."""

from __future__ import annotations

from datetime import UTC, datetime

from db.audit import AuditEvent


def _event(operation: str) -> AuditEvent:
    return AuditEvent(
        principal="u\x00", role="center_staff", org=None, operation=operation,
        document_hash=None, variables={"q": "a\x00b", "n": 2**70}, record_ids=[1],
        purpose=None, outcome="OK", duration_ms=1.0, occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def test_a_storable_event_is_not_made_storable_again() -> None:
    # given an event made storable (its NUL escaped, its huge number cut)
    stored = _event("Op\x00").storable()
    assert stored.principal == "u\\u0000" and stored.variables == {"q": "a\\u0000b", "n": "…"}
    # when it is made storable again (append_events does, after the audit writer)
    again = stored.storable()
    # then it is the same event, not escaped twice
    assert again is stored and again.operation == "Op\\u0000"


def test_the_mark_is_no_part_of_the_events_content() -> None:
    # an event equals its storable form when nothing needed escaping
    plain = AuditEvent(
        principal="u", role="r", org=None, operation="Op", document_hash=None, variables=None,
        record_ids=None, purpose=None, outcome="OK", duration_ms=None,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert plain.storable() == plain and "made_storable" not in repr(plain.storable())
