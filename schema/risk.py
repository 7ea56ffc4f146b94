"""Risk grades (风险研判) as GraphQL types: the grade, the rules that fired and why.

The evidence of a rule names records by their source key and can quote words from a record's
text or its address, so it is free text; the grade, the rule ids and descriptions are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, cast

import strawberry
from sqlalchemy import RowMapping
from strawberry.scalars import JSON

from domain.enums import RecordKind, RiskLevel
from schema.sensitivity import FREE_TEXT, PUBLIC, guarded_type


@guarded_type
@strawberry.type(description="A rule that fired, with what it saw (研判依据).")
class RiskRuleHit:
    id: str = strawberry.field(metadata=PUBLIC, description="Rule id (规则编号).")
    description: str = strawberry.field(metadata=PUBLIC, description="What it checks (规则说明).")
    level: RiskLevel = strawberry.field(
        metadata=PUBLIC, description="The level it raises the grade to (规则等级)."
    )
    evidence: JSON = strawberry.field(
        metadata=FREE_TEXT,
        description=(
            "What it saw (证据): the records (SOURCE/key), dates, counts, amounts, matched "
            "words or place."
        ),
    )


@guarded_type
@strawberry.type(
    description=(
        "A risk grade (风险研判结果): the highest level of the rules that fired, or a staff "
        "override while the facts it was made on hold."
    )
)
class RiskAssessment:
    level: RiskLevel = strawberry.field(
        metadata=PUBLIC, description="The grade shown (风险等级): the override's while it holds."
    )
    computed_level: RiskLevel = strawberry.field(
        metadata=PUBLIC, description="The grade the rules give (规则研判等级)."
    )
    rules: list[RiskRuleHit] = strawberry.field(
        metadata=PUBLIC, description="The rules that fired, highest first (命中规则)."
    )
    assessed_at: datetime = strawberry.field(
        metadata=PUBLIC, description="When it was last graded (研判时间)."
    )
    overridden_by: str | None = strawberry.field(
        metadata=PUBLIC,
        description="Who set the grade by hand, while that holds (人工调整人); else null.",
    )
    overridden_at: datetime | None = strawberry.field(
        metadata=PUBLIC, description="When the grade was set by hand (人工调整时间)."
    )
    override_reason: str | None = strawberry.field(
        metadata=FREE_TEXT, description="Why it was set by hand (调整理由)."
    )


def risk_assessment_from_row(
    row: RowMapping, rules: Sequence[Mapping[str, Any]] | None = None
) -> RiskAssessment:
    """The stored grade; ``rules`` replaces the stored rules (their evidence cut to the
    reader's scope, see ``domain.risk.redaction``)."""
    holds = row["override_level"] is not None and (
        row["override_fingerprint"] == row["facts_fingerprint"]
    )
    if rules is None:
        rules = row["rules"] or []
    return RiskAssessment(
        level=row["effective_level"],
        computed_level=row["level"],
        rules=[
            RiskRuleHit(
                id=rule["id"],
                description=rule["description"],
                level=RiskLevel(rule["level"]),
                evidence=cast("JSON", rule.get("evidence") or {}),
            )
            for rule in rules
        ],
        assessed_at=row["assessed_at"],
        overridden_by=row["overridden_by"] if holds else None,
        overridden_at=row["overridden_at"] if holds else None,
        override_reason=row["override_reason"] if holds else None,
    )


@strawberry.type(
    description=(
        "A grade rose to the alert level (风险预警): the record, person or matter, its new and "
        "previous grade. Read the assessment with node(id), person(id) or matter(id), within "
        "your scope."
    )
)
class RiskAlert:
    target_id: strawberry.ID = strawberry.field(
        description="Global id of the record, person or matter graded (研判对象 ID)."
    )
    kinds: list[RecordKind] = strawberry.field(
        description="Kinds of the records behind the grade (涉及记录类型)."
    )
    region_code: str | None = strawberry.field(description="Region code (区划代码).")
    level: RiskLevel = strawberry.field(description="The new grade (当前等级).")
    previous: RiskLevel = strawberry.field(description="The grade before (原等级).")
    raised_at: datetime = strawberry.field(description="When it was raised (预警时间).")


@strawberry.enum(description="Why a grade could not be set by hand (人工调整错误码).")
class RiskOverrideErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND",
        description=(
            "No such record, person or matter within your scope, or not graded yet (未找到)."
        ),
    )
    BAD_USER_INPUT = strawberry.enum_value(
        "BAD_USER_INPUT",
        description="An id of another type, or an empty reason (输入有误).",
    )


@strawberry.type(description="The grade as now set (人工调整结果).")
class RiskOverridden:
    target_id: strawberry.ID = strawberry.field(
        description="The record, person or matter (研判对象 ID)."
    )
    assessment: RiskAssessment = strawberry.field(description="Its grade now (当前研判结果).")


@strawberry.type(description="Why the grade was not set (人工调整失败).")
class RiskOverrideError:
    code: RiskOverrideErrorCode = strawberry.field(description="What went wrong (错误码).")
    message: str = strawberry.field(description="For people; names ids only (错误说明).")


OverrideRiskResult = Annotated[
    RiskOverridden | RiskOverrideError,
    strawberry.union(
        "OverrideRiskResult", description="The grade as set, or why not (人工调整结果)."
    ),
]
