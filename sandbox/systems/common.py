"""What every simulated system shares: its record store, clocks, context and JSON/time helpers.

A system serves only ``world.records[system]``; the :class:`RecordStore` keeps the latest
version per key (what the system "currently holds") and the version it superseded (so the
``out_of_order`` fault can deliver a stale copy after the fresh one). Its records in paging
order are kept between changes, and a page is found in them by bisection
(:meth:`RecordStore.live_window`, :meth:`RecordStore.after`): a system answers a page in a
time that does not grow with the records it holds, as the real ones do from their indexes (a
scan per page made a 100,000-record sync spend 20 s of the sandbox's CPU).
"""

from __future__ import annotations

import bisect
import copy
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.responses import Response

from domain.enums import SourceSystem
from sandbox.faults import FaultState
from sandbox.formats import truncate
from sandbox.model import SourceRecord, World
from sandbox.writes import WriteLedger

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

Mutator = Callable[[World, SourceSystem, random.Random, datetime, int], list[SourceRecord]]
"""``sandbox.world.mutate_world``'s signature: (world, system, rng, at, count) -> changed."""

Monotonic = Callable[[], float]
"""A monotonic clock in seconds (``time.monotonic``); tests inject a fake one."""


def default_mutator(
    world: World, system: SourceSystem, rng: random.Random, at: datetime, count: int,
) -> list[SourceRecord]:
    """Delegate to the world generator (imported lazily: it is a separate module)."""
    from sandbox.world import mutate_world  # optional at import time

    return mutate_world(world, system, rng, at, count)


class RecordStore:
    """The latest version of each record of one system, and the version before it.

    A record held here is replaced through :meth:`put`, never changed in place: the paging
    order, the live records and what systems derive from them (petition's days) are kept
    until :attr:`revision` moves."""

    def __init__(self, records: Iterable[SourceRecord]) -> None:
        self.latest: dict[str, SourceRecord] = {}
        self.previous: dict[str, SourceRecord] = {}
        self.revision = 0
        """Counts the changes stored: what is derived from the records is kept until it moves."""
        self._ordered: list[SourceRecord] | None = None
        self._live: list[SourceRecord] | None = None
        for record in sorted(records, key=lambda r: (r.version, r.updated_at)):
            self.put(record)

    def put(self, record: SourceRecord) -> None:
        """Store a copy of a new or changed record; an older version than the one held is ignored.

        A copy, because the world generator changes its records in place: the version held
        before stays intact for the ``out_of_order`` fault and the frozen CSV exports.
        """
        record = copy.deepcopy(record)
        held = self.latest.get(record.key)
        if held is not None:
            if record.version < held.version:
                return
            self.previous[record.key] = held
        self.latest[record.key] = record
        self.revision += 1
        self._ordered = self._live = None

    def ordered(self) -> list[SourceRecord]:
        """All latest versions ordered by (update time, key), the paging order of every system.
        Kept until the next change: callers must not modify it."""
        if self._ordered is None:
            self._ordered = sorted(self.latest.values(), key=paging_key)
        return self._ordered

    def live(self) -> list[SourceRecord]:
        """:meth:`ordered` without the deleted records (what most listings serve)."""
        if self._live is None:
            self._live = [r for r in self.ordered() if not r.deleted]
        return self._live

    def live_window(
        self,
        start: datetime | None = None,
        *,
        strictly_after: bool = False,
        end: datetime | None = None,
    ) -> Window:
        """The live records updated at or after ``start`` (strictly after it with
        ``strictly_after``) and before ``end``, in paging order."""
        live = self.live()
        return Window(live, _updated_range(live, start, strictly_after=strictly_after, end=end))

    def after(self, cursor: tuple[datetime, str] | None) -> Window:
        """Every record, deleted ones too, that comes after ``cursor`` (an update time and a
        key, see :func:`paging_key`) in paging order; all of them without a cursor."""
        ordered = self.ordered()
        first = 0 if cursor is None else bisect.bisect_right(ordered, cursor, key=paging_key)
        return Window(ordered, range(first, len(ordered)))

    def newest_update(self) -> datetime | None:
        ordered = self.ordered()
        return ordered[-1].updated_at if ordered else None


def paging_key(record: SourceRecord) -> tuple[datetime, str]:
    """The order systems page in: update time, then key."""
    return (record.updated_at, record.key)


def _updated_at(record: SourceRecord) -> datetime:
    return record.updated_at


def _updated_range(
    records: Sequence[SourceRecord],
    start: datetime | None,
    *,
    strictly_after: bool,
    end: datetime | None,
) -> range:
    """The positions in ``records`` (in paging order) updated at or after ``start`` (strictly
    after it with ``strictly_after``) and before ``end``."""
    first = 0
    if start is not None:
        find = bisect.bisect_right if strictly_after else bisect.bisect_left
        first = find(records, start, key=_updated_at)
    last = len(records) if end is None else bisect.bisect_left(records, end, key=_updated_at)
    return range(first, max(first, last))


@dataclass(frozen=True, slots=True)
class Window:
    """A run of records in paging order, as positions in a list the store keeps."""

    records: Sequence[SourceRecord]
    positions: range

    def __len__(self) -> int:
        return len(self.positions)

    def page(self, start: int, stop: int) -> list[SourceRecord]:
        """What ``list(window)[start:stop]`` would be (negative bounds included), without
        copying the window."""
        chosen = self.positions[start:stop]
        return list(self.records[chosen.start : chosen.stop])


