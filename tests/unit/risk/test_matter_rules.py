"""Grading a matter (事项研判): its records' rules, and its own breaches and 督办 orders; the
loader knows the matter-only conditions and refuses them when malformed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel
from domain.risk import (
    MatterFacts,
    RecordFacts,
    RiskFacts,
    RiskRuleError,
    TargetKind,
    assess,
    fingerprint,
    load_risk_rules,
)
from domain.risk.rules import Overdue, Supervised
from domain.workflow.vocabulary import SupervisionLevel

BOOK = load_risk_rules()
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _record(record_id: int, **fields: object) -> RecordFacts:
    values: dict[str, object] = {
        "record_id": record_id, "ref": f"DISPUTE/{record_id}", "kind": RecordKind.DISPUTE,
        "category": DisputeCategory.NEIGHBOUR, "status": CaseStatus.IN_PROGRESS,
        "occurred_at": T0, "person_ids": frozenset({1}), "mention_count": 1,
    }  # fmt: skip
    values.update(fields)
    return RecordFacts(**values)  # type: ignore[arg-type]  # test shorthand


def _matter(
    *records: RecordFacts, breaches: int = 0, levels: tuple[str, ...] = ()
) -> RiskFacts:
    own = MatterFacts(
        7,
        tuple(("mediation.people", T0 + timedelta(days=30 * i)) for i in range(breaches)),
        tuple((level, T0 + timedelta(days=40)) for level in levels),
    )
    return RiskFacts(TargetKind.MATTER, 7, records or (_record(1),), matter=own)


def test_the_shipped_matter_rules_load() -> None:
    assert isinstance(BOOK["matters.overdue"].condition, Overdue)
    assert isinstance(BOOK["matters.listed_supervision"].condition, Supervised)
    assert BOOK["matters.overdue"].level is RiskLevel.YELLOW
    assert BOOK["matters.overdue_repeated"].level is RiskLevel.RED


def test_a_matter_without_breach_is_not_graded_on_time() -> None:
    result = assess(_matter(), BOOK)
    assert result.level is RiskLevel.NONE


def test_one_breach_is_yellow_with_the_breached_rule_as_evidence() -> None:
    result = assess(_matter(breaches=1), BOOK)
    assert result.level is RiskLevel.YELLOW
    (hit,) = result.fired
    assert hit.rule_id == "matters.overdue"
    assert hit.evidence == {"count": 1, "rules": ["mediation.people"], "dates": ["2026-03-01"]}


def test_a_second_breach_is_red() -> None:
    result = assess(_matter(breaches=2), BOOK)
    assert result.level is RiskLevel.RED
    assert [f.rule_id for f in result.fired] == ["matters.overdue_repeated", "matters.overdue"]


def test_listed_supervision_is_red_and_a_plain_order_is_not() -> None:
    listed = assess(_matter(levels=(SupervisionLevel.LISTED.value,)), BOOK)
    assert listed.level is RiskLevel.RED
    assert listed.fired[0].evidence == {"levels": ["LISTED"], "dates": ["2026-04-10"]}
    plain = assess(_matter(levels=(SupervisionLevel.SUPERVISE.value,)), BOOK)
    assert plain.level is RiskLevel.NONE


def test_a_matter_with_a_red_record_is_red_with_that_rules_evidence() -> None:
    threat = _record(2, text="当事人扬言要砍死对方")
    result = assess(_matter(_record(1), threat), BOOK)
    assert result.level is RiskLevel.RED
    assert result.fired[0].rule_id == "words.extreme"
    assert result.fired[0].evidence["records"] == ["DISPUTE/2"]


def test_the_matter_conditions_never_fire_on_records_or_persons() -> None:
    record = RiskFacts(TargetKind.RECORD, 1, (_record(1),))
    assert assess(record, BOOK).level is RiskLevel.NONE


def test_a_breach_changes_the_fingerprint_so_an_override_lapses() -> None:
    assert fingerprint(_matter(breaches=1)) != fingerprint(_matter(breaches=2))
    bare = RiskFacts(TargetKind.MATTER, 7, (_record(1),))
    assert fingerprint(bare) == fingerprint(RiskFacts(TargetKind.RECORD, 7, (_record(1),)))


def _write(tmp_path: Path, condition: str) -> Path:
    path = tmp_path / "risk.toml"
    path.write_text(
        f'''include_defaults = true
[[rule]]
id = "matters.custom"
description = "自定义"
level = "RED"
condition = {condition}
''',
        encoding="utf-8",
    )
    return path


def test_a_centre_may_set_its_own_overdue_rule(tmp_path: Path) -> None:
    book = load_risk_rules(_write(tmp_path, '{ kind = "overdue", at_least = 3 }'))
    assert book["matters.custom"].condition == Overdue(kind="overdue", at_least=3)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ('{ kind = "overdue", at_least = 0 }', "condition.at_least"),
        ('{ kind = "overdue", at_least = 1, within_days = 3 }', "unknown key"),
        ('{ kind = "supervised", levels = ["URGENT"] }', "condition.levels"),
        ('{ kind = "supervised", levels = [] }', "condition.levels"),
    ],
)
def test_a_malformed_matter_condition_is_refused_naming_it(
    tmp_path: Path, condition: str, message: str
) -> None:
    with pytest.raises(RiskRuleError, match=r"rule 'matters.custom'") as raised:
        load_risk_rules(_write(tmp_path, condition))
    assert message in str(raised.value)
