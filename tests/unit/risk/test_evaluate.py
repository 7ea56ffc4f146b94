"""Grading by hand-written cases: each rule fires, does not fire, and its boundary; the grade
is the maximum over the rules fired; a staff override holds until the facts change."""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel
from domain.risk import (
    Override,
    RecordFacts,
    RiskFacts,
    RiskRuleBook,
    TargetKind,
    assess,
    effective_level,
    load_risk_rules,
)
from domain.risk.facts import MatterFacts, fingerprint
from domain.workflow.vocabulary import SupervisionLevel

BOOK = load_risk_rules()
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HOME = "某县某镇某村3组12号"


def record(
    record_id: int,
    kind: RecordKind = RecordKind.POLICE_ALERT,
    *,
    day: int = 0,
    status: CaseStatus = CaseStatus.CLOSED,
    persons: frozenset[int] = frozenset({1}),
    **fields: object,
) -> RecordFacts:
    base = RecordFacts(
        record_id=record_id, ref=f"{kind.value}/{record_id}", kind=kind,
        category=DisputeCategory.MARRIAGE_FAMILY, status=status,
        occurred_at=T0 + timedelta(days=day), person_ids=persons, mention_count=len(persons),
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]  # test shorthand


def facts(*subject: RecordFacts, history: tuple[RecordFacts, ...] = ()) -> RiskFacts:
    return RiskFacts(TargetKind.RECORD, subject[0].record_id, subject, history)


def fired(result_facts: RiskFacts) -> set[str]:
    return {rule.rule_id for rule in assess(result_facts, BOOK).fired}


# ------------------------------------------------------------------ repeated 110 alerts


def test_three_alerts_at_one_place_within_sixty_days_are_red() -> None:
    alerts = [record(i, day=d, place=HOME, persons=frozenset({i})) for i, d in
              ((1, 0), (2, 12), (3, 60))]  # fmt: skip
    result = assess(facts(alerts[2], history=tuple(alerts[:2])), BOOK)
    assert result.level is RiskLevel.RED
    rule = next(f for f in result.fired if f.rule_id == "alerts.repeat_place")
    assert rule.evidence["count"] == 3
    assert rule.evidence["records"] == ["POLICE_ALERT/1", "POLICE_ALERT/2", "POLICE_ALERT/3"]
    assert rule.evidence["dates"] == ["2026-03-01", "2026-03-13", "2026-04-30"]
    assert rule.evidence["place"] == HOME


def test_three_alerts_a_day_past_the_window_do_not_fire_the_place_rule() -> None:
    alerts = [record(i, day=d, place=HOME, persons=frozenset({i})) for i, d in
              ((1, 0), (2, 12), (3, 61))]  # fmt: skip
    assert "alerts.repeat_place" not in fired(facts(alerts[2], history=tuple(alerts[:2])))


def test_windows_count_beijing_calendar_days_not_hours() -> None:
    """60日内: the first day is not counted, the hour is not either (民法典 §201). Alerts on 1
    January 08:00 and 2 March 23:00 (Beijing) are 60 days apart; 3 March is 61."""

    def at(month: int, day: int, hour: int) -> datetime:
        return datetime(2026, month, day, hour, tzinfo=UTC) - timedelta(hours=8)

    def alerts(last: datetime) -> list[RecordFacts]:
        moments = (at(1, 1, 8), at(1, 31, 12), last)
        return [replace(record(i, place=HOME, persons=frozenset({i})), occurred_at=moment)
                for i, moment in enumerate(moments, 1)]  # fmt: skip

    inside = alerts(at(3, 2, 23))
    assert "alerts.repeat_place" in fired(facts(inside[2], history=tuple(inside[:2])))
    outside = alerts(at(3, 3, 0))
    assert "alerts.repeat_place" not in fired(facts(outside[2], history=tuple(outside[:2])))
    # by person as well: the same days, one caller
    calls = [replace(r, place=None, person_ids=frozenset({9})) for r in inside]
    assert assess(facts(calls[2], history=tuple(calls[:2])), BOOK).level is RiskLevel.RED


