"""Planner statistics kept current while a load grows the tables (统计信息刷新).

PostgreSQL plans a statement from its statistics, and govhub's sessions keep a prepared
statement's generic plan (:data:`db.engine.PLAN_CACHE_MODE`) until those statistics change. A
first load starts from empty tables, so the plans made then stay in use while a sync grows the
tables by thousands of rows a second, long before autovacuum's next ``ANALYZE`` (a minute
apart by default). Measured in a first sync of 20,000 records: a sequential scan of
``disputes`` matching an array of 1,000 case numbers took 250 ms where an index scan takes
about 1 ms, and such statements ran under the linking lock that every source waits for.

So a sync reports the records it inserts (:func:`note_growth`), and each time govhub's tables
have grown by as many records as they held at the last ``ANALYZE`` (and at least
:data:`MIN_GROWTH`) the tables are analysed again: a doubling schedule, about log2(n) times
in a first load and not at all when 1,000 changes reach a database of 1,000,000 records.
``ANALYZE`` samples a bounded number of rows per table and invalidates the cached plans of the
tables it measures; a table still empty is left out (counted empty, its statements would keep
plans made for an empty table while it fills). Growth is counted per engine, over every source
syncing in the process, and every :data:`MIN_GROWTH` records it inserts the server's own counts
are read too (the records ``ANALYZE`` last counted, and the live ones): so with several
processes loading at once (``govhub sync --workers N``) each sees the others' growth, and one's
``ANALYZE`` (or autovacuum's) restarts the others' count instead of being repeated. Those that
find the growth due at once are kept from analysing it twice by an advisory lock: one analyses,
the others leave it to that one, and one that takes the lock just after reads the counts again.
Nothing here fails a sync: a refresh that fails is logged and tried again at the next
threshold. SQLite plans each statement afresh from its own statistics and is left alone.

A refresh samples fewer rows than the server's default (:data:`LOAD_STATISTICS_TARGET`):
what a growing table's plans need is its size and rough distributions, not the finest
histograms, and at the default ``ANALYZE`` was about a sixth of the server's CPU in a first
load. The finer statistics come with the next ``ANALYZE`` at the server's target: autovacuum's,
once a tenth of a table has changed since (its default threshold), or an operator's.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.models import Base

log = structlog.get_logger(__name__)

MIN_GROWTH = 1000
"""Records inserted before the first refresh of a process (and the least growth between two)."""

LOAD_STATISTICS_TARGET = 20
"""``default_statistics_target`` of a refresh's ``ANALYZE``: 6,000 rows sampled per table
instead of the server's default 30,000 (100). At 20,000 records it took 0.25-0.38 s of the
server's CPU instead of 0.8-1.0 s. A column given a target of its own keeps it."""


@dataclass
class _Growth:
    inserted: int = 0  # records inserted since the last refresh (by any process, once read)
    measured: int | None = None  # records the last refresh counted (None: not read yet)
    unread: int = 0  # records this process inserted since the server's counts were read
    locks: dict[int, asyncio.Lock] = field(default_factory=dict)  # per event loop

    def due(self) -> bool:
        return self.measured is not None and self.inserted >= max(MIN_GROWTH, self.measured)


_GROWTH: weakref.WeakKeyDictionary[Engine, _Growth] = weakref.WeakKeyDictionary()


async def _tables_holding_rows(connection: AsyncConnection) -> str:
    """govhub's tables that hold a row, for ``ANALYZE``. An empty one is left as it is: counted
    empty, every statement on it would be planned as for an empty table (a sequential scan),
    and a session keeps that generic plan while the table fills (the audit log, the matters,
    as staff work) until the next ``ANALYZE`` of it; never analysed, the planner assumes a
    table of some pages, and uses its indexes."""
    quote = connection.dialect.identifier_preparer.quote
    names = [table.name for table in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(
        f"SELECT {number} WHERE EXISTS (SELECT FROM {quote(name)})"  # noqa: S608 -- own names
        for number, name in enumerate(names)
    )
    holding = set((await connection.execute(text(probe))).scalars())
    return ", ".join(quote(name) for number, name in enumerate(names) if number in holding)


_COUNTED = text(
    "SELECT c.reltuples, coalesce(s.n_live_tup, 0) FROM pg_class c "
    "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass('records')"
)
_SAMPLED = text(f"SET LOCAL default_statistics_target = {LOAD_STATISTICS_TARGET}")
_REFRESHING = text(
    "SELECT pg_try_advisory_xact_lock(hashtext('govhub:statistics:' || current_schema()))"
)


async def _records_counted(connection: AsyncConnection) -> tuple[int, int]:
    """(The records the last ``ANALYZE`` counted, 0 before any: ``reltuples`` is -1 then; the
    live records as the server's activity statistics count them, every process's commits)."""
    row = (await connection.execute(_COUNTED)).one()
    return max(0, int(row[0] or 0)), int(row[1])


def _read(growth: _Growth, counted: tuple[int, int]) -> None:
    measured, live = counted
    if growth.measured is not None and measured != growth.measured:
        growth.inserted = 0  # another process (or autovacuum) analysed since: count from there
    growth.measured = measured
    growth.inserted = max(growth.inserted, live - measured)
    growth.unread = 0


async def note_growth(engine: AsyncEngine, inserted: int) -> bool:
    """Count ``inserted`` new records; analyse the tables once the growth is due.

    Returns True when this call refreshed the statistics. Never raises."""
    if engine.dialect.name != "postgresql" or inserted <= 0:
        return False
    growth = _GROWTH.setdefault(engine.sync_engine, _Growth())
    growth.inserted += inserted
    growth.unread += inserted
    if growth.measured is not None and not growth.due() and growth.unread < MIN_GROWTH:
        return False
    lock = growth.locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
    async with lock:  # one refresh at a time; the sources that waited find it done
        try:
            async with engine.connect() as connection:
                if growth.measured is None or growth.unread >= MIN_GROWTH:
                    _read(growth, await _records_counted(connection))
                if not growth.due():
                    return False
                # one process at a time analyses; one that finds another at it leaves it the
                # refresh, and one that gets the lock just after it finds the growth counted
                if not await connection.scalar(_REFRESHING):
                    return False
                _read(growth, await _records_counted(connection))
                if not growth.due():
                    return False
                growth.inserted = 0
                await connection.execute(_SAMPLED)  # until the commit below
                await connection.execute(text(f"ANALYZE {await _tables_holding_rows(connection)}"))
                await connection.commit()
                growth.measured, _ = await _records_counted(connection)
                await connection.commit()
            growth.unread = 0
        except Exception as exc:  # plans stay as they were; the next threshold tries again
            log.warning("statistics_refresh_failed", error=type(exc).__name__)
            return False
    log.info("statistics_refreshed", records=growth.measured)
    return True