class SimClock:
    """World time: ``world.now`` plus the real time elapsed since the sandbox started."""

    def __init__(self, start: datetime, monotonic: Monotonic = time.monotonic) -> None:
        self.start = start
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self._monotonic() - self._t0)

    def after(
        self, earlier: datetime | None, resolution: timedelta = timedelta(milliseconds=1)
    ) -> datetime:
        """Now, but later than ``earlier`` by at least the system's time ``resolution``.

        A system that stamps updates to the second must never give two versions of one
        record the same stamp, or nobody could tell which is newer.
        """
        now = self.now()
        if earlier is not None and now - earlier < resolution:
            return earlier + resolution
        return now


@dataclass(frozen=True, slots=True)
class Malformation:
    """How one record is broken, consistently on every delivery."""

    kind: str
    field: str


@dataclass(slots=True)
class SystemContext:
    """Everything one system's app needs; built by ``sandbox.runner``."""

    system: SourceSystem
    world: World
    store: RecordStore
    faults: FaultState
    clock: SimClock
    monotonic: Monotonic
    credentials: dict[str, str]
    mutator: Mutator
    mutate_rng: random.Random
    options: dict[str, float] = field(default_factory=dict)
    """System-specific runtime options settable through the control endpoint."""
    malformed: dict[str, Malformation] = field(default_factory=dict)
    malformed_kinds: tuple[str, ...] = ()
    """The malformation kinds this system can show (empty: the generic ones)."""
    writes: WriteLedger = field(default_factory=WriteLedger)
    """Ground truth of the write-backs this system applied (``sandbox.writes``)."""

    @property
    def resolution(self) -> timedelta:
        """The precision of this system's update-time field."""
        millis = self.system in (SourceSystem.GRID, SourceSystem.COURT)
        return timedelta(milliseconds=1) if millis else timedelta(seconds=1)

    def stamp_after(self, earlier: datetime | None) -> datetime:
        """Now as this system stamps it, later than ``earlier``: cut to :attr:`resolution`, so
        a record's update time is the instant its payload states (a finer one would differ
        from what any reader of the payload, a reconciliation among them, sees)."""
        at = self.clock.after(earlier, self.resolution)
        return truncate(at, millis=self.resolution < timedelta(seconds=1))

    def apply_mutation(self, count: int) -> list[SourceRecord]:
        """Run the world's mutator once and store what it changed."""
        at = self.stamp_after(self.store.newest_update())
        changed = self.mutator(self.world, self.system, self.mutate_rng, at, count)
        for record in changed:
            self.store.put(record)
        return changed

    def write(self, record: SourceRecord, payload: dict[str, Any], time_field: str) -> SourceRecord:
        """Store a write-back: a new version with ``payload``, its update time restamped."""
        at = self.stamp_after(record.updated_at)
        new_payload = dict(payload)
        if time_field in new_payload:
            new_payload[time_field] = restamp(new_payload[time_field], at)
        updated = SourceRecord(
            system=record.system, key=record.key, updated_at=at, payload=new_payload,
            version=record.version + 1, deleted=record.deleted, export_day=record.export_day,
        )
        self.store.put(updated)
        # keep the world in step, so a later mutation builds on the written version
        for original in self.world.records.get(self.system, []):
            if original.key == record.key:
                original.payload = copy.deepcopy(new_payload)
                original.version, original.updated_at = updated.version, at
        return updated


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None,
) -> Response:
    """UTF-8 JSON; a lone surrogate (a broken-encoding fault) goes out as a ``\\udcXX`` escape."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8", errors="backslashreplace")
    return Response(data, status, headers, media_type="application/json; charset=utf-8")


_COMPACT = re.compile(r"^\d{14}$")
_SPACED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def parse_time(value: str) -> datetime:
    """Parse epoch milliseconds, ISO 8601, ``YYYY-MM-DD HH:MM:SS`` or ``YYYYMMDDHHMMSS``.

    Times without an offset are Beijing time. Raises ``ValueError`` on anything else.
    """
    text = value.strip()
    if text.isdigit() and not _COMPACT.match(text):
        try:
            return datetime.fromtimestamp(int(text) / 1000, tz=BEIJING)
        except (OverflowError, OSError) as exc:  # milliseconds beyond any date
            raise ValueError(f"time {text} is out of range") from exc
    if _COMPACT.match(text):
        parsed = datetime.strptime(text, "%Y%m%d%H%M%S")  # Beijing time
    else:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)


def restamp(current: Any, at: datetime) -> Any:
    """Format ``at`` the way ``current`` (an existing time value) is formatted."""
    local = at.astimezone(BEIJING)
    if isinstance(current, int):
        return int(at.timestamp() * 1000)
    text = str(current)
    if _COMPACT.match(text):
        return local.strftime("%Y%m%d%H%M%S")
    if _SPACED.match(text):
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.isoformat(timespec="seconds")


def int_param(raw: str | None, default: int, low: int, high: int, name: str) -> int:
    """A bounded integer query parameter; ``ValueError`` names the parameter."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer") from exc
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value
