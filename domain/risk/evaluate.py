"""Grading (风险研判): which rules fire on a set of facts, with their evidence, and the grade.

The grade is the highest level of the rules that fired (最高等级原则). A staff override
(人工调整) with a reason replaces it for as long as the facts are those it was made on: a new
record, a changed status or amount gives a new fingerprint and the computed grade again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.calendar import SHANGHAI
from domain.enums import RecordKind, RiskLevel
from domain.risk.facts import RecordFacts, RiskFacts, fingerprint, highest, level_rank
from domain.risk.lexicon import LexiconMatcher, WordHit, matcher_for
from domain.risk.rules import (
    AmountOver,
    CrossLevelPetition,
    Escalation,
    GroupPetition,
    Lexicon,
    LexiconWords,
    Overdue,
    PartyCount,
    RepeatAlerts,
    RepeatPetitions,
    RiskRuleBook,
    SourceGrade,
    Supervised,
)

Evidence = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that fired, with what it saw (研判依据)."""

    rule_id: str
    description: str
    level: RiskLevel
    evidence: Evidence

    def as_json(self) -> dict[str, Any]:
        return {"id": self.rule_id, "description": self.description,
                "level": self.level.value, "evidence": self.evidence}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Assessment:
    """The computed grade of one target."""

    level: RiskLevel
    fired: tuple[FiredRule, ...]
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Override:
    """A staff decision on the grade, made when the facts had ``fingerprint``."""

    level: RiskLevel
    reason: str
    by: str
    at: datetime
    fingerprint: str


def effective_level(assessment: Assessment, override: Override | None) -> RiskLevel:
    """The override's level while the facts are unchanged; else the computed one."""
    if override is not None and override.fingerprint == assessment.fingerprint:
        return override.level
    return assessment.level


def assess(facts: RiskFacts, book: RiskRuleBook) -> Assessment:
    """Every rule of ``book`` over ``facts``; the grade is the highest level fired.

    The rules read nothing but the facts the fingerprint covers and the records' refs, so
    equal fingerprints and refs under one book give one assessment: it is computed once (a
    person named by one record has that record's facts; a record re-graded with nothing new
    has its own again).
    """
    facts_fingerprint = fingerprint(facts)
    # with the records' order and refs, which evidence names them by
    key = (id(book), facts_fingerprint, tuple((r.record_id, r.ref) for r in facts.all_records))
    known = _ASSESSED.pop(key, None)
    if known is None:
        known = (book, _assess(facts, book, facts_fingerprint))
        if len(_ASSESSED) >= _ASSESSED_MAX:
            del _ASSESSED[next(iter(_ASSESSED))]  # the least recently used
    _ASSESSED[key] = known
    return known[1]


_AssessedKey = tuple[int, str, tuple[tuple[int, str], ...]]
_ASSESSED: dict[_AssessedKey, tuple[RiskRuleBook, Assessment]] = {}
"""Recent assessments by (book, facts fingerprint, records), least recently used first;
each keeps its book, so the book's id is not reused while it is cached."""
_ASSESSED_MAX = 4096


def _assess(facts: RiskFacts, book: RiskRuleBook, facts_fingerprint: str) -> Assessment:
    fired: list[FiredRule] = []
    ordered = sorted(facts.subject, key=_when)  # once for the rules that read them by time
    for rule in book:
        condition = rule.condition
        evaluator = _EVALUATORS.get(type(condition))
        if evaluator is None:  # pragma: no cover
            raise AssertionError(f"no evaluator for {type(condition).__name__}")
        evidence = evaluator(condition, facts, ordered, book.lexicon)
        if evidence is not None:
            fired.append(FiredRule(rule.id, rule.description, rule.level, evidence))
    level = highest(f.level for f in fired)
    fired.sort(key=lambda f: -level_rank(f.level))  # the deciding rules first
    return Assessment(level, tuple(fired), facts_fingerprint)


Evaluator = Callable[[Any, RiskFacts, Sequence[RecordFacts], Lexicon], "Evidence | None"]


def _per_record(check: Callable[[Any, RecordFacts], Evidence | None]) -> Evaluator:
    """A rule judged record by record: the evidence of the first subject record (by time)
    the check holds for."""

    def evaluate(
        condition: Any, facts: RiskFacts, ordered: Sequence[RecordFacts], lexicon: Lexicon
    ) -> Evidence | None:
        for record in ordered:
            evidence = check(condition, record)
            if evidence is not None:
                return evidence
        return None

    return evaluate


def _whole(check: Callable[[Any, RiskFacts], Evidence | None]) -> Evaluator:
    """A rule judged over all the facts at once."""
    return lambda condition, facts, ordered, lexicon: check(condition, facts)


