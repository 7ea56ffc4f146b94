"""The ``Mutation`` root type: staff decisions on linking and risk grades (人工研判), for roles
whose policy lists them; and ``devToken`` (开发令牌) in dev only.

Every other role is refused with ``FORBIDDEN`` before anything executes (``schema.access``).
"""

from __future__ import annotations

import strawberry

from resolvers import decisions, risk
from resolvers.dev_token import resolve_dev_token
from schema.dev_token import DevToken
from schema.linking import LinkDecisionResult, MergePersonsResult, SplitPersonResult
from schema.risk import OverrideRiskResult


@strawberry.type(
    description=(
        "Staff decisions on linking and risk (人工研判): center staff and admin only; in dev "
        "also a demo token (开发令牌)."
    )
)
class Mutation:
    confirm_link: LinkDecisionResult = strawberry.field(
        resolver=decisions.resolve_confirm_link,
        description=(
            "Confirm a link (确认关联): no automatic run changes or removes it afterwards, and "
            "other undecided links between the two records go."
        ),
    )
    reject_link: LinkDecisionResult = strawberry.field(
        resolver=decisions.resolve_reject_link,
        description=(
            "Reject a link (驳回关联): it is kept as REJECTED, left out of linkedRecords, and "
            "the two records are never linked again."
        ),
    )
    merge_persons: MergePersonsResult = strawberry.field(
        resolver=decisions.resolve_merge_persons,
        description=(
            "Merge persons into the one kept (合并人员): their mentions are pinned to it and "
            "no automatic run separates them again."
        ),
    )
    split_person: SplitPersonResult = strawberry.field(
        resolver=decisions.resolve_split_person,
        description=(
            "Move mentions off a person to a new one (拆分人员): both sides are pinned and no "
            "automatic run joins them again."
        ),
    )
    dev_token: DevToken = strawberry.field(
        resolver=resolve_dev_token,
        description=(
            "Mint a bearer token for a demo role and jurisdiction (开发令牌): GOVHUB_ENV=dev "
            "only, callable without a token, audited; refused in prod."
        ),
    )
    override_risk_grade: OverrideRiskResult = strawberry.field(
        resolver=risk.resolve_override_risk_grade,
        description=(
            "Set a record's or person's risk grade by hand, with a reason (人工调整风险等级): "
            "it holds until the facts it was made on change, then the rules grade it again."
        ),
    )
