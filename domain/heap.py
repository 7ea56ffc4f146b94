"""The cycle collector and the process's long-lived data (垃圾回收与常驻数据).

Two things make CPython's cycle collector costly here, and both are settled in this module:

* The imports hold large tables that live as long as the process — pypinyin's phrase table
  alone is about 190,000 lists. Left in the oldest generation, every full collection walks
  them again (a few a sync, 0.1–0.2 s each). :func:`freeze_imported`, called once on start,
  moves them out of the generations for good.
* Resolution allocates millions of small acyclic objects and frees none of them while it
  runs: :func:`no_cycle_collection` keeps the collector off meanwhile.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_imports_frozen = False


def freeze_imported() -> None:
    """Move everything the process has loaded so far out of the collector's generations
    (``gc.freeze``): a collection then walks only what the work itself allocated. Call it
    once on start, after the imports (``hub.cli.main``)."""
    global _imports_frozen  # one flag for the process, set once on start
    gc.freeze()
    _imports_frozen = True


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
