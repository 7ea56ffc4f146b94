"""Audit rows of the hub's own matter actions: a system principal, codes and ids, masked."""

from __future__ import annotations

from db.matter_audit import SYSTEM_ROLE, SystemAudit
from db.models import Matter


def test_an_automatic_action_is_one_row_by_the_system_with_identifiers_masked() -> None:
    audit = SystemAudit("system:sync:GRID")
    matter = Matter(id=7, number="411202-2026-000007")
    # a source note quoting a phone and an ID number, as a clerk may write them
    audit.add("REPORT_RESULT", matter, {"note": "申请人13800138000 身份证11010519491231002X"},
              records=[5, 3, 5])
    (row,) = audit.events
    assert (row.principal, row.role, row.operation, row.outcome) == (
        "system:sync:GRID", SYSTEM_ROLE, "matter.REPORT_RESULT", "OK")
    assert row.record_ids == [3, 5]
    assert row.variables is not None
    assert (row.variables["matterId"], row.variables["matterNumber"]) == (7, "411202-2026-000007")
    note = row.variables["note"]
    assert "13800138000" not in note and "11010519491231002X" not in note
    assert "138****8000" in note
