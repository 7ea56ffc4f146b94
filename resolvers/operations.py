"""``viewer`` (当前用户) and the administrator's 同步与运维: dead letters with 重放, the
write-back backlog with 重试/撤销. Guarded by the ``administration`` right (``schema.access``
refuses the fields to every other role before anything runs); every call is on the audit
chain like any other operation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db import status_queries
from db.models import DeadLetter, OutboxMessage
from db.outbox import backlog, cancel_writes, list_writes, replay_writes
from domain.enums import SourceSystem
from domain.writeback import OPEN_STATES, WriteState
from resolvers.cursors import decode_dead_letter_cursor, encode_dead_letter_cursor
from resolvers.pagination import page_request
from resolvers.rows import fetch_count
from schema.context import Info
from schema.errors import NotFound, ServiceUnavailable, Unauthenticated
from schema.operations import (
    DeadLetterEntry,
    DeadLetterReplay,
    Viewer,
    WriteBackBacklog,
    WriteBackChange,
    WriteBackStateCount,
)
from schema.pagination import MAX_PAGE_SIZE, Connection, Edge
from schema.writeback import WriteBack

# Unsettled, or stopped by hand (a cancelled write may be retried): what an operator acts on.
UNSETTLED = (*sorted(OPEN_STATES), WriteState.FAILED, WriteState.DEAD, WriteState.CANCELLED)
MAX_OPEN_ROWS = 50


def resolve_viewer(info: Info) -> Viewer:
    principal = info.context.security.principal
    if principal is None:  # schema.access refuses the operation before; kept for the types
        raise Unauthenticated("Authentication required.")
    return Viewer.from_principal(principal)


async def resolve_dead_letters(
    info: Info,
    source: Annotated[
        SourceSystem | None, strawberry.argument(description="Only this source (来源系统).")
    ] = None,
    include_resolved: Annotated[
        bool, strawberry.argument(description="Also those ingested since (含已解决).")
    ] = False,
    first: Annotated[
        int | None,
        strawberry.argument(description=f"Page size, at most {MAX_PAGE_SIZE} (每页条数)."),
    ] = None,
    after: Annotated[
        str | None, strawberry.argument(description="Cursor to continue after (游标之后).")
    ] = None,
) -> Connection[DeadLetterEntry]:
    request = page_request(first, after, None, None)
    statement = status_queries.dead_letter_page(
        source=source, include_resolved=include_resolved,
        before_id=decode_dead_letter_cursor(request.cursor) if request.cursor else None,
        limit=request.size + 1,
    )  # fmt: skip
    sessions = info.context.sessions
    async with sessions() as session:
        rows = list((await session.scalars(statement)).all())
    edges = [
        Edge(cursor=encode_dead_letter_cursor(row.id), node=DeadLetterEntry.from_row(row))
        for row in rows
    ]

    async def count_all() -> int:
        statement = status_queries.dead_letter_count(
            source=source, include_resolved=include_resolved
        )
        return await fetch_count(sessions, statement)

    return request.page_of(edges, count_all)


async def resolve_writeback_backlog(info: Info) -> list[WriteBackBacklog]:
    async with info.context.sessions() as session:
        targets = await backlog(session)
        unsettled = await list_writes(session, states=UNSETTLED, limit=MAX_OPEN_ROWS * 5)
    return [
        WriteBackBacklog(
            target=entry.target,
            states=[
                WriteBackStateCount(state=WriteState(state), count=count)
                for state, count in sorted(entry.by_state.items())
            ],
            oldest_open_seconds=entry.oldest_open_seconds,
            open=[WriteBack.from_row(r) for r in unsettled if r.target == entry.target][
                :MAX_OPEN_ROWS
            ],
        )
        for entry in targets
    ]


async def _write_back(info: Info, write_id: int) -> OutboxMessage:
    async with info.context.sessions() as session:
        row = await session.get(OutboxMessage, write_id)
    if row is None:
        raise NotFound("No write-back has this id.")
    return row


async def _change_write(
    info: Info, write_id: int, change: Callable[[AsyncSession, Sequence[int]], Awaitable[int]]
) -> WriteBackChange:
    await _write_back(info, write_id)
    async with info.context.sessions.begin() as session:
        changed = await change(session, [write_id])
    row = await _write_back(info, write_id)
    return WriteBackChange(write_back=WriteBack.from_row(row), changed=changed == 1)


async def resolve_retry_write_back(
    info: Info, id: Annotated[int, strawberry.argument(description="Outbox row id (发件箱编号).")]
) -> WriteBackChange:
    """DEAD, FAILED or CANCELLED: a fresh start, read back before it is sent again."""
    return await _change_write(info, id, replay_writes)


async def resolve_cancel_write_back(
    info: Info, id: Annotated[int, strawberry.argument(description="Outbox row id (发件箱编号).")]
) -> WriteBackChange:
    """PENDING, UNKNOWN, DEAD or FAILED: never sent."""
    return await _change_write(info, id, cancel_writes)


async def _dead_letter(info: Info, letter_id: int) -> DeadLetter:
    async with info.context.sessions() as session:
        row = await session.get(DeadLetter, letter_id)
    if row is None:
        raise NotFound("No dead letter has this id.")
    return row


async def resolve_replay_dead_letter(
    info: Info, id: Annotated[int, strawberry.argument(description="Dead letter id (死信编号).")]
) -> DeadLetterReplay:
    """Re-parse the letter with its source's current mapping; ingest it if it now passes."""
    letter = await _dead_letter(info, id)
    replayer = info.context.dead_letters
    if replayer is None:
        raise ServiceUnavailable("No sources file is configured: dead letters cannot be parsed.")
    ingested = await replayer.replay(info.context.sessions, letter.source, id)
    return DeadLetterReplay(
        letter=DeadLetterEntry.from_row(await _dead_letter(info, id)), ingested=ingested
    )
