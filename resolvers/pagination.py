"""Page arguments (分页参数): ``first``/``after`` forwards, ``last``/``before`` backwards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from schema.errors import BadUserInput
from schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Connection, Edge, PageInfo

NodeT = TypeVar("NodeT")


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    backwards: bool
    cursor: str | None

    def page_of(
        self, fetched: list[Edge[NodeT]], count_all: Callable[[], Awaitable[int]]
    ) -> Connection[NodeT]:
        """Forwards: the page from edges fetched one beyond its size (the extra one says more
        follow)."""
        page = fetched[: self.size]
        return Connection(
            edges=page,
            page_info=self.page_info(
                has_more=len(fetched) > self.size,
                start_cursor=page[0].cursor if page else None,
                end_cursor=page[-1].cursor if page else None,
            ),
            count_all=count_all,
        )

    def page_info(
        self, *, has_more: bool, start_cursor: str | None, end_cursor: str | None
    ) -> PageInfo:
        """Forwards, a previous page exists when we started after a cursor; and vice versa."""
        came_from_cursor = self.cursor is not None
        return PageInfo(
            has_next_page=came_from_cursor if self.backwards else has_more,
            has_previous_page=has_more if self.backwards else came_from_cursor,
            start_cursor=start_cursor,
            end_cursor=end_cursor,
        )


def _size(value: int, name: str, max_size: int) -> int:
    if value < 0:
        raise BadUserInput(f"{name} must not be negative.")
    if value > max_size:
        raise BadUserInput(f"{name} must be at most {max_size}.")
    return value


def page_request(
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    max_size: int = MAX_PAGE_SIZE,
) -> PageRequest:
    """The page asked for; ``max_size`` is the role's page limit (never above the API's)."""
    max_size = min(max_size, MAX_PAGE_SIZE)
    default = min(DEFAULT_PAGE_SIZE, max_size)
    if first is not None and last is not None:
        raise BadUserInput("Pass first or last, not both.")
    if after is not None and before is not None:
        raise BadUserInput("Pass after or before, not both.")
    if (first is not None and before is not None) or (last is not None and after is not None):
        raise BadUserInput("Combine first with after, or last with before.")
    if last is not None or before is not None:
        size = default if last is None else _size(last, "last", max_size)
        return PageRequest(size=size, backwards=True, cursor=before)
    size = default if first is None else _size(first, "first", max_size)
    return PageRequest(size=size, backwards=False, cursor=after)