def test_escalation_counts_calendar_days_too() -> None:
    mediation = replace(
        record(1, RecordKind.DISPUTE, status=CaseStatus.FAILED),
        occurred_at=datetime(2026, 1, 1, 0, tzinfo=UTC),
    )  # 08:00 Beijing
    lawsuit = replace(
        record(2, RecordKind.COURT_FILING), occurred_at=datetime(2026, 6, 30, 15, tzinfo=UTC)
    )  # 23:00, day 180
    assert "escalation.mediation_to_lawsuit" in fired(facts(mediation, history=(lawsuit,)))
    late = replace(lawsuit, occurred_at=datetime(2026, 6, 30, 16, tzinfo=UTC))  # 1 July 00:00
    assert "escalation.mediation_to_lawsuit" not in fired(facts(mediation, history=(late,)))


def test_repeat_calls_by_one_person_are_red_and_two_are_yellow() -> None:
    three = [record(i, day=20 * i) for i in range(3)]
    assert assess(facts(three[0], history=tuple(three[1:])), BOOK).level is RiskLevel.RED
    two = three[:2]
    result = assess(facts(two[0], history=(two[1],)), BOOK)
    assert result.level is RiskLevel.YELLOW
    assert [f.rule_id for f in result.fired] == ["alerts.twice"]


def test_a_pattern_that_does_not_reach_the_graded_record_does_not_count() -> None:
    # the person's three alerts were a year ago; the graded record is a court filing now
    alerts = tuple(record(i, day=i) for i in range(1, 4))
    filing = record(10, RecordKind.COURT_FILING, day=400)
    assert assess(facts(filing, history=alerts), BOOK).level is RiskLevel.NONE


# ------------------------------------------------------------------ escalation


def test_failed_mediation_then_petition_by_the_same_person_is_red() -> None:
    mediation = record(1, RecordKind.DISPUTE, status=CaseStatus.FAILED)
    petition = record(2, RecordKind.PETITION, day=40)
    result = assess(facts(petition, history=(mediation,)), BOOK)
    assert result.level is RiskLevel.RED
    rule = result.fired[0]
    assert rule.rule_id == "escalation.mediation_to_petition"
    assert rule.evidence == {
        "records": ["DISPUTE/1", "PETITION/2"], "dates": ["2026-03-01", "2026-04-10"],
        "from": "DISPUTE:FAILED", "to": "PETITION",
    }  # fmt: skip


def test_successful_mediation_or_another_persons_petition_is_no_escalation() -> None:
    resolved = record(1, RecordKind.DISPUTE, status=CaseStatus.RESOLVED)
    petition = record(2, RecordKind.PETITION, day=40)
    assert fired(facts(petition, history=(resolved,))) == set()
    failed = record(1, RecordKind.DISPUTE, status=CaseStatus.FAILED, persons=frozenset({9}))
    assert fired(facts(petition, history=(failed,))) == set()


def test_escalation_on_one_matter_needs_no_shared_person_and_has_a_time_limit() -> None:
    failed = record(1, RecordKind.DISPUTE, status=CaseStatus.FAILED, persons=frozenset({9}))
    lawsuit = record(2, RecordKind.COURT_FILING, day=180)
    assert fired(facts(failed, lawsuit)) == {"escalation.mediation_to_lawsuit"}
    too_late = replace(lawsuit, occurred_at=T0 + timedelta(days=181))
    assert fired(facts(failed, too_late)) == set()


# ------------------------------------------------------------------ petitions


def test_repeat_and_group_petitions() -> None:
    first = record(1, RecordKind.PETITION)
    second = record(2, RecordKind.PETITION, day=100)
    assert fired(facts(second, history=(first,))) == {"petitions.again"}
    third = record(3, RecordKind.PETITION, day=200)
    assert "petitions.repeat" in fired(facts(third, history=(first, second)))
    # the petition system's own count says this is the third time
    counted = record(4, RecordKind.PETITION, repeat_count=2)
    assert "petitions.repeat" in fired(facts(counted))
    group = record(5, RecordKind.PETITION, head_count=5)
    assert fired(facts(group)) == {"petitions.group"}
    assert fired(facts(replace(group, head_count=4))) == set()
    assert "petitions.group_large" in fired(facts(replace(group, head_count=10)))


