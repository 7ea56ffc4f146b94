"""Deadline rules as data (时限规则): one entry per clock, read from TOML.

The shipped ``default_rules.toml`` holds the national limits (法定时限) with their legal basis
and the local-practice ones (地方惯例), each marked with ``scope``. A centre replaces or
extends them with its own file (``include_defaults = true`` keeps the shipped rules and lets
the file replace some by id, add others and ``disable`` the rest it does not use).

Loading is strict: an unknown key, a missing one, a value of the wrong kind or a combination
that makes no sense (roll-forward on an hour limit, an extension without an approver) raises
:class:`DeadlineRuleError` naming the file, the rule and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    field_validator,
    model_validator,
)

from domain.enums import CaseStatus
from domain.rulefiles import disable_rules, read_utf8, validated_rules
from domain.workflow.vocabulary import (
    FEEDBACK_RESULTS,
    ComplexityTier,
    DispatchTrack,
    MatterAction,
    MatterFact,
    MatterOrigin,
    SourceFact,
    SupervisionAction,
    SupervisionLevel,
)

Trigger = MatterAction | MatterFact | SourceFact | SupervisionAction
"""An event that starts or stops a clock: a matter action, a recorded fact, a fact a synced
record's own system reports (taken over at intake), a 督办 action."""

_TRIGGERS: dict[str, Trigger] = {
    member.value: member
    for enum in (MatterAction, MatterFact, SourceFact, SupervisionAction)
    for member in enum
}


def parse_trigger(name: str) -> Trigger:
    try:
        return _TRIGGERS[name]
    except KeyError:
        raise ValueError(f"unknown event {name!r}") from None


class TimeUnit(StrEnum):
    """How a budget is counted (计算单位)."""

    CALENDAR_DAY = "calendar_day"  # 日 (自然日): the law's default
    WORKING_DAY = "working_day"  # 工作日 (不含法定节假日, 含调休上班日)
    WORKING_HOUR = "working_hour"  # 工作时 (office hours of working days)
    HOUR = "hour"  # 小时 (around the clock)

    @property
    def counts_days(self) -> bool:
        return self in (TimeUnit.CALENDAR_DAY, TimeUnit.WORKING_DAY)


class RollRule(StrEnum):
    """What happens when the last day is not a working day (期间届满日顺延)."""

    NONE = "none"  # 不顺延
    NEXT_WORKING_DAY = "next_working_day"  # 顺延至节假日后的第一个工作日 (民法典 §203)


class RuleScope(StrEnum):
    """Where a limit comes from (依据层级)."""

    NATIONAL = "national"  # 全国性法律法规、司法解释
    LOCAL = "local"  # 地方法规或地方惯例: set per centre


class Duty(StrEnum):
    """Whose duty the clock measures, and so who is supervised (督办) when it runs out."""

    ASSIGNEE = "assignee"  # 承办单位: the organisation the matter is dispatched to
    CENTRE = "centre"  # 综治中心
    SUPERVISED_ORG = "supervised_org"  # the organisation a 督办单 targets
    PARTIES = "parties"  # 当事人: a reminder only, nobody is supervised

    @property
    def supervised_on_breach(self) -> bool:
        return self is not Duty.PARTIES


class ExtensionApprover(StrEnum):
    """Who must approve an extension (延期审批)."""

    NONE = "none"  # 不得延期
    HEAD_OF_BODY = "head_of_body"  # 本机关负责人批准 (信访工作条例 §34)
    COURT_PRESIDENT = "court_president"  # 院长批准
    PARTIES_CONSENT = "parties_consent"  # 双方当事人同意
    CENTRE_LEADER = "centre_leader"  # 综治中心负责人批准


class RuleConditions(BaseModel):
    """When a rule applies (适用条件); a listed condition must hold, an omitted one is free."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    origins: frozenset[MatterOrigin] | None = None
    tracks: frozenset[DispatchTrack] | None = None
    tiers: frozenset[ComplexityTier] | None = None
    results: frozenset[CaseStatus] | None = None
    levels: frozenset[SupervisionLevel] | None = None

    @field_validator("results")
    @classmethod
    def _feedback_results(cls, value: frozenset[CaseStatus] | None) -> frozenset[CaseStatus] | None:
        if value is not None and not value <= FEEDBACK_RESULTS:
            raise ValueError("results may name only RESOLVED and FAILED")
        return value

    @field_validator("*")
    @classmethod
    def _not_empty(cls, value: frozenset[Any] | None) -> frozenset[Any] | None:
        if value is not None and not value:
            raise ValueError("an empty list matches nothing; omit the key to match anything")
        return value


@dataclass(frozen=True, slots=True)
class RuleFacts:
    """What a rule's conditions are checked against: the matter (or 督办单) after the event."""

    origin: MatterOrigin | None = None
    track: DispatchTrack | None = None
    tier: ComplexityTier | None = None
    result: CaseStatus | None = None
    level: SupervisionLevel | None = None


_RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class DeadlineRule(BaseModel):
    """One clock (时限): what starts and stops it, its budget and how that budget is counted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id, e.g. petition.handle; clocks store it.")
    name: str = Field(min_length=1, description="Chinese name, e.g. 信访事项办理.")
    scope: RuleScope
    basis: str = Field(min_length=1, description="Legal basis or the local practice followed.")
    starts_on: tuple[Trigger, ...] = Field(min_length=1)
    stops_on: tuple[Trigger, ...] = Field(min_length=1)
    when: RuleConditions = RuleConditions()
    budget: int = Field(gt=0, strict=True)
    unit: TimeUnit
    start_day_counts: StrictBool = False
    """False: the day of the start event is not counted (民法典 §201, 民诉法 §85)."""
    roll: RollRule = RollRule.NONE
    duty: Duty
    suspendable: StrictBool = False
    max_extension: int | Literal["unlimited"] = 0
    extension_approver: ExtensionApprover = ExtensionApprover.NONE
    warn_at: tuple[StrictFloat, ...] = (0.5, 0.8)
    """Shares of the budget elapsed at which a warning (预警) fires, as whole percentages."""
    note: str = ""

    @field_validator("id")
    @classmethod
    def _id_form(cls, value: str) -> str:
        if not _RULE_ID.match(value):
            raise ValueError("must be lower-case words joined by dots, e.g. petition.handle")
        return value

    @field_validator("starts_on", "stops_on", mode="before")
    @classmethod
    def _triggers(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(parse_trigger(v) if isinstance(v, str) else v for v in value)
        return value

    @field_validator("max_extension", mode="before")
    @classmethod
    def _extension_bound(cls, value: Any) -> Any:
        if value == "unlimited" or (type(value) is int and value >= 0):
            return value
        raise ValueError('must be a whole number of units (0: none) or "unlimited"')

    @field_validator("warn_at")
    @classmethod
    def _warn_shares(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        percents = [share * 100 for share in value]
        if any(not 0 < p < 100 or abs(p - round(p)) > 1e-9 for p in percents):
            raise ValueError("each share must be a whole percentage between 0 and 1, e.g. 0.8")
        if [round(p) for p in percents] != sorted({round(p) for p in percents}):
            raise ValueError("shares must be increasing and distinct")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DeadlineRule:
        if not self.unit.counts_days:
            if self.roll is not RollRule.NONE:
                raise ValueError(f"roll: must be \"none\" for unit {self.unit.value}")
            if self.start_day_counts:
                raise ValueError(f"start_day_counts: applies to day units, not {self.unit.value}")
        extendable = self.max_extension != 0
        if extendable and self.extension_approver is ExtensionApprover.NONE:
            raise ValueError("extension_approver: an extendable rule must say who approves")
        if not extendable and self.extension_approver is not ExtensionApprover.NONE:
            raise ValueError("extension_approver: set, but max_extension is 0")
        return self

    @property
    def warn_percents(self) -> tuple[int, ...]:
        return tuple(round(share * 100) for share in self.warn_at)

    @property
    def extension_limit(self) -> int | None:
        """The most the budget may be extended by in all; None when unlimited."""
        return None if self.max_extension == "unlimited" else self.max_extension

    def applies(self, facts: RuleFacts) -> bool:
        when = self.when
        return all(
            allowed is None or (value is not None and value in allowed)
            for allowed, value in (
                (when.origins, facts.origin),
                (when.tracks, facts.track),
                (when.tiers, facts.tier),
                (when.results, facts.result),
                (when.levels, facts.level),
            )
        )


class DeadlineRuleError(ValueError):
    """A rules file that cannot be used; the message names the file, the rule and the key."""


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The rules in force, by id, and which of them an event starts or stops."""

    rules: Mapping[str, DeadlineRule]
    source: str

    def __getitem__(self, rule_id: str) -> DeadlineRule:
        return self.rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.rules

    def __iter__(self) -> Iterator[DeadlineRule]:
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)

    def started_by(self, trigger: Trigger, facts: RuleFacts) -> tuple[DeadlineRule, ...]:
        return tuple(r for r in self if trigger in r.starts_on and r.applies(facts))

    def stopped_by(self, trigger: Trigger) -> tuple[DeadlineRule, ...]:
        return tuple(r for r in self if trigger in r.stops_on)


DEFAULT_RULES_FILE = "default_rules.toml"


def load_rules(path: Path | None = None) -> RuleBook:
    """The rules in ``path``, or the shipped defaults when ``path`` is None."""
    if path is None:
        text = resources.files("domain.deadlines").joinpath(DEFAULT_RULES_FILE).read_text("utf-8")
        return _parse(text, "default_rules.toml", allow_include=False)
    return _parse(read_utf8(path, DeadlineRuleError), str(path), allow_include=True)


def _parse(text: str, where: str, *, allow_include: bool) -> RuleBook:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeadlineRuleError(f"{where}: not valid TOML: {exc}") from exc
    allowed = {"rule", "include_defaults", "disable"} if allow_include else {"rule"}
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise DeadlineRuleError(f"{where}: unknown top-level key(s) {unknown}")
    raw_rules = document.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise DeadlineRuleError(f"{where}: rules must be [[rule]] tables")

    rules: dict[str, DeadlineRule] = {}
    include = document.get("include_defaults", False)
    if not isinstance(include, bool):
        raise DeadlineRuleError(f"{where}: include_defaults must be true or false")
    if include:
        rules.update(load_rules().rules)
    for rule in validated_rules(DeadlineRule, raw_rules, where, DeadlineRuleError, _describe):
        if rule.id in rules and not include:
            raise DeadlineRuleError(f"{where}: rule {rule.id!r} is defined twice")
        rules[rule.id] = rule
    disable_rules(rules, document.get("disable", []), include, where, DeadlineRuleError)
    if not rules:
        raise DeadlineRuleError(f"{where}: defines no rules")
    return RuleBook(rules, where)






def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"] if not _is_union_branch(part))
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {key!r}"
    if kind == "missing":
        return f"missing key {key!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{key}: {message}" if key else message


def _is_union_branch(part: object) -> bool:
    # pydantic names the union member it tried ("int", "literal['unlimited']") in the location
    return isinstance(part, str) and (
        part in {"int", "str"} or part.startswith(("literal[", "function-"))
    )
