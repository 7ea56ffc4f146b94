"""A DataLoader's batch function bound to its loaders without holding them (弱引用批量函数).

A loader holding its loaders object through a bound method made a cycle (loaders → DataLoader
→ bound method → loaders), so a request's loaded values (futures, parties, persons, matters'
rows) waited for the cycle collector instead of going with the request.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

O = TypeVar("O")  # noqa: E741 - the owner
K = TypeVar("K")
V = TypeVar("V")


def weak_batch(
    owner: O, batch: Callable[[O, Sequence[K]], Awaitable[Sequence[V]]]
) -> Callable[[Sequence[K]], Awaitable[Sequence[V]]]:
    """``batch`` bound to ``owner`` through a weak reference."""
    reference = weakref.ref(owner)
    name = type(owner).__name__

    async def load(keys: Sequence[K]) -> Sequence[V]:
        loaders = reference()
        if loaders is None:  # the request ended while a batch was pending
            raise RuntimeError(f"the request's {name} are gone")
        return await batch(loaders, keys)

    return load
