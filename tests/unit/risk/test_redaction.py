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


def test_the_date_of_an_unseen_record_and_what_was_read_off_it_are_not_shown() -> None:
    rules = [
        {"id": "calls", "evidence": {"records": ["A/1", "B/2", "A/3"], "count": 3,
                                     "dates": ["2026-03-01", "2026-03-02", "2026-03-04"]}},
        {"id": "amount", "evidence": {"records": ["B/2"], "amount": "175855.77",
                                      "threshold": 100000, "dates": ["2026-03-02"]}},
        {"id": "levels", "evidence": {"records": ["B/2"], "levels": ["RED"],
                                      "dates": ["2026-03-02"]}},
    ]  # fmt: skip
    calls, amount, levels = redact_rules(rules, lambda ref: ref.startswith("A/"))
    assert calls["evidence"] == {"records": ["A/1", OUTSIDE, "A/3"], "count": 3,
                                 "dates": ["2026-03-01", OUTSIDE, "2026-03-04"]}  # fmt: skip
    assert amount["evidence"] == {"records": [OUTSIDE], "threshold": 100000}
    assert levels["evidence"] == {"records": [OUTSIDE]}
