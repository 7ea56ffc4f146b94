"""Keyset-by-time paging (按更新时间续读) over sources that page by number or offset.

The grid and court systems order by update time and page by number / offset, computed on
the live set: a record updated while we page jumps to the end, and every later page shifts
left, so ``page + 1`` would skip a record. Instead each request restarts at page 1 from the
newest update time read so far, *inclusive*: the overlap is re-read and dropped when the
same ``(key, update time, content)`` was already seen in this run (the upsert would absorb
it anyway; content is compared too, since two versions can share a millisecond).

One guard: when a whole page shares one update time, restarting there would loop, so the
page number advances within that time. Pages within one time can shift too, so before
moving past such a time the pager re-reads it from page 1 until a pass finds nothing new.

A run reads through the newest update time its first request could see (the last page
then) and stops after it: a source changing faster than we read would otherwise be chased
forever; what changed later is the next run's work.

The checkpoint after each page is the ``since`` of the next request: every record updated
before it has been yielded, and a resume re-reads the records at exactly that time. What was
seen before ``since`` is forgotten as ``since`` moves on: no later request can return it, so a
run holds the identities of about one page, however many records it reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from domain.jsontext import digest_json


@dataclass(slots=True)
class Page:
    """One response: its items (duplicates included) and the server's count of matches."""

    items: list[Any]
    total: int


@dataclass(slots=True)
class KeysetStep:
    """Items not seen before in this run, and where a resume may start (epoch ms, inclusive)."""

    items: list[Any]
    since: int | None


FetchPage = Callable[[int | None, int], Awaitable[Page]]
"""``(since epoch ms inclusive or None, page number from 1) -> Page``."""


async def keyset_pages(
    fetch_page: FetchPage,
    *,
    since: int | None,
    size: int,
    key_of: Callable[[Any], str | None],
    millis_of: Callable[[Any], int | None],
) -> AsyncIterator[KeysetStep]:
    """Page from ``since`` to the end; see the module docstring for the strategy."""
    seen = SeenSince()
    page = 1
    stepped = verifying = found_again = False
    horizon: int | None = None
    while True:
        result = await fetch_page(since, page)
        if horizon is None and page * size < result.total:
            horizon = await _newest_at_start(fetch_page, since, size, result.total, millis_of)
        fresh: list[Any] = []
        times: list[int] = []
        for item in result.items:
            key, millis = key_of(item), millis_of(item)
            if millis is not None:
                times.append(millis)
            if key is not None and millis is not None:
                if not seen.add(key, millis, item):
                    continue
                found_again = found_again or (verifying and millis == since)
            fresh.append(item)
        newest = max(times, default=None)
        last_page = not times or page * size >= result.total
        if newest is not None and newest == since and not last_page:
            page, stepped = page + 1, True  # a full page within one update time
            yield KeysetStep(fresh, since)
            continue
        if stepped and (not verifying or found_again):
            # Before leaving a time read over several pages, re-read it: pages may have shifted.
            page, stepped, verifying, found_again = 1, False, True, False
            yield KeysetStep(fresh, since)
            continue
        if newest is not None and (since is None or newest > since):
            since = newest
            seen.forget_before(since)
        page, stepped, verifying, found_again = 1, False, False, False
        yield KeysetStep(fresh, since)
        if last_page or (horizon is not None and since is not None and since > horizon):
            return


class SeenSince:
    """The ``(key, update time, content)`` of the items read in this run, by update time.

    Only times at or after the current ``since`` are kept (``forget_before``): the requests
    ask for nothing older, so the rest could never be met again. The content is held as its
    32-byte SHA-256.
    """

    __slots__ = ("_by_millis",)

    def __init__(self) -> None:
        self._by_millis: dict[int, set[tuple[str, bytes]]] = {}

    def add(self, key: str, millis: int, item: Any) -> bool:
        """Whether ``item`` is new in this run (and now remembered)."""
        identity = (key, hashlib.sha256(digest_json(item, errors="surrogatepass")).digest())
        at = self._by_millis.setdefault(millis, set())
        if identity in at:
            return False
        at.add(identity)
        return True

    def forget_before(self, since: int) -> None:
        """Drops every identity updated before ``since``."""
        self._by_millis = {m: at for m, at in self._by_millis.items() if m >= since}

    def __len__(self) -> int:
        return sum(map(len, self._by_millis.values()))


async def _newest_at_start(
    fetch_page: FetchPage,
    since: int | None,
    size: int,
    total: int,
    millis_of: Callable[[Any], int | None],
) -> int:
    """The newest update time on the last page now: where this run stops.

    A source that changes faster than we read would otherwise be chased forever; what
    changes after this moment lies beyond it and is the next run's work.
    """
    last = await fetch_page(since, -(-total // size))
    times = [t for t in map(millis_of, last.items) if t is not None]
    return max(times, default=since if since is not None else 0)
