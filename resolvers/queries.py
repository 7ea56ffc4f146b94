"""Resolvers of the ``Query`` fields (查询解析): validate arguments, build selects, map rows.

``node(id)`` and ``person(id)``/``region(code)`` answer null *and* a ``NOT_FOUND`` error for a
well-formed id that names nothing (a client sees both why and where). ``nodes(ids)`` answers
each id on its own: an unknown (or out of scope: the same answer, so nothing leaks) id is
null in its place without an error, as Relay expects; a malformed or refused one is null
with its error at ``["nodes", i]``; the others are answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from typing import Annotated, cast

import strawberry
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry import relay

from db import people_queries, queries
from domain.enums import RecordKind
from resolvers.cursors import (
    decode_person_cursor,
    decode_record_cursor,
    encode_person_cursor,
    encode_record_cursor,
    parse_global_id,
)
from resolvers.dataloaders import Loaders
from resolvers.filters import MAX_NAME_LENGTH, record_criteria
from resolvers.matters import load_matter_node
from resolvers.page_json import answer_node, answer_page, node_plan, page_plan
from resolvers.pagination import page_request
from resolvers.rows import (
    KIND_OF_TYPE_NAME,
    connect,
    fetch_all,
    fetch_count,
    person_from_row,
    record_from_row,
    region_from_row,
    regions_beside,
)
from resolvers.selection import kind_fields_in, node_fields, selected_relations, selects_field
from schema.context import Info
from schema.enums import RecordOrder
from schema.errors import BadUserInput, ErrorCode, Forbidden, GovhubError, NotFound
from schema.filters import RecordFilter
from schema.matters import MATTER_TYPE_NAME
from schema.pagination import MAX_PAGE_SIZE, Connection, Edge, LazyEdge
from schema.persons import Person
from schema.records import Record
from schema.regions import Region

# Each order: the column it sorts by and whether descending; ties break on id the same way.
ORDERS: dict[RecordOrder, tuple[str, bool]] = {
    RecordOrder.OCCURRED_AT_DESC: ("occurred_at", True),
    RecordOrder.OCCURRED_AT_ASC: ("occurred_at", False),
    RecordOrder.REPORTED_AT_DESC: ("reported_at", True),
    RecordOrder.REPORTED_AT_ASC: ("reported_at", False),
    RecordOrder.UPDATED_AT_DESC: ("updated_at", True),
    RecordOrder.UPDATED_AT_ASC: ("updated_at", False),
}

FilterArg = Annotated[
    RecordFilter | None, strawberry.argument(description="Which records (筛选条件).")
]
OrderArg = Annotated[RecordOrder, strawberry.argument(description="Sort order (排序).")]
FirstArg = Annotated[
    int | None,
    strawberry.argument(description=f"Page size forwards, at most {MAX_PAGE_SIZE} (每页条数)."),
]
AfterArg = Annotated[
    str | None, strawberry.argument(description="Cursor to continue after (起始游标之后).")
]
LastArg = Annotated[
    int | None,
    strawberry.argument(description=f"Page size backwards, at most {MAX_PAGE_SIZE} (向前条数)."),
]
BeforeArg = Annotated[
    str | None, strawberry.argument(description="Cursor to continue before (游标之前).")
]


async def record_connection(
    info: Info,
    record_filter: RecordFilter | None,
    order_by: RecordOrder,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    kind: RecordKind | None = None,
) -> Connection[Record]:
    """A keyset page of records: one statement for the rows, one more only for ``totalCount``.

    On the page's connection, what the client selected of the records' regions, parties and
    persons is loaded right after (a statement each), so those fields resolve without waiting.
    """
    security = info.context.security
    request = page_request(first, after, last, before, max_size=security.limits.max_page_size)
    principal = security.principal
    readable = principal.policy.kinds if principal is not None else frozenset()
    policy = principal.policy if principal is not None else None
    criteria = record_criteria(record_filter, kind=kind, readable=readable, policy=policy)
    keyset = decode_record_cursor(request.cursor, order_by) if request.cursor else None
    sort_column, descending = ORDERS[order_by]
    descending = descending != request.backwards
    page = partial(
        queries.record_page,
        criteria,
        security.scope,
        sort_column=sort_column,
        descending=descending,
        after=keyset,
        limit=request.size + 1,
    )
    plan = page_plan(info)
    if plan is not None:  # built as JSON by the database (resolvers.page_json)
        statement = page(with_regions=plan.regions, kind_columns=False)
        built = await answer_page(info, plan, statement, request, order_by, descending)
        if built is not None:  # placed in the answer as it is (schema.fastpath.prebuilt)
            return cast("Connection[Record]", built)
    sessions = info.context.sessions
    wanted = selected_relations(info._raw_info)
    kind_columns = _reads_kind_fields(info)
    statement = page(
        with_regions="region" in wanted,  # read beside the records: one statement less
        kind_columns=kind_columns,
    )
    async with connect(sessions) as connection:
        rows = list(await fetch_all(sessions, statement, connection))
        has_more = len(rows) > request.size
        rows = rows[: request.size]
        if request.backwards:
            rows.reverse()
        edges: list[Edge[Record]] = [
            LazyEdge(
                record_from_row(row, kind_columns=kind_columns),
                partial(encode_record_cursor, order_by, row[queries.SORT_LABEL], row["id"]),
            )
            for row in rows
        ]
        if edges:
            if "region" in wanted:
                _prime_regions(info, rows)
            await _prefetch(info, [edge.node for edge in edges], connection, wanted)

    async def count_all() -> int:
        return await fetch_count(sessions, queries.record_count(criteria, security.scope))

    return Connection(
        edges=edges,
        page_info=request.page_info(
            has_more=has_more,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_all=count_all,
    )


def _reads_kind_fields(info: Info, below: tuple[str, ...] = ()) -> bool:
    """Whether the page's nodes (with ``below``, the records at that path under them) select
    a field of a kind's own (beyond the Record interface, e.g. ``... on Dispute { mediator }``):
    only then are the kind tables read."""
    raw = info._raw_info
    return kind_fields_in(raw, node_fields(raw, below))


def _prime_regions(info: Info, rows: Sequence[RowMapping]) -> None:
    """The regions a page read beside its records (``with_regions``), into the region loader;
    a code that names no region loads as ``None``, as the loader answers it."""
    info.context.loaders.region.prime_many(regions_beside(rows))


async def _prefetch(
    info: Info, records: list[Record], connection: AsyncConnection, wanted: frozenset[str]
) -> None:
    """Load what the client selected of the page's parties and persons up front (its regions
    came with the records)."""
    principal = info.context.security.principal
    # Parties (and persons) only for a role that reads them; field rules refused the rest.
    parties = "parties" in wanted and principal is not None and principal.policy.parties
    if parties:
        # The context's loaders are this layer's Loaders; the types see them as a protocol.
        loaders = cast("Loaders", info.context.loaders)
        await loaders.prefetch_page(
            records,
            connection,
            regions=False,
            parties=parties,
            persons=parties and "parties.person" in wanted,
            timelines=parties and "parties.person.records" in wanted,
            timeline_kind_columns=_reads_kind_fields(
                info, ("parties", "person", "records", "record")
            ),
        )


def records_resolver(kind: RecordKind | None = None):  # type: ignore[no-untyped-def]  # strawberry reads its signature
    """The resolver of ``records`` (every kind), or of one kind's connection (``disputes``, …)."""

    async def resolve_records(
        info: Info,
        filter: FilterArg = None,
        order_by: OrderArg = RecordOrder.OCCURRED_AT_DESC,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> Connection[Record]:
        return await record_connection(
            info, filter, order_by, first, after, last, before, kind=kind
        )

    return resolve_records


async def _node(info: Info, global_id: str) -> relay.Node | None:
    type_name, pk = parse_global_id(global_id)
    if type_name == MATTER_TYPE_NAME:
        return await load_matter_node(info, pk)
    if type_name == "Person":
        _require_parties(info)
        return info.context.security.saw_person(await info.context.loaders.person.load(pk))
    kind = KIND_OF_TYPE_NAME.get(type_name)
    if kind is None:
        raise BadUserInput("Invalid id.")
    loaders = info.context.loaders
    record = await loaders.record.load(pk)
    if record is None or record.kind != kind:
        return None
    if record.region_code is not None and selects_field(info._raw_info, "region"):
        # loaded now, so the record's fields complete without waiting (schema.fastpath)
        await loaders.region.load(record.region_code)
    return record


def _require_parties(info: Info) -> None:
    principal = info.context.security.principal
    if principal is None or not principal.policy.parties:
        raise Forbidden("This role may not read persons.")


async def resolve_node(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="A global id (全局 ID).")],
) -> relay.Node | None:
    type_name, pk = parse_global_id(id)
    kind = KIND_OF_TYPE_NAME.get(type_name)
    plan = None if kind is None else node_plan(info, type_name)
    if plan is not None and kind is not None:  # built as JSON by the database
        built = await answer_node(info, plan, kind, pk)
        if built is not None:  # placed in the answer as it is (schema.fastpath.prebuilt)
            return cast("relay.Node", built)
    node = await _node(info, id)
    if node is None:
        raise NotFound("No object has this id.")
    return node