def _when(record: RecordFacts) -> tuple[datetime, int]:
    return (record.occurred_at, record.record_id)


def _day(record: RecordFacts) -> str:
    """The Beijing day (北京时间) it happened on."""
    return record.occurred_at.astimezone(SHANGHAI).date().isoformat()


def _day_number(record: RecordFacts) -> int:
    """The Beijing day it happened on, as a day number: "within N days" (N日内) counts calendar
    days, the first day not counted (民法典 §201), so two records are within N days when
    their days are at most N apart, whatever the hour."""
    return record.occurred_at.astimezone(SHANGHAI).toordinal()


def _densest_window(
    records: Sequence[RecordFacts], days: int, subject: frozenset[int]
) -> list[RecordFacts]:
    """The largest run of ``records`` within ``days`` of its first that holds a subject record."""
    ordered = sorted(records, key=_when)
    # held[i]: subject records among the first i, so a window's test is a subtraction, not a
    # walk of the window (a person's hundreds of records made that quadratic)
    held = [0]
    for record in ordered:
        held.append(held[-1] + (record.record_id in subject))
    numbers = [_day_number(record) for record in ordered]
    best: list[RecordFacts] = []
    end = 0
    for start in range(len(ordered)):
        end = max(end, start)
        while end + 1 < len(ordered) and numbers[end + 1] - numbers[start] <= days:
            end += 1
        if end + 1 - start > len(best) and held[end + 1] > held[start]:
            best = ordered[start : end + 1]
    return best


def _repeat_alerts(condition: RepeatAlerts, facts: RiskFacts) -> Evidence | None:
    alerts = [
        r for r in facts.all_records
        if r.kind is RecordKind.POLICE_ALERT
        and (condition.categories is None or r.category in condition.categories)
    ]  # fmt: skip
    groups: dict[object, list[RecordFacts]] = defaultdict(list)
    for alert in alerts:
        keys: Iterable[object] = (
            (alert.place,) if condition.by == "place" and alert.place else
            alert.person_ids if condition.by == "person" else ()
        )  # fmt: skip
        for key in keys:
            groups[key].append(alert)
    best: list[RecordFacts] = []
    for group in groups.values():
        window = _densest_window(group, condition.within_days, facts.subject_ids)
        if len(window) > len(best):
            best = window
    if len(best) < condition.at_least:
        return None
    evidence: Evidence = {
        "count": len(best), "withinDays": condition.within_days,
        "records": [r.ref for r in best], "dates": [_day(r) for r in best],
    }  # fmt: skip
    if condition.by == "place":
        evidence["place"] = best[0].place
    return evidence


def _connected(a: RecordFacts, b: RecordFacts, subject: frozenset[int]) -> bool:
    """On the same matter (both graded together) or naming the same person."""
    both_subject = a.record_id in subject and b.record_id in subject
    return both_subject or bool(a.person_ids & b.person_ids)


def _escalation(condition: Escalation, facts: RiskFacts) -> Evidence | None:
    subject = facts.subject_ids
    records = sorted(facts.all_records, key=_when)
    day = {record.record_id: _day_number(record) for record in records}
    for start in records:
        if start.kind not in condition.from_kinds or start.status not in condition.from_statuses:
            continue
        for later in records:
            if (
                later.kind in condition.to_kinds
                and start.occurred_at <= later.occurred_at
                and day[later.record_id] - day[start.record_id] <= condition.within_days
                and (start.record_id in subject or later.record_id in subject)
                and _connected(start, later, subject)
            ):
                return {
                    "records": [start.ref, later.ref], "dates": [_day(start), _day(later)],
                    "from": f"{start.kind.value}:{start.status.value}", "to": later.kind.value,
                }  # fmt: skip
    return None


def _repeat_petitions(condition: RepeatPetitions, facts: RiskFacts) -> Evidence | None:
    subject = facts.subject_ids
    petitions = [r for r in facts.all_records if r.kind is RecordKind.PETITION]
    best: list[RecordFacts] = []
    groups: dict[object, list[RecordFacts]] = defaultdict(list)
    for petition in petitions:
        if petition.record_id in subject:
            groups["subject"].append(petition)
        for person in petition.person_ids:
            groups[person].append(petition)
    for group in groups.values():
        window = _densest_window(group, condition.within_days, subject)
        if len(window) > len(best):
            best = window
    if len(best) >= condition.at_least:
        return {"count": len(best), "withinDays": condition.within_days,
                "records": [r.ref for r in best], "dates": [_day(r) for r in best]}  # fmt: skip
    # the petition system's own count of earlier petitions on the matter (重复信访次数)
    for petition in sorted(petitions, key=_when):
        counted = (petition.repeat_count or 0) + 1
        if petition.record_id in subject and counted >= condition.at_least:
            return {"count": counted, "repeatCountBySource": petition.repeat_count,
                    "records": [petition.ref], "dates": [_day(petition)]}  # fmt: skip
    return None


