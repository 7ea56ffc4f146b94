"""Page arguments (分页参数): ``first``/``after`` forwards, ``last``/``before`` backwards."""

from __future__ import annotations

from dataclasses import dataclass

from schema.errors import BadUserInput
from schema.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageInfo


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    backwards: bool
    cursor: str | None

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


def _size(value: int, name: str) -> int:
    if value < 0:
        raise BadUserInput(f"{name} must not be negative.")
    if value > MAX_PAGE_SIZE:
        raise BadUserInput(f"{name} must be at most {MAX_PAGE_SIZE}.")
    return value


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    if first is not None and last is not None:
        raise BadUserInput("Pass first or last, not both.")
    if after is not None and before is not None:
        raise BadUserInput("Pass after or before, not both.")
    if (first is not None and before is not None) or (last is not None and after is not None):
        raise BadUserInput("Combine first with after, or last with before.")
    if last is not None or before is not None:
        size = DEFAULT_PAGE_SIZE if last is None else _size(last, "last")
        return PageRequest(size=size, backwards=True, cursor=before)
    size = DEFAULT_PAGE_SIZE if first is None else _size(first, "first")
    return PageRequest(size=size, backwards=False, cursor=after)
