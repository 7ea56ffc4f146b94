"""Keyset-by-time paging over a live, page-numbered list that shifts while it is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors import keyset
from connectors.keyset import Page, keyset_pages

Item = dict[str, Any]


class LiveList:
    """Serves ``updatedSince`` (inclusive) pages of the list as it is at each request."""

    def __init__(self, items: list[Item], size: int) -> None:
        self.items = items
        self.size = size
        self.requests = 0
        self.before_request: Callable[[LiveList], None] = lambda _: None

    async def page(self, since: int | None, page: int) -> Page:
        self.before_request(self)
        self.requests += 1
        live = sorted(
            (i for i in self.items if since is None or i["t"] >= since),
            key=lambda i: (i["t"], i["k"]),
        )
        return Page(live[(page - 1) * self.size : page * self.size], len(live))

    def touch(self, key: str, t: int) -> None:
        next(i for i in self.items if i["k"] == key)["t"] = t


async def read_all(source: LiveList, since: int | None = None) -> tuple[set[str], int | None]:
    keys: set[str] = set()
    checkpoint = since
    async for step in keyset_pages(
        source.page, since=since, size=source.size,
        key_of=lambda i: i["k"], millis_of=lambda i: i["t"],
    ):  # fmt: skip
        keys |= {i["k"] for i in step.items}
        checkpoint = step.since
    return keys, checkpoint


async def test_records_moving_to_the_end_mid_read_skip_nothing() -> None:
    source = LiveList([{"k": f"K{n:02d}", "t": n} for n in range(20)], size=5)
    moved = iter(["K01", "K02", "K03", "K04"])

    def move_one(live: LiveList) -> None:
        if live.requests in (2, 3, 4, 5):  # each request after the first: one jumps to the end
            live.touch(next(moved), 100 + live.requests)

    source.before_request = move_one
    keys, checkpoint = await read_all(source)

    assert keys == {f"K{n:02d}" for n in range(20)}
    assert checkpoint is not None and checkpoint >= 19


async def test_more_records_in_one_millisecond_than_a_page_are_all_read() -> None:
    source = LiveList([{"k": f"K{n:02d}", "t": 7} for n in range(12)] + [{"k": "Z", "t": 9}], 5)

    keys, checkpoint = await read_all(source)

    assert len(keys) == 13 and checkpoint == 9


async def test_a_shift_inside_one_millisecond_is_caught_by_the_re_read() -> None:
    source = LiveList([{"k": f"K{n:02d}", "t": 7} for n in range(12)] + [{"k": "Z", "t": 9}], 5)

    def shift_once(live: LiveList) -> None:
        if live.requests == 3:  # after page 1 at t=7: K00 moves away, K05 slides onto page 1
            live.touch("K00", 50)

    source.before_request = shift_once
    keys, _ = await read_all(source)

    assert keys == {f"K{n:02d}" for n in range(12)} | {"Z"}


async def test_a_resume_re_reads_only_the_checkpoint_millisecond() -> None:
    source = LiveList([{"k": f"K{n:02d}", "t": n} for n in range(10)], size=5)
    _, checkpoint = await read_all(source)

    keys, again = await read_all(source, since=checkpoint)

    assert keys == {"K09"} and again == checkpoint


async def test_a_run_holds_the_identities_of_about_one_page_however_many_it_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held: list[int] = []

    class Counted(keyset.SeenSince):
        def add(self, key: str, millis: int, item: Any) -> bool:
            fresh = super().add(key, millis, item)
            held.append(len(self))
            return fresh

    monkeypatch.setattr(keyset, "SeenSince", Counted)
    source = LiveList([{"k": f"K{n:04d}", "t": n // 3} for n in range(1200)], size=10)

    keys, _ = await read_all(source)

    assert len(keys) == 1200 and max(held) <= 10 + 3


def test_an_item_seen_again_at_or_after_since_is_not_new_and_one_before_it_is_forgotten() -> None:
    seen = keyset.SeenSince()
    assert seen.add("K1", 5, {"v": 1}) and seen.add("K2", 6, {"v": 1})
    assert not seen.add("K1", 5, {"v": 1})
    assert seen.add("K1", 5, {"v": 2})  # another version within the same millisecond

    seen.forget_before(6)

    assert len(seen) == 1 and not seen.add("K2", 6, {"v": 1}) and seen.add("K1", 5, {"v": 1})
