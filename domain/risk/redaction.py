"""Evidence a reader may see (证据的辖区过滤).

A grade is worked out over everything govhub holds: a person's records in other counties, a
110 alert at the same address in a system the reader does not read. The grade itself may be
shown (it is what the reader is asked to act on), but the evidence must not name records
outside the reader's scope, nor quote what they say. So each rule's evidence keeps the
references the reader can see, replaces the others with :data:`OUTSIDE`, and drops the text
it quoted (matched words, the place) whenever it cites a record the reader cannot see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

OUTSIDE = "辖区外记录"
"""Stands for a record outside the reader's scope."""
QUOTED = ("words", "place")
"""Evidence keys that quote a record's text."""


def cited_refs(rules: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every ``SOURCE/source_key`` the rules' evidence cites."""
    return {
        ref
        for rule in rules
        for ref in (rule.get("evidence") or {}).get("records", ())
        if isinstance(ref, str)
    }


def redact_rules(
    rules: Iterable[Mapping[str, Any]], visible: Callable[[str], bool]
) -> list[dict[str, Any]]:
    """The rules with evidence cut to what ``visible`` admits (see the module docstring)."""
    redacted: list[dict[str, Any]] = []
    for rule in rules:
        evidence = dict(rule.get("evidence") or {})
        refs = [ref for ref in evidence.get("records", ()) if isinstance(ref, str)]
        if any(not visible(ref) for ref in refs):
            evidence["records"] = [ref if visible(ref) else OUTSIDE for ref in refs]
            for key in QUOTED:
                evidence.pop(key, None)
        redacted.append({**rule, "evidence": evidence})
    return redacted
