"""Risk rules as data (风险研判规则): one entry per rule, read from TOML.

The shipped ``default_rules.toml`` carries a rubric after the published local sets (红黄蓝,
民转刑 signals, 欠薪 amounts, 集体访 head counts) and a curated lexicon of words that signal
threats, weapons, self-harm or revenge. A centre replaces or extends them with its own file
(``GOVHUB_RISK_RULES_FILE``; ``include_defaults = true`` keeps the shipped rules and lexicon,
lets the file replace rules by id, add others and ``disable`` the rest).

Loading is strict: an unknown key, a missing one, a value of the wrong kind, a condition of an
unknown kind or a lexicon class no list defines raises :class:`RiskRuleError` naming the file,
the rule and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.enums import CaseStatus, DisputeCategory, RecordKind, RiskLevel
from domain.rulefiles import disable_rules, read_utf8, validated_rules
from domain.workflow.vocabulary import SupervisionLevel

_FROZEN = ConfigDict(extra="forbid", frozen=True)
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class RepeatAlerts(BaseModel):
    """≥ ``at_least`` 110 alerts at one place, or with one person, within ``within_days``;
    only alerts of ``categories`` count when given (disputes, not 求助 or 盗窃)."""

    model_config = _FROZEN
    kind: Literal["repeat_alerts"]
    by: Literal["place", "person"]
    at_least: int = Field(ge=2, strict=True)
    within_days: int = Field(gt=0, strict=True)
    categories: frozenset[DisputeCategory] | None = Field(default=None, min_length=1)


class Escalation(BaseModel):
    """A record of ``from_kinds`` in ``from_statuses`` followed, within ``within_days``, by a
    record of ``to_kinds`` on the same matter or with the same person (调解失败 → 信访/起诉)."""

    model_config = _FROZEN
    kind: Literal["escalation"]
    from_kinds: frozenset[RecordKind] = Field(min_length=1)
    from_statuses: frozenset[CaseStatus] = Field(min_length=1)
    to_kinds: frozenset[RecordKind] = Field(min_length=1)
    within_days: int = Field(gt=0, strict=True)


class RepeatPetitions(BaseModel):
    """≥ ``at_least`` petitions on one matter or by one person (重复信访): the petitions held,
    or the petition system's own repeat count, whichever says more."""

    model_config = _FROZEN
    kind: Literal["repeat_petitions"]
    at_least: int = Field(ge=2, strict=True)
    within_days: int = Field(gt=0, strict=True)


class GroupPetition(BaseModel):
    """A petition by ≥ ``at_least`` people (集体访)."""

    model_config = _FROZEN
    kind: Literal["group_petition"]
    at_least: int = Field(ge=2, strict=True)


class CrossLevelPetition(BaseModel):
    """A petition numbered by one of ``levels`` (越级: taken above the county)."""

    model_config = _FROZEN
    kind: Literal["cross_level_petition"]
    levels: frozenset[Literal["city", "province", "national"]] = Field(min_length=1)


class AmountOver(BaseModel):
    """An amount in dispute ≥ ``at_least`` yuan, optionally in some categories (欠薪, 债务)."""

    model_config = _FROZEN
    kind: Literal["amount"]
    at_least: int = Field(gt=0, strict=True)
    categories: frozenset[DisputeCategory] | None = Field(default=None, min_length=1)


class PartyCount(BaseModel):
    """≥ ``at_least`` parties on one record (涉众)."""

    model_config = _FROZEN
    kind: Literal["party_count"]
    at_least: int = Field(ge=2, strict=True)


class LexiconWords(BaseModel):
    """Words of the lexicon ``classes`` in a record's text, not negated (极端言行)."""

    model_config = _FROZEN
    kind: Literal["lexicon"]
    classes: frozenset[str] = Field(min_length=1)


class SourceGrade(BaseModel):
    """The source system graded the record itself as one of ``grades`` (来源定级)."""

    model_config = _FROZEN
    kind: Literal["source_grade"]
    grades: frozenset[RiskLevel] = Field(min_length=1)

    @field_validator("grades")
    @classmethod
    def _levels(cls, value: frozenset[RiskLevel]) -> frozenset[RiskLevel]:
        if RiskLevel.NONE in value:
            raise ValueError("may name BLUE, YELLOW and RED, not NONE")
        return value


class Overdue(BaseModel):
    """A matter's clocks breached (逾期) ``at_least`` times; matters only."""

    model_config = _FROZEN
    kind: Literal["overdue"]
    at_least: int = Field(ge=1, strict=True)


class Supervised(BaseModel):
    """A matter under a 督办单 of one of ``levels`` (open or replied: 挂牌督办); matters only."""

    model_config = _FROZEN
    kind: Literal["supervised"]
    levels: frozenset[SupervisionLevel] = Field(min_length=1)


Condition = Annotated[
    RepeatAlerts
    | Escalation
    | RepeatPetitions
    | GroupPetition
    | CrossLevelPetition
    | AmountOver
    | PartyCount
    | LexiconWords
    | SourceGrade
    | Overdue
    | Supervised,
    Field(discriminator="kind"),
]


