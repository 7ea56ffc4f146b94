"""The one scope rule (可见范围): which records a principal may see, by kind and jurisdiction.

A record is within a :class:`RecordScope` when its kind is one the scope reads and its region
code starts with one of the scope's division-code prefixes (the empty prefix covers every
placed record); a record without a region code (区划不明) is within only when the scope admits
unplaced records. ``db.queries.scope_conditions`` is this rule's one SQL translation; every read
(pages, loaders, timelines, links, staff decisions) uses it, and subscriptions use
:meth:`RecordScope.admits` on the event in hand.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from domain.enums import RecordKind


@dataclass(frozen=True, slots=True)
class RecordScope:
    """What one principal may read (辖区与类型).

    ``kinds``: the record kinds read (empty: none). ``region_prefixes``: division-code
    prefixes (empty: no placed record). ``unplaced``: records without a region code too.
    """

    kinds: frozenset[RecordKind]
    region_prefixes: tuple[str, ...]
    unplaced: bool = False

    @classmethod
    def of(
        cls,
        region_prefixes: Collection[str] | None,
        kinds: Collection[RecordKind] | None,
        *,
        unplaced: bool = False,
    ) -> RecordScope:
        """A scope from its parts, ``None`` meaning "no limit" on that part."""
        if region_prefixes is None:
            prefixes: tuple[str, ...] = ("",)
            unplaced = True
        else:
            prefixes = tuple(sorted(set(region_prefixes)))
        return cls(
            kinds=frozenset(RecordKind) if kinds is None else frozenset(kinds),
            region_prefixes=prefixes,
            unplaced=unplaced,
        )

    @property
    def reads_nothing(self) -> bool:
        return not self.kinds or not (self.region_prefixes or self.unplaced)

    def covers(self, region_code: str | None) -> bool:
        """Whether a place lies within the jurisdiction (kinds aside)."""
        if region_code is None:
            return self.unplaced
        return region_code.startswith(self.region_prefixes) if self.region_prefixes else False

    def admits(self, kind: RecordKind, region_code: str | None) -> bool:
        """Whether a record of ``kind`` placed at ``region_code`` is within."""
        return kind in self.kinds and self.covers(region_code)


def outermost_prefixes(prefixes: Collection[str]) -> list[str]:
    """The prefixes no other of ``prefixes`` contains, sorted: the regions a jurisdiction
    names, each once (a token naming a city and one of its counties names the city)."""
    return sorted({p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)})


NOTHING = RecordScope(kinds=frozenset(), region_prefixes=())
EVERYTHING = RecordScope.of(None, None)