def test_a_petition_numbered_above_the_county_is_cross_level() -> None:
    petition = record(1, RecordKind.PETITION, petition_levels=frozenset({"county", "city"}))
    result = assess(facts(petition), BOOK)
    assert result.level is RiskLevel.YELLOW
    assert result.fired[0].evidence["levels"] == ["city"]
    assert fired(facts(replace(petition, petition_levels=frozenset({"county"})))) == set()


# ------------------------------------------------------------------ amounts, parties


def test_amount_thresholds_with_a_category_rule() -> None:
    dispute = record(1, RecordKind.DISPUTE, amount=Decimal("99999.99"))
    assert fired(facts(dispute)) == set()
    assert fired(facts(replace(dispute, amount=Decimal(100000)))) == {"amount.large"}
    assert assess(facts(replace(dispute, amount=Decimal(1000000))), BOOK).level is RiskLevel.RED
    wages = replace(dispute, amount=Decimal(50000), category=DisputeCategory.LABOUR)
    assert fired(facts(wages)) == {"amount.wage_arrears"}
    assert fired(facts(replace(wages, category=DisputeCategory.CONTRACT))) == set()


def test_party_count() -> None:
    dispute = record(1, RecordKind.DISPUTE, party_count=9)
    assert fired(facts(dispute)) == set()
    assert fired(facts(replace(dispute, party_count=10))) == {"parties.many"}
    assert "parties.mass" in fired(facts(replace(dispute, mention_count=30)))


# ------------------------------------------------------------------ words, source grade


def test_threats_in_the_text_are_yellow_and_weapons_red() -> None:
    threat = record(1, text="报警人称丈夫王某扬言要打她，请求民警到场")
    result = assess(facts(threat), BOOK)
    assert result.level is RiskLevel.YELLOW
    assert result.fired[0].evidence == {
        "words": [{"word": "扬言", "class": "threat", "record": "POLICE_ALERT/1"}],
        "records": ["POLICE_ALERT/1"], "dates": ["2026-03-01"],
    }  # fmt: skip
    knife = record(2, text="报警人称其丈夫酒后持菜刀追砍")
    assert assess(facts(knife), BOOK).level is RiskLevel.RED


def test_negated_threats_do_not_raise_the_grade() -> None:
    calm = record(1, text="民警到场调解，当事人表示不会报复，并未携带刀具，没有轻生念头")
    assert assess(facts(calm), BOOK).level is RiskLevel.NONE


def test_the_source_grade_is_a_fact_among_others() -> None:
    assert assess(facts(record(1, source_grade=RiskLevel.YELLOW)), BOOK).level is RiskLevel.YELLOW
    assert assess(facts(record(1, source_grade=RiskLevel.BLUE)), BOOK).level is RiskLevel.BLUE


# ------------------------------------------------------------------ maximum, override


def test_the_grade_is_the_highest_rule_and_every_fired_rule_is_listed() -> None:
    petition = record(1, RecordKind.PETITION, head_count=6, source_grade=RiskLevel.BLUE,
                      text="信访人称如不解决将跳楼")  # fmt: skip
    result = assess(facts(petition), BOOK)
    assert result.level is RiskLevel.RED
    assert [f.rule_id for f in result.fired] == ["words.extreme", "petitions.group", "source.blue"]


def test_an_override_wins_until_the_facts_change() -> None:
    threat = record(1, text="扬言要打她")
    result = assess(facts(threat), BOOK)
    override = Override(RiskLevel.BLUE, "已化解，双方和好", "staff-1", T0, result.fingerprint)
    assert effective_level(result, override) is RiskLevel.BLUE
    # the same facts again (recomputed after an unrelated sync): the override still holds
    assert effective_level(assess(facts(threat), BOOK), override) is RiskLevel.BLUE
    # a new alert by the same person: the facts changed, the computed grade is back
    again = assess(facts(threat, history=(record(2, day=3),)), BOOK)
    assert again.fingerprint != result.fingerprint
    assert effective_level(again, override) is RiskLevel.YELLOW
    assert effective_level(result, None) is RiskLevel.YELLOW


