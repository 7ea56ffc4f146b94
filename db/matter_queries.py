"""Selects for reading matters (事项查询): the filters, keyset pages and counts.

Overdue and due-before look at the running clocks' derived ``due_at`` (indexed); "mine"
means a matter on whose timeline the principal acted; the scope rule is
:func:`db.matters.matter_scope_conditions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, exists, func, or_, select

from db.matters import matter_scope_conditions
from db.models import ClockRow, Matter, MatterEvent, Supervision
from db.queries import prefix_range
from domain.enums import CaseStatus, RiskLevel
from domain.supervision import SupervisionStatus
from domain.workflow.visibility import MatterScope
from domain.workflow.vocabulary import MatterStep

SORT_COLUMNS = {"opened_at": Matter.opened_at, "updated_at": Matter.updated_at}


@dataclass(frozen=True, slots=True)
class MatterCriteria:
    statuses: Sequence[CaseStatus] = ()
    steps: Sequence[MatterStep] = ()
    risks: Sequence[RiskLevel] = ()
    lead_org: str | None = None
    assigned_org: str | None = None
    acted_by: str | None = None
    """Matters whose timeline names this actor (``mine``)."""
    org: str | None = None
    """Matters dispatched to or led by this organisation (``myOrg``)."""
    region_prefix: str | None = None
    overdue_at: datetime | None = None
    """Matters with a running clock due by this instant (逾期)."""
    not_overdue_at: datetime | None = None
    """Matters with no running clock due by this instant (未逾期)."""
    due_before: datetime | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    text: str | None = None
    text_in_title: bool = True
    """Whether ``text`` is looked for in the title too, not only the number: only for a reader
    of the title itself (``domain.titles.reads_source_title``)."""
    supervised: bool = False
    """Matters with a 督办 order not yet closed (督办中)."""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _running_due(before: datetime, *, inclusive: bool) -> ColumnElement[bool]:
    due = ClockRow.due_at <= before if inclusive else ClockRow.due_at < before
    return exists().where(ClockRow.matter_id == Matter.id, ClockRow.stopped_at.is_(None), due)


def next_due() -> ScalarSelect[datetime | None]:
    """The earliest due instant among the matter's running clocks (最近到期), per row."""
    return (
        select(func.min(ClockRow.due_at))
        .where(ClockRow.matter_id == Matter.id, ClockRow.stopped_at.is_(None))
        .correlate(Matter)
        .scalar_subquery()
    )


def criteria_conditions(c: MatterCriteria) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if c.statuses:
        conditions.append(Matter.status.in_(list(c.statuses)))
    if c.steps:
        conditions.append(Matter.step.in_(list(c.steps)))
    if c.risks:
        conditions.append(Matter.risk.in_(list(c.risks)))
    if c.lead_org is not None:
        conditions.append(Matter.lead_org == c.lead_org)
    if c.assigned_org is not None:
        conditions.append(Matter.assigned_org == c.assigned_org)
    if c.org is not None:
        conditions.append(or_(Matter.assigned_org == c.org, Matter.lead_org == c.org))
    if c.acted_by is not None:
        conditions.append(
            or_(
                Matter.opened_by == c.acted_by,
                exists().where(
                    MatterEvent.matter_id == Matter.id, MatterEvent.actor_sub == c.acted_by
                ),
            )
        )
    if c.region_prefix:  # a range, not LIKE: a generic plan (db.engine) walks its index
        low, high = prefix_range(c.region_prefix)
        conditions.append(and_(Matter.region_code >= low, Matter.region_code < high))
    elif c.region_prefix is not None:  # the empty prefix: every placed matter
        conditions.append(Matter.region_code.is_not(None))
    if c.overdue_at is not None:
        conditions.append(_running_due(c.overdue_at, inclusive=True))
    if c.not_overdue_at is not None:
        conditions.append(~_running_due(c.not_overdue_at, inclusive=True))
    if c.due_before is not None:
        conditions.append(_running_due(c.due_before, inclusive=False))
    if c.supervised:
        conditions.append(
            exists().where(
                Supervision.matter_id == Matter.id,
                # an ESCALATED order is superseded by its successor, never closed itself
                Supervision.status.in_(
                    [SupervisionStatus.OPEN.value, SupervisionStatus.REPLIED.value]
                ),
            )
        )
    if c.opened_after is not None:
        conditions.append(Matter.opened_at >= c.opened_after)
    if c.opened_before is not None:
        conditions.append(Matter.opened_at < c.opened_before)
    if c.text:
        pattern = _like(c.text)
        in_number = Matter.number.like(pattern, escape="\\")
        in_title = Matter.title.like(pattern, escape="\\")
        conditions.append(or_(in_title, in_number) if c.text_in_title else in_number)
    return conditions


def matter_page(
    criteria: MatterCriteria,
    scope: MatterScope,
    *,
    sort: str,
    descending: bool,
    after: tuple[datetime, int] | None,
    limit: int,
) -> Select[Matter, datetime | None]:
    column = SORT_COLUMNS[sort]
    statement = select(Matter, next_due().label("next_due_at")).where(
        *matter_scope_conditions(scope), *criteria_conditions(criteria)
    )
    if after is not None:
        value, matter_id = after
        if descending:
            statement = statement.where(
                or_(column < value, and_(column == value, Matter.id < matter_id))
            )
        else:
            statement = statement.where(
                or_(column > value, and_(column == value, Matter.id > matter_id))
            )
    order = (column.desc(), Matter.id.desc()) if descending else (column.asc(), Matter.id.asc())
    return statement.order_by(*order).limit(limit)


def matter_count(criteria: MatterCriteria, scope: MatterScope) -> Select[int]:
    return (
        select(func.count())
        .select_from(Matter)
        .where(*matter_scope_conditions(scope), *criteria_conditions(criteria))
    )
