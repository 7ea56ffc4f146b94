"""Relay connections (分页连接): edges with opaque cursors, page info and a lazy total."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from schema.fastpath.marks import rereadable

NodeT = TypeVar("NodeT")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@strawberry.type(description="Where a page sits in the whole list (分页信息).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="More items follow this page when paging forwards (有下一页)."
    )
    has_previous_page: bool = strawberry.field(
        description="More items precede this page when paging backwards (有上一页)."
    )
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first item; pass as `before` to page back (起始游标)."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; pass as `after` to page on (结束游标)."
    )


@strawberry.type(description="One item of a page with its cursor (分页条目).")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque position of this item (游标).")
    node: NodeT = strawberry.field(description="The item (条目).")


class LazyEdge(Edge[NodeT]):
    """An edge whose cursor is encoded only when read: most pages select no per-item cursor."""

    def __init__(self, node: NodeT, encode_cursor: Callable[[], str]) -> None:
        self.node = node
        self._encode_cursor = encode_cursor
        self._cursor: str | None = None

    @property
    def cursor(self) -> str:
        if self._cursor is None:
            self._cursor = self._encode_cursor()
        return self._cursor

    @cursor.setter
    def cursor(self, value: str) -> None:
        self._cursor = value


@strawberry.type(
    description=(
        "A page of a list (分页连接): `first`/`after` page forwards, `last`/`before` backwards; "
        f"{DEFAULT_PAGE_SIZE} items by default, at most {MAX_PAGE_SIZE}."
    )
)
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items with cursors (条目).")
    page_info: PageInfo = strawberry.field(description="Position of this page (分页信息).")
    count_all: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The items of this page without cursors (本页条目).")
    @rereadable
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @strawberry.field(
        description="How many items match the filter on all pages; costs a count query (总数)."
    )
    async def total_count(self) -> int:
        return await self.count_all()
