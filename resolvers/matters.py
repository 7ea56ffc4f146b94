"""Resolvers of the matter queries (事项查询解析): ``matters`` pages, ``matter(id)``, and matters
for ``node(id)``, each within the principal's matter scope (jurisdiction, own organisation)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated

import strawberry
from sqlalchemy import select

from db.matter_queries import MatterCriteria, matter_count, matter_page, next_due
from db.matters import matter_scope_conditions
from db.models import Matter
from db.queries import region_prefix
from domain.titles import reads_source_title
from domain.workflow.visibility import MatterScope
from resolvers.cursors import decode_matter_cursor, encode_matter_cursor, parse_global_id
from resolvers.filters import MAX_SEARCH_LENGTH, checked_region, timezone_aware
from resolvers.pagination import page_request
from resolvers.reads import read_session
from schema.context import Info
from schema.errors import BadUserInput, Forbidden, NotFound
from schema.matter_enums import MatterOrder
from schema.matter_inputs import MatterFilter
from schema.matters import MATTER_TYPE_NAME, MatterNode
from schema.pagination import Connection, Edge, LazyEdge

ORDERS: dict[MatterOrder, tuple[str, bool]] = {
    MatterOrder.OPENED_AT_DESC: ("opened_at", True),
    MatterOrder.OPENED_AT_ASC: ("opened_at", False),
    MatterOrder.UPDATED_AT_DESC: ("updated_at", True),
    MatterOrder.UPDATED_AT_ASC: ("updated_at", False),
}


def matter_scope(info: Info) -> MatterScope:
    return MatterScope.of(info.context.security.principal)


def matter_criteria(f: MatterFilter | None, info: Info) -> MatterCriteria:
    f = f or MatterFilter()
    principal = info.context.security.principal
    region = checked_region(f.region, "filter.region")
    text = (f.text or "").strip() or None
    policy = principal.policy if principal is not None else None
    if text is not None and not (policy is not None and policy.matters):
        # A matter's title is its source's, which names the parties: a count or an overdue
        # list filtered on it would tell a dashboard which matters name 农全彪. A role that
        # reads matters but not their titles searches their numbers only (``text_in_title``).
        raise Forbidden("filter.text tests matters' titles and numbers, which this role may "
                        "not read.")
    if text is not None and len(text) > MAX_SEARCH_LENGTH:
        raise BadUserInput(f"filter.text is longer than {MAX_SEARCH_LENGTH} characters.")
    if f.my_org and (principal is None or not principal.org):
        raise BadUserInput("filter.myOrg needs a token with an org claim.")
    now = info.context.workflow.now() if info.context.workflow else datetime.now(UTC)
    return MatterCriteria(
        statuses=tuple(f.status or ()),
        steps=tuple(f.step or ()),
        risks=tuple(f.risk or ()),
        lead_org=f.lead_org,
        assigned_org=f.assigned_org,
        acted_by=principal.sub if f.mine and principal else None,
        org=principal.org if f.my_org and principal else None,
        region_prefix=region_prefix(region) if region else None,
        overdue_at=now if f.overdue else None,
        not_overdue_at=now if f.overdue is False else None,
        due_before=timezone_aware(f.due_before, "filter.dueBefore"),
        opened_after=timezone_aware(f.opened_after, "filter.openedAfter"),
        opened_before=timezone_aware(f.opened_before, "filter.openedBefore"),
        text=text,
        text_in_title=reads_source_title(principal.policy if principal else None),
        supervised=bool(f.supervised),
    )


async def resolve_matters(
    info: Info,
    filter: Annotated[
        MatterFilter | None, strawberry.argument(description="Which matters (筛选条件).")
    ] = None,
    order_by: Annotated[MatterOrder, strawberry.argument(description="Sort order (排序).")] = (
        MatterOrder.OPENED_AT_DESC
    ),
    first: Annotated[int | None, strawberry.argument(description="Page size (每页条数).")] = None,
    after: Annotated[
        str | None, strawberry.argument(description="Cursor to continue after (游标之后).")
    ] = None,
) -> Connection[MatterNode]:
    security = info.context.security
    request = page_request(first, after, None, None, max_size=security.limits.max_page_size)
    criteria = matter_criteria(filter, info)
    scope = matter_scope(info)
    sort, descending = ORDERS[order_by]
    keyset = decode_matter_cursor(request.cursor, order_by.name) if request.cursor else None
    statement = matter_page(
        criteria, scope, sort=sort, descending=descending, after=keyset, limit=request.size + 1
    )
    sessions = info.context.sessions
    async with read_session(sessions) as session:
        rows = list(await session.execute(statement))
    has_more = len(rows) > request.size
    edges: list[Edge[MatterNode]] = [
        LazyEdge(
            MatterNode.from_row(row, due_at),
            partial(encode_matter_cursor, order_by.name, getattr(row, sort), row.id),
        )
        for row, due_at in rows[: request.size]
    ]

    async def count_all() -> int:
        async with read_session(sessions) as session:
            return int(await session.scalar(matter_count(criteria, scope)) or 0)

    return Connection(
        edges=edges,
        page_info=request.page_info(
            has_more=has_more,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_all=count_all,
    )


async def load_matter_node(info: Info, matter_id: int, *, scoped: bool = True) -> MatterNode | None:
    """The matter if it lies within the principal's scope (or, unscoped, at all)."""
    statement = select(Matter, next_due()).where(Matter.id == matter_id)
    if scoped:
        statement = statement.where(*matter_scope_conditions(matter_scope(info)))
    async with read_session(info.context.sessions) as session:
        found = (await session.execute(statement)).first()
    return MatterNode.from_row(*found) if found is not None else None


def matter_pk(value: str) -> int:
    type_name, pk = parse_global_id(value)
    if type_name != MATTER_TYPE_NAME:
        raise BadUserInput("Invalid id: not a Matter.")
    return pk


async def resolve_matter(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The matter's id (事项 ID).")],
) -> MatterNode | None:
    node = await load_matter_node(info, matter_pk(id))
    if node is None:
        raise NotFound("No matter has this id.")
    return node
