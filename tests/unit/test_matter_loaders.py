"""Matter loaders (事项数据批量加载) go with their request: no cycle for the collector."""

from __future__ import annotations

import gc
import weakref
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.matter_loaders import MatterLoaders


def test_matter_loaders_go_by_reference_counting() -> None:
    """A loader holding its ``MatterLoaders`` by a bound method made a cycle: the loaders
    and their loaded rows waited for the next collection instead of going with the request."""
    sessions = cast("async_sessionmaker[AsyncSession]", object())
    enabled = gc.isenabled()
    gc.disable()
    try:
        loaders = MatterLoaders(sessions)
        loader: Any = loaders.clocks
        gone = weakref.ref(loaders)
        gone_loader = weakref.ref(loader)
        del loaders, loader
        assert gone() is None
        assert gone_loader() is None
    finally:
        if enabled:
            gc.enable()


async def test_a_batch_still_reaches_its_loaders(monkeypatch: Any) -> None:
    seen: list[tuple[Any, list[int]]] = []

    async def grouped(self: MatterLoaders, model: Any, key: Any, order: Any, ids: Any) -> Any:
        seen.append((self, list(ids)))
        return [[] for _ in ids]

    monkeypatch.setattr(MatterLoaders, "_grouped", grouped)
    loaders = MatterLoaders(cast("async_sessionmaker[AsyncSession]", object()))
    assert await loaders.clocks.load_many([3, 4]) == [[], []]
    assert seen == [(loaders, [3, 4])]