def _group(condition: GroupPetition, record: RecordFacts) -> Evidence | None:
    if record.kind is not RecordKind.PETITION:
        return None
    people = max(record.head_count or 0, record.mention_count)
    if people < condition.at_least:
        return None
    return {"people": people, "records": [record.ref], "dates": [_day(record)]}


def _cross_level(condition: CrossLevelPetition, record: RecordFacts) -> Evidence | None:
    levels = sorted(record.petition_levels & condition.levels)
    if record.kind is not RecordKind.PETITION or not levels:
        return None
    return {"levels": levels, "records": [record.ref], "dates": [_day(record)]}


def _amount(condition: AmountOver, record: RecordFacts) -> Evidence | None:
    if record.amount is None or record.amount < Decimal(condition.at_least):
        return None
    if condition.categories is not None and record.category not in condition.categories:
        return None
    return {"amount": str(record.amount), "threshold": condition.at_least,
            "records": [record.ref], "dates": [_day(record)]}  # fmt: skip


def _parties(condition: PartyCount, record: RecordFacts) -> Evidence | None:
    if record.parties < condition.at_least:
        return None
    return {"parties": record.parties, "records": [record.ref], "dates": [_day(record)]}


def _words(
    condition: LexiconWords, facts: RiskFacts, ordered: Sequence[RecordFacts], lexicon: Lexicon
) -> Evidence | None:
    """Lexicon words in the subject records' text (``ordered``: by time)."""
    matcher = matcher_for(lexicon)
    found: list[dict[str, str]] = []
    refs: list[str] = []
    for record in ordered:
        hits = [h for h in _hits_of(matcher, record) if h.word_class in condition.classes]
        if hits:
            refs.append(record.ref)
            found.extend({"word": h.word, "class": h.word_class, "record": record.ref}
                         for h in hits)  # fmt: skip
    if not found:
        return None
    dates = [_day(r) for r in ordered if r.ref in refs]
    return {"words": found, "records": refs, "dates": dates}


def _hits_of(matcher: LexiconMatcher, record: RecordFacts) -> tuple[WordHit, ...]:
    """The lexicon words in ``record``'s text, found once per facts object and matcher (by
    its id: :func:`matcher_for` keeps its matchers for the life of the process)."""
    known = record._hits
    if known is not None and known[0] == id(matcher):
        return known[1]  # type: ignore[return-value]  # what this function stored
    hits = tuple(matcher.find(record.text))
    object.__setattr__(record, "_hits", (id(matcher), hits))
    return hits


def _source_grade(condition: SourceGrade, record: RecordFacts) -> Evidence | None:
    if record.source_grade not in condition.grades:
        return None
    return {"sourceGrade": record.source_grade.value, "records": [record.ref],
            "dates": [_day(record)]}  # fmt: skip


def _overdue(condition: Overdue, facts: RiskFacts) -> Evidence | None:
    matter = facts.matter
    if matter is None or len(matter.breaches) < condition.at_least:
        return None
    breaches = sorted(matter.breaches, key=lambda b: b[1])
    return {"count": len(breaches), "rules": [rule for rule, _ in breaches],
            "dates": [_local_day(at) for _, at in breaches]}  # fmt: skip


def _supervised(condition: Supervised, facts: RiskFacts) -> Evidence | None:
    matter = facts.matter
    if matter is None:
        return None
    orders = sorted((at, level) for level, at in matter.supervisions if level in condition.levels)
    if not orders:
        return None
    return {"levels": [level for _, level in orders],
            "dates": [_local_day(at) for at, _ in orders]}  # fmt: skip


def _local_day(at: datetime) -> str:
    return at.astimezone(SHANGHAI).date().isoformat()


_EVALUATORS: dict[type, Evaluator] = {
    RepeatAlerts: _whole(_repeat_alerts),
    Escalation: _whole(_escalation),
    RepeatPetitions: _whole(_repeat_petitions),
    GroupPetition: _per_record(_group),
    CrossLevelPetition: _per_record(_cross_level),
    AmountOver: _per_record(_amount),
    PartyCount: _per_record(_parties),
    LexiconWords: _words,
    SourceGrade: _per_record(_source_grade),
    Overdue: _whole(_overdue),
    Supervised: _whole(_supervised),
}
"""Each kind of condition and how it is judged."""
