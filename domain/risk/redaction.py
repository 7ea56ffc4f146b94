"""Evidence a reader may see (证据的辖区过滤).

A grade is worked out over everything govhub holds: a person's records in other counties, a
110 alert at the same address in a system the reader does not read. The grade itself may be
shown (it is what the reader is asked to act on), but the evidence must not name records
outside the reader's scope, nor quote what they say. So each rule's evidence keeps the
references the reader can see, replaces the others with :data:`OUTSIDE`, and drops the text
it quoted (matched words, the place) whenever it cites a record the reader cannot see; the
date of such a record becomes :data:`OUTSIDE` too. A rule that cites no record the reader
can see keeps only the placeholders, its count and its threshold: what else it holds (an
amount, the parties, the levels) was read off those records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

OUTSIDE = "辖区外记录"
"""Stands for a record outside the reader's scope."""
QUOTED = ("words", "place")
"""Evidence keys that quote a record's text."""
NOT_OF_A_RECORD = ("records", "count", "threshold")
"""Evidence keys that say nothing of a record's content (kept when none cited is visible)."""


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
        shown = [visible(ref) for ref in refs]
        if not all(shown):
            cited = zip(refs, shown, strict=True)
            evidence["records"] = [ref if ok else OUTSIDE for ref, ok in cited]
            for key in QUOTED:
                evidence.pop(key, None)
            dates = evidence.get("dates")
            if isinstance(dates, list) and len(dates) == len(refs):  # one per record cited
                days = zip(dates, shown, strict=True)
                evidence["dates"] = [day if ok else OUTSIDE for day, ok in days]
            else:
                evidence.pop("dates", None)
            if not any(shown):
                evidence = {k: v for k, v in evidence.items() if k in NOT_OF_A_RECORD}
        redacted.append({**rule, "evidence": evidence})
    return redacted