class RiskRule(BaseModel):
    """One rule: when its condition holds, the grade is at least ``level``."""

    model_config = _FROZEN

    id: str
    description: str = Field(min_length=1, description="Chinese, shown with the grade.")
    level: RiskLevel
    condition: Condition

    @field_validator("id")
    @classmethod
    def _id_form(cls, value: str) -> str:
        if not _RULE_ID.match(value):
            raise ValueError("must be lower-case words joined by dots, e.g. alerts.repeat_place")
        return value

    @field_validator("level")
    @classmethod
    def _raises(cls, value: RiskLevel) -> RiskLevel:
        if value is RiskLevel.NONE:
            raise ValueError("a rule raises the grade to BLUE, YELLOW or RED")
        return value


class Lexicon(BaseModel):
    """Word classes (threat, weapon, self_harm, revenge, …) and the negators that cancel a
    word they stand before in the same clause (不会, 没有, 并未, …)."""

    model_config = _FROZEN

    negations: tuple[str, ...] = Field(min_length=1)
    classes: Mapping[str, tuple[str, ...]] = Field(min_length=1)

    @field_validator("classes")
    @classmethod
    def _words(cls, value: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
        for name, words in value.items():
            if not words or any(not w.strip() for w in words):
                raise ValueError(f"class {name!r} must list words")
        return value


class RiskRuleError(ValueError):
    """A rules file that cannot be used; the message names the file, the rule and the key."""


@dataclass(frozen=True, slots=True)
class RiskRuleBook:
    """The rules in force, in file order, and the lexicon they read."""

    rules: tuple[RiskRule, ...]
    lexicon: Lexicon
    source: str

    def __iter__(self) -> Iterator[RiskRule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str) -> RiskRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


DEFAULT_RULES_FILE = "default_rules.toml"


def load_risk_rules(path: Path | None = None) -> RiskRuleBook:
    """The rules in ``path``, or the shipped defaults when ``path`` is None."""
    if path is None:
        text = resources.files("domain.risk").joinpath(DEFAULT_RULES_FILE).read_text("utf-8")
        return _parse(text, DEFAULT_RULES_FILE, allow_include=False)
    return _parse(read_utf8(path, RiskRuleError), str(path), allow_include=True)


def _parse(text: str, where: str, *, allow_include: bool) -> RiskRuleBook:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RiskRuleError(f"{where}: not valid TOML: {exc}") from exc
    allowed = {"rule", "lexicon"} | ({"include_defaults", "disable"} if allow_include else set())
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise RiskRuleError(f"{where}: unknown top-level key(s) {unknown}")
    include = document.get("include_defaults", False)
    if not isinstance(include, bool):
        raise RiskRuleError(f"{where}: include_defaults must be true or false")
    defaults = load_risk_rules() if include else None
    raw_rules = document.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise RiskRuleError(f"{where}: rules must be [[rule]] tables")
    rules: dict[str, RiskRule] = {r.id: r for r in defaults.rules} if defaults else {}
    for rule in validated_rules(RiskRule, raw_rules, where, RiskRuleError, _describe):
        rules[rule.id] = rule
    disable_rules(rules, document.get("disable", []), include, where, RiskRuleError)
    lexicon = _lexicon(document.get("lexicon"), defaults.lexicon if defaults else None, where)
    if not rules:
        raise RiskRuleError(f"{where}: defines no rules")
    for rule in rules.values():
        if isinstance(rule.condition, LexiconWords):
            missing = sorted(rule.condition.classes - set(lexicon.classes))
            if missing:
                raise RiskRuleError(
                    f"{where}: rule {rule.id!r}: condition.classes: no lexicon class {missing}"
                )
    return RiskRuleBook(tuple(rules.values()), lexicon, where)




def _lexicon(raw: Any, default: Lexicon | None, where: str) -> Lexicon:
    if raw is None:
        if default is None:
            raise RiskRuleError(f"{where}: missing [lexicon]")
        return default
    if not isinstance(raw, dict):
        raise RiskRuleError(f"{where}: lexicon must be a table")
    if default is not None:  # the file's lists replace the shipped ones by name
        raw = {
            "negations": raw.get("negations", default.negations),
            "classes": {**default.classes, **raw.get("classes", {})},
            **{k: v for k, v in raw.items() if k not in {"negations", "classes"}},
        }
    try:
        return Lexicon.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise RiskRuleError(f"{where}: lexicon: {problems}") from None




def _describe(error: Any) -> str:
    # pydantic puts the discriminator's tag (the condition kind) in the location: leave it out
    key = ".".join(
        str(part) for part in error["loc"]
        if not (isinstance(part, str) and part in _CONDITION_KINDS)
    )  # fmt: skip
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {key!r}"
    if kind == "missing":
        return f"missing key {key!r}"
    if kind == "union_tag_invalid":
        return f"{key}: unknown condition kind {error['input'].get('kind')!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}: {message}" if key else message


_CONDITION_KINDS = frozenset(
    model.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]  # Literal["x"]
    for model in (RepeatAlerts, Escalation, RepeatPetitions, GroupPetition, CrossLevelPetition,
                  AmountOver, PartyCount, LexiconWords, SourceGrade, Overdue, Supervised)
)  # fmt: skip
