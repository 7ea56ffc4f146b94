"""The sandbox systems find a page by bisection in their store's paging order; it must be
exactly the page a scan of every record would give (the systems' paging contracts: police by
page number in a time window, grid by page from a time, court by offset after a time,
mediation by cursor), including deleted records, equal update times and pages past the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.enums import SourceSystem
from sandbox.model import SourceRecord
from sandbox.systems.common import RecordStore, paging_key

T0 = datetime(2026, 1, 1, tzinfo=UTC)

_records = st.lists(
    st.tuples(st.integers(0, 40), st.booleans(), st.integers(1, 3)),  # minute, deleted, version
    max_size=60,
)


def _store(rows: list[tuple[int, bool, int]]) -> RecordStore:
    return RecordStore(
        SourceRecord(SourceSystem.GRID, f"K{i:03d}", T0 + timedelta(minutes=minute), {}, version,
                     deleted)
        for i, (minute, deleted, version) in enumerate(rows)
    )  # fmt: skip


def _keys(records: list[SourceRecord]) -> list[str]:
    return [r.key for r in records]


@settings(max_examples=300, deadline=None)
@given(_records, st.integers(-1, 45), st.integers(-1, 45), st.integers(-2, 8), st.integers(1, 7))
def test_a_window_page_is_the_scan_page(
    rows: list[tuple[int, bool, int]], start: int, end: int, page: int, size: int
) -> None:
    store = _store(rows)
    since = T0 + timedelta(minutes=start)
    until = T0 + timedelta(minutes=end)
    live = store.live()
    assert _keys(live) == _keys([r for r in store.ordered() if not r.deleted])
    cases = [
        # police: start <= updated < end, by page number
        ([r for r in store.ordered() if since <= r.updated_at < until and not r.deleted],
         store.live_window(since, end=until)),
        # grid: updated >= since, by page number
        ([r for r in store.ordered() if not r.deleted and r.updated_at >= since],
         store.live_window(since)),
        # court: updated > after, by offset
        ([r for r in store.ordered() if not r.deleted and r.updated_at > since],
         store.live_window(since, strictly_after=True)),
        # no bound at all
        ([r for r in store.ordered() if not r.deleted], store.live_window()),
    ]  # fmt: skip
    for scanned, window in cases:
        assert len(window) == len(scanned)
        lo, hi = (page - 1) * size, page * size
        assert _keys(window.page(lo, hi)) == _keys(scanned[lo:hi])
        assert _keys(window.page(page, page + size)) == _keys(scanned[page : page + size])


@settings(max_examples=200, deadline=None)
@given(_records, st.integers(0, 60), st.integers(1, 7))
def test_a_cursor_page_is_the_scan_page(
    rows: list[tuple[int, bool, int]], at: int, limit: int
) -> None:
    store = _store(rows)
    ordered = store.ordered()
    cursor = paging_key(ordered[at]) if at < len(ordered) else (T0 + timedelta(minutes=at), "")
    scanned = [r for r in ordered if paging_key(r) > cursor]  # deleted ones too
    remaining = store.after(cursor)
    assert len(remaining) == len(scanned)
    assert _keys(remaining.page(0, limit)) == _keys(scanned[:limit])
    assert _keys(store.after(None).page(0, limit)) == _keys(ordered[:limit])


def test_the_paging_order_follows_changes() -> None:
    store = _store([(5, False, 1), (1, False, 1), (3, True, 1)])
    assert _keys(store.ordered()) == ["K001", "K002", "K000"]
    assert _keys(store.live()) == ["K001", "K000"]
    revision = store.revision
    store.put(SourceRecord(SourceSystem.GRID, "K001", T0 + timedelta(minutes=9), {}, 2))
    store.put(SourceRecord(SourceSystem.GRID, "K000", T0, {}, 0))  # older than the one held
    assert store.revision == revision + 1  # the older version was not stored
    assert _keys(store.ordered()) == ["K002", "K000", "K001"]
    assert _keys(store.live()) == ["K000", "K001"]
    store.put(SourceRecord(SourceSystem.GRID, "K002", T0 + timedelta(minutes=6), {}, 2))
    assert _keys(store.ordered()) == ["K000", "K002", "K001"]
    assert _keys(store.live()) == ["K000", "K002", "K001"]
