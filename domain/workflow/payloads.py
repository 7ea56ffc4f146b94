"""What each action carries (操作参数), validated strictly.

A GraphQL mutation's input arrives as a mapping and is validated here, so the rules for
"a reason is required", "a result is RESOLVED or FAILED" live in one place; a violation is a
:class:`~domain.workflow.errors.BadInput` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.enums import CaseStatus, DisputeCategory, RiskLevel
from domain.validators import InvalidIdentifier, validate_division_code
from domain.workflow.errors import BadInput
from domain.workflow.vocabulary import (
    FEEDBACK_RESULTS,
    ComplexityTier,
    DispatchTrack,
    MatterFact,
    MatterOrigin,
    MatterOutcome,
    Satisfaction,
    SupervisionLevel,
)

Note = Annotated[str, Field(max_length=2000)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
OrgId = Annotated[str, Field(min_length=1, max_length=100)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class OpenPayload(Payload):
    origin: MatterOrigin
    region_code: str | None = None
    category: DisputeCategory = DisputeCategory.OTHER
    risk: RiskLevel = RiskLevel.NONE
    title: Annotated[str, Field(min_length=1, max_length=200)]

    @field_validator("region_code")
    @classmethod
    def _division(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_division_code(value)
        except InvalidIdentifier as exc:
            raise ValueError(str(exc)) from None


class NotePayload(Payload):
    """Admit, accept, verify, resume: a note is all they carry."""

    note: Note = ""


class ReasonPayload(Payload):
    """Object, send back, reopen, suspend, withdraw: a reason is required."""

    reason: Reason


class AssessPayload(Payload):
    category: DisputeCategory
    risk: RiskLevel
    tier: ComplexityTier
    lead_org: OrgId
    """The lead department (牵头单位)."""
    note: Note = ""


class DispatchPayload(Payload):
    org: OrgId
    track: DispatchTrack
    note: Note = ""


class RedispatchPayload(Payload):
    org: OrgId
    track: DispatchTrack
    reason: Reason


class ProgressPayload(Payload):
    note: Annotated[str, Field(min_length=1, max_length=2000)]
    evidence_record_id: int | None = None
    """The synced record the progress was taken from, when the system reports it."""


class ResultPayload(Payload):
    result: CaseStatus
    note: Note = ""
    evidence_record_id: int | None = None

    @field_validator("result")
    @classmethod
    def _feedback(cls, value: CaseStatus) -> CaseStatus:
        if value not in FEEDBACK_RESULTS:
            raise ValueError("must be RESOLVED or FAILED")
        return value


class ClosePayload(Payload):
    outcome: MatterOutcome
    note: Note = ""


class RevisitPayload(Payload):
    satisfaction: Satisfaction
    note: Note = ""


class ExtendPayload(Payload):
    rule_id: Annotated[str, Field(min_length=1, max_length=100)]
    amount: Annotated[int, Field(gt=0)]
    approval: Annotated[str, Field(max_length=500)] = ""
    """Who approved and how (e.g. 负责人批准, 文号); required when the rule names an approver."""
    reason: Reason


class RecordFactPayload(Payload):
    fact: MatterFact
    at: datetime | None = None
    """When the fact happened (e.g. the day an agreement took effect); defaults to now."""
    note: Note = ""
    evidence_record_id: int | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("must carry a time zone")
        return value


class IssueSupervisionPayload(Payload):
    level: SupervisionLevel
    target_org: OrgId
    reason: Reason
    issuing_region: str | None = None
    """The centre level issuing it (督办主体); defaults to the matter's region."""


class ReplySupervisionPayload(Payload):
    reply: Annotated[str, Field(min_length=1, max_length=2000)]


P = TypeVar("P", bound=Payload)


def validated(model: type[P], payload: Payload | Mapping[str, Any] | None) -> P:
    """``payload`` as ``model``: an instance passes, a mapping is validated, None is empty."""
    if isinstance(payload, model):
        return payload
    if isinstance(payload, Payload):
        raise BadInput(f"expected {model.__name__}, got {type(payload).__name__}")
    try:
        return model.model_validate(dict(payload or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'input'}: "
            f"{str(error['msg']).removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise BadInput(problems) from None
