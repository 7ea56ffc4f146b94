"""The deadline rules file: the shipped limits, and a loader that refuses anything unclear."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.deadlines import (
    DeadlineRuleError,
    Duty,
    ExtensionApprover,
    RollRule,
    RuleFacts,
    RuleScope,
    TimeUnit,
    load_rules,
    parse_trigger,
)
from domain.workflow.vocabulary import (
    ComplexityTier,
    DispatchTrack,
    MatterAction,
    MatterFact,
    MatterOrigin,
    SupervisionAction,
)

RULES = load_rules()
CAL, WD = TimeUnit.CALENDAR_DAY, TimeUnit.WORKING_DAY

# The limits the reference gives (wave-2 domain notes §0, §1), written out independently of
# the rules file: id → (scope, budget, unit, max extension).
EXPECTED = {
    "petition.register": ("national", 15, CAL, 0),
    "petition.notify": ("national", 15, CAL, 0),
    "petition.object": ("national", 5, WD, 0),
    "petition.handle": ("national", 60, CAL, 30),
    "petition.source_handle": ("national", 60, CAL, 30),  # §34 from the petition system's 受理
    "petition.review_request": ("national", 30, CAL, 0),
    "petition.review": ("national", 30, CAL, 0),
    "petition.recheck_request": ("national", 30, CAL, 0),
    "petition.recheck": ("national", 30, CAL, 0),
    "mediation.people": ("national", 30, CAL, "unlimited"),
    "mediation.source_people": ("national", 30, CAL, "unlimited"),  # from the 调委会's 受理
    "mediation.court_accept": ("national", 3, WD, 0),
    "mediation.court_delegated": ("national", 30, CAL, "unlimited"),
    "court.filing": ("national", 7, CAL, 0),
    "judicial_confirmation.apply": ("national", 30, CAL, 0),
    "dispatch.accept": ("local", 3, WD, 0),
    "matter.tier.simple": ("local", 1, CAL, 0),
    "matter.tier.ordinary": ("local", 7, CAL, 7),
    "matter.tier.complex": ("local", 20, CAL, 20),
    "matter.rework": ("local", 5, WD, 0),
    "matter.revisit": ("local", 1, WD, 0),
    "supervision.reply": ("local", 5, WD, 0),
}


def test_the_shipped_rules_are_the_reference_limits() -> None:
    shipped = {
        r.id: (r.scope.value, r.budget, r.unit, r.max_extension) for r in RULES
    }
    assert shipped == EXPECTED


def test_every_national_rule_cites_its_source_and_excludes_the_start_day() -> None:
    for rule in RULES:
        assert rule.name and rule.basis
        assert rule.start_day_counts is False, rule.id
        if rule.scope is RuleScope.NATIONAL:
            assert "《" in rule.basis, rule.id
        else:
            assert rule.basis.startswith("地方惯例"), rule.id  # staff read it: Chinese


def test_national_calendar_day_limits_roll_past_holidays() -> None:
    for rule in RULES:
        if rule.scope is RuleScope.NATIONAL and rule.unit is CAL:
            assert rule.roll is RollRule.NEXT_WORKING_DAY, rule.id


def test_extension_approvers() -> None:
    assert RULES["petition.handle"].extension_approver is ExtensionApprover.HEAD_OF_BODY
    assert RULES["mediation.court_delegated"].extension_approver is (
        ExtensionApprover.PARTIES_CONSENT
    )
    assert RULES["mediation.court_delegated"].extension_limit is None
    assert RULES["petition.object"].extension_limit == 0


def test_suspendable_where_the_law_excludes_time() -> None:
    # 复核: 听证 time not counted; 委派调解: 鉴定评估 time not counted
    assert RULES["petition.recheck"].suspendable
    assert RULES["mediation.court_delegated"].suspendable
    assert not RULES["petition.handle"].suspendable


def test_parties_windows_supervise_nobody() -> None:
    assert RULES["judicial_confirmation.apply"].duty is Duty.PARTIES
    assert not Duty.PARTIES.supervised_on_breach
    assert Duty.ASSIGNEE.supervised_on_breach


def test_which_rules_an_event_starts_depends_on_the_track() -> None:
    petition = RuleFacts(origin=MatterOrigin.PETITION, track=DispatchTrack.PETITION)
    mediation = RuleFacts(origin=MatterOrigin.GRID_EVENT, track=DispatchTrack.PEOPLES_MEDIATION)
    court = RuleFacts(track=DispatchTrack.PRE_FILING_MEDIATION)

    def started(facts: RuleFacts) -> set[str]:
        return {r.id for r in RULES.started_by(MatterAction.DISPATCH, facts)}

    assert started(petition) == {"petition.notify", "petition.object"}
    assert started(mediation) == {"dispatch.accept"}
    assert started(court) == {"mediation.court_accept"}
    assert {r.id for r in RULES.started_by(MatterAction.ASSESS, RuleFacts(
        tier=ComplexityTier.COMPLEX
    ))} == {"matter.tier.complex"}
    assert "dispatch.accept" in {r.id for r in RULES.stopped_by(MatterAction.ACCEPT)}


def test_every_event_name_parses_and_unknown_ones_do_not() -> None:
    for enum in (MatterAction, MatterFact, SupervisionAction):
        for member in enum:
            assert parse_trigger(member.value) is member
    with pytest.raises(ValueError, match="unknown event 'LATER'"):
        parse_trigger("LATER")


GOOD = """
[[rule]]
id = "local.rule"
name = "本地规则"
scope = "local"
basis = "Local practice."
starts_on = ["DISPATCH"]
stops_on = ["ACCEPT"]
budget = 2
unit = "working_day"
duty = "assignee"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_local_file_replaces_the_defaults(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path, GOOD))
    assert [r.id for r in rules] == ["local.rule"]
    rule = rules["local.rule"]
    assert (rule.roll, rule.warn_percents, rule.suspendable) == (RollRule.NONE, (50, 80), False)


