"""The risk rules loader: the shipped defaults load; a bad file is refused, naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.enums import RiskLevel
from domain.risk import RiskRuleError, load_risk_rules
from domain.risk.rules import LexiconWords, RepeatAlerts

RULE = """
[[rule]]
id = "alerts.repeat"
description = "同一地点多次报警"
level = "RED"
condition = {{ kind = "repeat_alerts", by = "place", at_least = 3, within_days = 30{extra} }}
"""
LEXICON = """
[lexicon]
negations = ["不会"]
[lexicon.classes]
threat = ["扬言"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "risk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_rules_load_with_a_description_and_a_level_each() -> None:
    book = load_risk_rules()
    assert len(book) >= 15
    assert all(rule.description and rule.level is not RiskLevel.NONE for rule in book)
    assert isinstance(book["alerts.repeat_place"].condition, RepeatAlerts)
    assert {"threat", "weapon", "self_harm", "revenge"} <= set(book.lexicon.classes)


def test_a_centre_file_loads_its_own_rules_and_lexicon(tmp_path: Path) -> None:
    book = load_risk_rules(_write(tmp_path, RULE.format(extra="") + LEXICON))
    assert [rule.id for rule in book] == ["alerts.repeat"]
    assert book.lexicon.classes["threat"] == ("扬言",)


def test_include_defaults_replaces_by_id_and_disables(tmp_path: Path) -> None:
    text = (
        'include_defaults = true\ndisable = ["words.threat"]\n'
        + RULE.format(extra="").replace("alerts.repeat", "alerts.repeat_place")
    )
    book = load_risk_rules(_write(tmp_path, text))
    assert book["alerts.repeat_place"].description == "同一地点多次报警"
    assert "words.threat" not in [rule.id for rule in book]
    assert len(book) == len(load_risk_rules()) - 1


def _changed(old: str, new: str) -> str:
    """The one-rule file with ``old`` replaced by ``new``, lexicon included."""
    return RULE.format(extra="").replace(old, new) + LEXICON


BAD_FILES = [
    (RULE.format(extra=", radius = 5") + LEXICON,
     "rule 'alerts.repeat': unknown key 'condition.radius'"),
    (_changed('by = "place", ', ""), "missing key 'condition.by'"),
    (_changed("repeat_alerts", "moon_phase"), "unknown condition kind 'moon_phase'"),
    (_changed('"RED"', '"NONE"'), "level: a rule raises the grade"),
    (_changed("at_least = 3", "at_least = 1"), "condition.at_least"),
    (_changed('id = "alerts.repeat"', 'id = "Alerts Repeat"'), "rule 'Alerts Repeat': id:"),
    (_changed('level = "RED"', 'level = "RED"\ncolour = "红"'),
     "rule 'alerts.repeat': unknown key 'colour'"),
    (_changed("", "") + "colour = 1\n", "lexicon: classes.colour"),
    ("severity = 2\n" + _changed("", ""), "unknown top-level key(s) ['severity']"),
    (RULE.format(extra=""), "missing [lexicon]"),
    (RULE.format(extra="") * 2 + LEXICON, "'alerts.repeat' is defined twice"),
    ('disable = ["x"]\n' + _changed("", ""), "disable needs include_defaults"),
    (_changed('{ kind = "repeat_alerts", by = "place", at_least = 3, within_days = 30 }',
              '{ kind = "lexicon", classes = ["weapon"] }'),
     "rule 'alerts.repeat': condition.classes: no lexicon class ['weapon']"),
    ("[[rule]\n", "not valid TOML"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_file_is_refused_naming_the_rule_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(RiskRuleError) as raised:
        load_risk_rules(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_the_lexicon_rules_name_classes_the_lexicon_defines() -> None:
    book = load_risk_rules()
    for rule in book:
        if isinstance(rule.condition, LexiconWords):
            assert rule.condition.classes <= set(book.lexicon.classes)


def test_a_file_that_is_not_utf8_is_a_rule_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "risk.toml"
    path.write_bytes("# 风险规则\n".encode("gbk") + RULE.encode())  # saved as GBK by an editor
    with pytest.raises(RiskRuleError) as raised:
        load_risk_rules(path)
    assert str(path) in str(raised.value)
    assert "UTF-8" in str(raised.value)