async def resolve_nodes(
    info: Info,
    ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(description=f"Global ids, at most {MAX_PAGE_SIZE} (全局 ID 列表)."),
    ],
) -> list[relay.Node | None]:
    max_ids = min(MAX_PAGE_SIZE, info.context.security.limits.max_page_size)
    if len(ids) > max_ids:
        raise BadUserInput(f"Pass at most {max_ids} ids.")
    # Gathered, so the record and person loaders batch every id into one statement each.
    answers = await asyncio.gather(*(_node_or_error(info, global_id) for global_id in ids))
    # An error in a list's place is completed by graphql-core as null there, the error
    # located at ["nodes", i] with its code; the other entries stand.
    return cast("list[relay.Node | None]", answers)


async def _node_or_error(info: Info, global_id: str) -> relay.Node | GovhubError | None:
    """One entry of ``nodes``: the object, null for an id naming nothing the reader may
    read (noted as NOT_FOUND for the audit row only, whose outcome is then what ``node(id)``
    gives), or the error of a malformed or refused id as a value (not raised, so it fails
    that entry alone)."""
    try:
        node = await _node(info, global_id)
    except GovhubError as error:
        return error
    if node is None:
        info.context.security.unanswered.append(ErrorCode.NOT_FOUND.value)
    return node


async def resolve_person(
    info: Info,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The person's global id (全局 ID).")
    ],
) -> Person | None:
    type_name, pk = parse_global_id(id)
    if type_name != "Person":
        raise BadUserInput("Invalid id: not a Person.")
    _require_parties(info)
    person = await info.context.loaders.person.load(pk)
    if person is None:
        raise NotFound("No person has this id.")
    return info.context.security.saw_person(person)