def test_a_local_file_can_extend_replace_and_disable_defaults(tmp_path: Path) -> None:
    text = GOOD + """
[[rule]]
id = "petition.handle"
name = "信访事项办理（浙江）"
scope = "local"
basis = "Local practice: 浙江省信访条例 (2016) 第二十三条."
starts_on = ["ACCEPT"]
stops_on = ["REPORT_RESULT"]
budget = 30
unit = "calendar_day"
roll = "next_working_day"
duty = "assignee"
max_extension = 60
extension_approver = "head_of_body"
"""
    text = 'include_defaults = true\ndisable = ["matter.tier.simple"]\n' + text
    rules = load_rules(_write(tmp_path, text))

    assert "local.rule" in rules and "matter.tier.simple" not in rules
    assert (rules["petition.handle"].budget, rules["petition.handle"].max_extension) == (30, 60)
    assert len(rules) == len(EXPECTED)  # +1 added, -1 disabled


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t + "budgett = 3\n", "rule 'local.rule': unknown key 'budgett'"),
        (lambda t: t.replace('duty = "assignee"\n', ""), "rule 'local.rule': missing key 'duty'"),
        (lambda t: t.replace('["ACCEPT"]', '["SIGNED"]'), "stops_on: unknown event 'SIGNED'"),
        (lambda t: t.replace('"working_day"', '"fortnight"'), "rule 'local.rule': unit:"),
        (lambda t: t.replace("budget = 2", "budget = 0"), "budget:"),
        (lambda t: t.replace("budget = 2", 'budget = "2"'), "budget:"),
        (lambda t: t + 'when = { tracks = ["MARS"] }\n', "when.tracks.0:"),
        (lambda t: t + "when = { colour = [\"RED\"] }\n", "unknown key 'when.colour'"),
        (lambda t: t + "when = { tracks = [] }\n", "an empty list matches nothing"),
        (lambda t: t + 'when = { results = ["CLOSED"] }\n', "only RESOLVED and FAILED"),
        (lambda t: t + "max_extension = 5\n", "extension_approver: an extendable rule"),
        (lambda t: t + 'max_extension = "lots"\n', 'or "unlimited"'),
        (lambda t: t + 'extension_approver = "head_of_body"\n', "max_extension is 0"),
        (lambda t: t + "warn_at = [0.333]\n", "whole percentage"),
        (lambda t: t + "warn_at = [0.8, 0.5]\n", "increasing"),
        (lambda t: t + "warn_at = [1.0]\n", "whole percentage"),
        (
            lambda t: t.replace('"working_day"', '"hour"') + 'roll = "next_working_day"\n',
            'roll: must be "none" for unit hour',
        ),
        (
            lambda t: t.replace('"working_day"', '"working_hour"') + "start_day_counts = true\n",
            "start_day_counts: applies to day units",
        ),
        (lambda t: t.replace('"local.rule"', '"Local Rule"'), "lower-case words"),
        (lambda t: t.replace('"local.rule"', "7"), "rule #1"),
        (lambda t: t + t, "rule 'local.rule' is defined twice"),
        (lambda t: "version = 2\n" + t, "unknown top-level key(s) ['version']"),
        (lambda t: 'disable = ["x"]\n' + t, "disable needs include_defaults"),
        (lambda t: 'include_defaults = true\ndisable = ["x.y"]\n' + t, "unknown rule 'x.y'"),
        (lambda t: "include_defaults = 1\n" + t, "include_defaults must be true or false"),
        (lambda t: t + "[[rule\n", "not valid TOML"),
        (lambda t: "", "defines no rules"),
    ],
)
def test_a_malformed_file_names_the_rule_and_the_key(
    tmp_path: Path, edit: object, message: str
) -> None:
    assert callable(edit)
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(DeadlineRuleError) as caught:
        load_rules(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_file_that_is_not_utf8_is_a_rule_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_bytes("# 时限规则\n".encode("gbk") + GOOD.encode())  # saved as GBK by an editor
    with pytest.raises(DeadlineRuleError) as caught:
        load_rules(path)
    assert str(path) in str(caught.value)
    assert "UTF-8" in str(caught.value)
