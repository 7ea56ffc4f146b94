"""Evidence cut to the reader's scope (domain.risk.redaction)."""

from __future__ import annotations

from domain.risk.redaction import OUTSIDE, cited_refs, redact_rules

RULES = [
    {"id": "R1", "evidence": {"records": ["A/1", "B/2"], "place": "某路1号", "count": 2}},
    {"id": "R2", "evidence": {"records": ["A/1"], "words": ["砍"]}},
    {"id": "R3", "evidence": {}},
]


def test_cited_refs_are_every_record_the_evidence_names() -> None:
    assert cited_refs(RULES) == {"A/1", "B/2"}


def test_a_rule_citing_an_unseen_record_names_it_as_outside_and_quotes_nothing() -> None:
    redacted = redact_rules(RULES, {"A/1"}.__contains__)
    assert redacted[0] == {"id": "R1", "evidence": {"records": ["A/1", OUTSIDE], "count": 2}}
    assert redacted[1] == RULES[1]  # everything it cites is visible: kept whole
    assert redacted[2] == RULES[2]
    assert RULES[0]["evidence"]["place"] == "某路1号"  # the stored rules are not changed


def test_a_reader_seeing_everything_gets_the_evidence_whole() -> None:
    assert redact_rules(RULES, lambda _ref: True) == RULES