async def resolve_persons(
    info: Info,
    search: Annotated[
        str | None, strawberry.argument(description="Name starts with (姓名前缀).")
    ] = None,
    first: FirstArg = None,
    after: AfterArg = None,
) -> Connection[Person]:
    """Resolved persons by name prefix, in id order (the order they were first resolved);
    only persons named by a record the principal may read."""
    _require_parties(info)
    security = info.context.security
    request = page_request(first, after, None, None, max_size=security.limits.max_page_size)
    prefix = (search or "").strip() or None
    if prefix is not None and len(prefix) > MAX_NAME_LENGTH:
        raise BadUserInput(f"search is longer than {MAX_NAME_LENGTH} characters.")
    after_id = decode_person_cursor(request.cursor) if request.cursor else None
    sessions = info.context.sessions
    rows = await fetch_all(
        sessions,
        people_queries.person_page(
            prefix, security.scope, after_id=after_id, limit=request.size + 1
        ),
    )
    edges = [
        Edge(
            cursor=encode_person_cursor(row["id"]),
            node=security.saw_person(person_from_row(row)),
        )
        for row in rows[: request.size]
    ]

    async def count_all() -> int:
        return await fetch_count(sessions, people_queries.person_count(prefix, security.scope))

    return Connection(
        edges=edges,
        page_info=request.page_info(
            has_more=len(rows) > request.size,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_all=count_all,
    )


async def resolve_region(
    info: Info,
    code: Annotated[str, strawberry.argument(description="Region code (区划代码).")],
) -> Region | None:
    if not 2 <= len(code) <= 32:
        raise BadUserInput("Invalid region code.")
    region = await info.context.loaders.region.load(code)
    if region is None:
        raise NotFound("No region has this code.")
    return region


async def resolve_regions(
    info: Info,
    parent: Annotated[
        str | None,
        strawberry.argument(description="Parent code; omit for the top of the tree (上级代码)."),
    ] = None,
) -> list[Region]:
    if parent is not None:
        return await info.context.loaders.region_children.load(parent)
    rows = await fetch_all(info.context.sessions, queries.top_regions())
    return [region_from_row(row) for row in rows]
