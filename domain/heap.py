"""The cycle collector and the process's long-lived data (垃圾回收与常驻数据).

Three things make CPython's cycle collector costly here, and all are settled in this module:

* The imports hold large tables that live as long as the process (pypinyin's characters,
  jieba's dictionary, the schema). Left in the oldest generation, every full collection walks
  them again (a few a sync, 0.1–0.2 s each when pypinyin's phrase table was still loaded).
  :func:`freeze_imported`, called once on start, moves them out of the generations for good.
* Work allocates far more than it keeps: at CPython's default (a young collection every 700
  allocations) the collector keeps walking survivors and promotes them to the older
  generations early (:data:`YOUNG_COLLECTION_THRESHOLD`).
* Resolution allocates millions of small acyclic objects and frees none of them while it
  runs: :func:`no_cycle_collection` keeps the collector off meanwhile.

``govhub`` settles the collector on start (:func:`settle_collector`); the app's lifespan does
it for the server. ``govhub sync`` collects the youngest generation less often still
(:func:`collect_young_for_bulk_work`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_COLLECTION_THRESHOLD = 7_000
"""Allocations between two young-generation collections (CPython's default: 700). A GraphQL
request leaves a few hundred objects in reference cycles (the request's context, loaders,
compiled readers), so at the default the collector ran every two or three requests, walking
every in-flight request's young objects each time and promoting them: about a tenth of the
server's CPU on one-record queries, half of that at 7,000; a full sync spent a tenth of its
CPU in the collector. A few megabytes more garbage are held between collections."""

BULK_YOUNG_COLLECTION_THRESHOLD = 100_000
"""Allocations between two young-generation collections in ``govhub sync``'s processes. A
sync batch keeps most of what it allocates (its rows, parsed records, statements) until it
commits, so a young collection mostly walks survivors: at 7,000 the collector took 0.8–1.2 s
of the workers' 17–20 s of CPU in a first load of 20,000 records (about 180 collections), at
100,000 0.26 s (5), with the same peak RSS (222–238 MiB a worker against 219–232)."""

_imports_frozen = False


def freeze_imported() -> None:
    """Move everything the process has loaded so far out of the collector's generations
    (``gc.freeze``): a collection then walks only what the work itself allocated. Call it
    once the imports are done."""
    global _imports_frozen  # one flag for the process, set on start
    gc.freeze()
    _imports_frozen = True


def collect_young_less_often() -> tuple[int, int, int]:
    """Collect the youngest generation every :data:`YOUNG_COLLECTION_THRESHOLD` allocations,
    the older ones at their usual ratios; returns the thresholds before, to give back."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *before[1:])
    return before


def collect_young_for_bulk_work() -> None:
    """Collect the youngest generation every :data:`BULK_YOUNG_COLLECTION_THRESHOLD`
    allocations, for a process that loads in bulk (``govhub sync``)."""
    gc.set_threshold(BULK_YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])


def settle_collector() -> None:
    """Both, for a command's process: :func:`freeze_imported` and
    :func:`collect_young_less_often`."""
    freeze_imported()
    collect_young_less_often()


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Keep the cycle collector off while the block allocates many acyclic objects;
    reference counting still frees what dies.

    Everything made meanwhile is still in the youngest generation: the first collection after
    :func:`gc.enable` would walk it all (a sixth of a full resolution run). Freezing and
    unfreezing moves it to the oldest generation at once, where it waits for the next full
    collection — unless :func:`freeze_imported` froze the imports, which unfreezing would let
    back into the generations; then the block's survivors age as usual. (The flag, not
    ``gc.get_freeze_count``: that walks every frozen object, 25 ms a call.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not _imports_frozen:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