def test_repeat_calls_for_help_are_not_a_dispute_pattern() -> None:
    # three 求助 calls (keys locked in, an elderly parent lost) map to OTHER: no pattern
    calls = [record(i, day=5 * i, category=DisputeCategory.OTHER, text="请求帮助")
             for i in range(3)]  # fmt: skip
    assert assess(facts(calls[0], history=tuple(calls[1:])), BOOK).level is RiskLevel.NONE


def test_a_record_read_under_two_lexicons_gives_each_its_own_words(tmp_path: Path) -> None:
    # the words found in a text are kept on its facts object, with the matcher that found them
    rules = tmp_path / "rules.toml"
    rules.write_text('include_defaults = true\n[lexicon.classes]\nthreat = ["要打"]\n', "utf-8")
    other = load_risk_rules(rules)
    # a text no other test grades: assessments are also remembered by their facts
    threat = record(1, text=f"报警人称丈夫王某扬言要打她，请求民警到场（{uuid.uuid4()}）")

    def words(book: RiskRuleBook) -> list[object]:
        found = assess(facts(threat), book).fired
        return [w["word"] for f in found if "words" in f.evidence for w in f.evidence["words"]]

    assert words(BOOK) == ["扬言"]
    assert words(other) == ["要打"]
    assert words(BOOK) == ["扬言"]


def _standard_fingerprint(result_facts: RiskFacts) -> str:
    """A fingerprint as the standard library's JSON wrote it: what stored overrides hold."""

    def text(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)

    def part(records: tuple[RecordFacts, ...]) -> str:
        return ",".join(text(r.canonical()) for r in sorted(records, key=lambda r: r.record_id))

    document = (
        f'{{"subject":[{part(result_facts.subject)}],"history":[{part(result_facts.history)}]'
    )
    if result_facts.matter is not None:
        document += f',"matter":{text(result_facts.matter.canonical())}'
    return hashlib.sha256(f"{document}}}".encode()).hexdigest()


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(max_size=8), st.integers(min_value=0, max_value=2**62))
def test_a_fingerprint_is_the_one_the_standard_librarys_json_gave(
    text: str, place: str, amount: int
) -> None:
    # orjson writes the facts now: a staff override stored with an earlier fingerprint holds
    subject = record(
        7, text=text, place=place, amount=Decimal(amount) / 100, persons=frozenset({9, 3}),
        petition_levels=frozenset({"CITY", "COUNTY"}),
    )  # fmt: skip
    matter = MatterFacts(
        4, ((f"rule{place}", T0),), ((SupervisionLevel.REMINDER, T0 + timedelta(days=1)),)
    )
    graded = RiskFacts(TargetKind.MATTER, 4, (subject,), (record(2, text=place),), matter)
    assert fingerprint(graded) == _standard_fingerprint(graded)


def test_a_fingerprint_of_any_character_is_the_one_the_standard_librarys_json_gave() -> None:
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    for start in range(0, len(characters), 4096):
        text = "".join(characters[start : start + 4096])
        graded = facts(record(1, text=text, place='"\\'))
        assert fingerprint(graded) == _standard_fingerprint(graded), hex(start)


def test_what_a_grade_keeps_on_the_facts_leaves_them_equal() -> None:
    threat = record(1, text="报警人称丈夫王某扬言要打她")
    fresh = replace(threat)
    before = fingerprint(facts(fresh))
    assess(facts(threat), BOOK)  # its JSON and words are now kept on it

    assert threat == fresh and hash(threat) == hash(fresh) and repr(threat) == repr(fresh)
    assert fingerprint(facts(threat)) == before == fingerprint(facts(replace(threat)))
    assert fingerprint(facts(replace(threat, text="另一段案情"))) != before
    # pickled and copied as the facts alone
    pickled = pickle.loads(pickle.dumps(threat))  # noqa: S301 -- its own bytes
    for copied in (pickled, copy.deepcopy(threat), copy.copy(threat)):
        assert copied == threat and copied._json is None and copied._hits is None
    assert asdict(threat)["text"] == threat.text
