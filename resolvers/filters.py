"""Filter inputs to query criteria, validated (筛选校验): bad values are BAD_USER_INPUT."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime

from db.queries import RecordCriteria
from domain.enums import RecordKind
from domain.roles import RolePolicy
from domain.titles import reads_source_title
from schema.errors import BadUserInput, Forbidden
from schema.filters import RecordFilter

_REGION_CODE = re.compile(r"[0-9A-Za-z_-]{2,32}")
MAX_SEARCH_LENGTH = 100
MAX_NAME_LENGTH = 64


def _text(value: str | None, name: str, max_length: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > max_length:
        raise BadUserInput(f"{name} is longer than {max_length} characters.")
    return value or None


def timezone_aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise BadUserInput(
            f"{name} needs a time zone offset, e.g. 2024-05-01T00:00:00+08:00, or a plain "
            "date 2024-05-01 (a Beijing day)."
        )
    try:  # 9999-12-31T23:59-23:59 is past the last instant a database stores
        value.astimezone(UTC)
    except OverflowError as exc:
        raise BadUserInput(f"{name} is out of range.") from exc
    return value


def checked_region(code: str | None, name: str) -> str | None:
    """``code`` when it looks like a division or grid code; ``BAD_USER_INPUT`` naming ``name``."""
    if code is not None and not _REGION_CODE.fullmatch(code):
        raise BadUserInput(f"{name} is not a region code.")
    return code


def filter_problem(record_filter: RecordFilter | None, policy: RolePolicy | None) -> str | None:
    """Why the role may not use this filter: a condition on a field it may not read would
    tell it what the field holds (which records name 农全彪, which summaries say 欠)."""
    if record_filter is None:
        return None
    if record_filter.party_name is not None and not (policy and policy.parties):
        return "filter.partyName tests parties, which this role may not read."
    if record_filter.search is not None and not reads_source_title(policy):
        return (
            "filter.search tests the title, summary and address, which this role may not read "
            "(it needs parties and free text)."
        )
    return None


def record_criteria(
    record_filter: RecordFilter | None,
    *,
    kind: RecordKind | None = None,
    readable: Collection[RecordKind] | None = None,
    policy: RolePolicy | None = None,
) -> RecordCriteria:
    """The criteria for a filter; ``kind`` is the kind a per-kind connection is bound to.

    A kind the filter names explicitly that is not ``readable`` (the role's kinds) is
    ``FORBIDDEN``, as its per-kind list is: asking for it is an error, not an empty page. So
    is a condition on a field ``policy`` may not read.
    """
    if (problem := filter_problem(record_filter, policy)) is not None:
        raise Forbidden(problem)
    f = record_filter or RecordFilter()
    kinds = tuple(dict.fromkeys(f.kind or ()))
    refused = [k.value for k in kinds if readable is not None and k not in readable]
    if refused:
        raise Forbidden(f"This role may not read {', '.join(refused)} records (filter.kind).")
    if kind is not None:
        if kinds and kind not in kinds:
            raise BadUserInput(f"filter.kind excludes {kind.value}, the kind of this list.")
        kinds = (kind,)
    checked_region(f.region, "filter.region")
    occurred_from = timezone_aware(f.occurred_from, "filter.occurredFrom")
    occurred_to = timezone_aware(f.occurred_to, "filter.occurredTo")
    if occurred_from and occurred_to and occurred_from > occurred_to:
        raise BadUserInput("filter.occurredFrom is after filter.occurredTo.")
    return RecordCriteria(
        kinds=kinds,
        sources=tuple(dict.fromkeys(f.source or ())),
        categories=tuple(dict.fromkeys(f.category or ())),
        statuses=tuple(dict.fromkeys(f.status or ())),
        risk_levels=tuple(dict.fromkeys(f.risk_level or ())),
        region_code=f.region,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        search=_text(f.search, "filter.search", MAX_SEARCH_LENGTH),
        party_name=_text(f.party_name, "filter.partyName", MAX_NAME_LENGTH),
        include_deleted=f.include_deleted,
    )
