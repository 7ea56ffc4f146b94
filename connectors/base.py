"""The ``Connector`` protocol (连接器接口): one implementation per source.

A connector does two separable things:

* ``fetch`` pages through the source from a checkpoint and yields :class:`Batch` es — the raw
  items as received plus the checkpoint to persist once the batch is stored;
* ``parse`` maps one raw item onto a :class:`~domain.records.ParsedRecord`, raising
  :class:`~connectors.errors.RecordError` when it cannot. It needs no network, so dead letters
  can be re-parsed (``govhub deadletter replay``) after a mapping fix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.http import SourceClient
from domain.enums import SourceSystem
from domain.records import ParsedRecord


@dataclass(slots=True)
class FetchedItem:
    """One record as received: its key when it could be read, and the raw payload."""

    key: str | None
    raw: Any
    problem: str | None = None
    """Set when the item could not even be decoded (e.g. broken encoding); it is dead-lettered."""


@dataclass(slots=True)
class Batch:
    """A page of items and the checkpoint that is safe to persist once they are stored."""

    items: list[FetchedItem]
    checkpoint: str | None
    watermark: str | None = None
    """A human-readable position (shown in ``syncStatus``), e.g. the newest update time."""
    extras: dict[str, Any] = field(default_factory=dict)


class Connector(Protocol):
    """One legacy source."""

    source: SourceSystem
    client: SourceClient

    def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        """Yield batches from ``checkpoint`` (or from the start when ``full``)."""
        ...

    def parse(self, raw: Any) -> ParsedRecord:
        """Map one raw item; raise ``RecordError`` with a code when it cannot be mapped."""
        ...
