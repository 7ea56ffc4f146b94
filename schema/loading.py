"""Reading a DataLoader without waiting when it already holds the value (已加载即取)."""

from __future__ import annotations

from collections.abc import Awaitable, Hashable
from typing import TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def loaded_or_load(loader: DataLoader[K, V], key: K) -> V | Awaitable[V]:
    """The value itself when ``loader`` already holds it, else the loader's future.

    A value handed back directly lets graphql-core complete the field synchronously, with no
    awaitable per object: a page prefetched by ``Loaders.prefetch_page`` takes this path.
    """
    future = loader.cache_map.get(key)
    if (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return future.result()
    return loader.load(key)
