"""Planner statistics while a load grows the tables (db.statistics), and a candidate lookup whose
plan does not hang on them (db.blocking). PostgreSQL only: SQLite plans every statement
afresh."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.base import Batch, FetchedItem
from connectors.http import SourceClient
from connectors.sync import sync_source
from db import statistics
from db.blocking import NAME_KEYS, latest_sql
from db.engine import create_engine, session_factory
from db.ingest import ingest_records
from db.migrate import migrated_engine
from db.resolution import resolve_new_mentions
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem
from domain.records import ParsedParty, ParsedRecord
from tests.conftest import scratch_schema

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def _record(number: int) -> ParsedRecord:
    name = SURNAMES[number % len(SURNAMES)] + GIVEN[number // len(SURNAMES) % len(GIVEN)]
    return ParsedRecord(
        source=SourceSystem.MEDIATION,
        source_key=f"S{number:05d}",
        source_updated_at=T0,
        raw={"n": number},
        category=DisputeCategory.NEIGHBOUR,
        title=f"纠纷 {number}",
        status=CaseStatus.ACCEPTED,
        address=f"成都市锦江区春熙路{number}号",
        region_code="510104",
        parties=[ParsedParty(role=PartyRole.APPLICANT, name=name)],
    )


class PagedConnector:
    source = SourceSystem.MEDIATION

    def __init__(self, pages: int, size: int) -> None:
        self.pages, self.size = pages, size
        self.client = SourceClient(SourceSystem.MEDIATION, httpx.AsyncClient())

    async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        for page in range(self.pages):
            numbers = range(page * self.size, (page + 1) * self.size)
            items = [FetchedItem(key=f"S{n:05d}", raw={"n": n}) for n in numbers]
            yield Batch(items=items, checkpoint=str(page + 1))

    def parse(self, raw: Any) -> ParsedRecord:
        return _record(raw["n"])


@pytest.fixture
def fresh_engine(fresh_postgres: AsyncEngine) -> AsyncEngine:
    return fresh_postgres


async def _counted(engine: AsyncEngine) -> float:
    async with engine.connect() as connection:
        value = await connection.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('records')")
        )
    return float(value)


async def test_a_load_refreshes_the_statistics_each_time_the_tables_double(
    fresh_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "MIN_GROWTH", 100)
    refreshed: list[bool] = []
    note = statistics.note_growth

    async def counting(engine: AsyncEngine, inserted: int) -> bool:
        refreshed.append(await note(engine, inserted))
        return refreshed[-1]

    monkeypatch.setattr("connectors.sync.note_growth", counting)
    assert await _counted(fresh_engine) < 0  # never analysed
    result = await sync_source(fresh_engine, session_factory(fresh_engine), PagedConnector(4, 100))
    assert result.ok and result.counts.inserted == 400
    # 100 rows over none, 100 over 100, then 100 over 200 is not yet due, 200 over 200 is
    assert refreshed == [True, True, False, True]
    assert await _counted(fresh_engine) == 400
    # a later run that adds little to what is there does not analyse
    assert await statistics.note_growth(fresh_engine, 50) is False


async def _inserted_elsewhere(url: str, schema: str, numbers: range) -> None:
    """``numbers``' records stored by another engine (another process), its statistics sent."""
    other = create_engine(url, schema=schema)
    try:
        async with session_factory(other).begin() as session:
            await ingest_records(session, [_record(n) for n in numbers])
        async with other.connect() as connection:  # sent when the connection goes idle
            await connection.execute(text("SELECT pg_stat_force_next_flush()"))
            await connection.commit()
    finally:
        await other.dispose()


async def _where(engine: AsyncEngine) -> tuple[str, str]:
    """The engine's database URL and schema, for another process's engine on the same."""
    async with engine.connect() as connection:
        schema = str(await connection.scalar(text("SELECT current_schema()")))
    return engine.url.render_as_string(hide_password=False), schema


async def test_processes_loading_together_count_each_others_growth(
    fresh_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "MIN_GROWTH", 100)
    url, schema = await _where(fresh_engine)
    # given a first refresh, at 300 records (200 of them stored by another process)
    await _inserted_elsewhere(url, schema, range(200))
    await _inserted_elsewhere(url, schema, range(200, 300))  # as this one's 100
    assert await statistics.note_growth(fresh_engine, 100) is True
    assert await _counted(fresh_engine) == 300
    # when the other process stores 200 more and this one 100
    await _inserted_elsewhere(url, schema, range(300, 600))
    # then this one's next look sees the tables have doubled, and refreshes
    assert await statistics.note_growth(fresh_engine, 100) is True
    assert await _counted(fresh_engine) == 600
    # and when, of 600 more, this one stores 500 but the other refreshes first
    await _inserted_elsewhere(url, schema, range(600, 1200))
    async with fresh_engine.connect() as connection:
        await connection.execute(text("ANALYZE records"))
        await connection.commit()
    # then this one counts from that refresh, and does not repeat it
    assert await statistics.note_growth(fresh_engine, 500) is False
    assert await statistics.note_growth(fresh_engine, 100) is False


async def test_a_refresh_another_process_is_making_is_not_repeated(
    fresh_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "MIN_GROWTH", 100)
    url, schema = await _where(fresh_engine)
    await _inserted_elsewhere(url, schema, range(300))
    # given another process that found the same growth due, analysing it
    other = create_engine(url, schema=schema)
    try:
        async with other.connect() as analysing:
            assert await analysing.scalar(statistics._REFRESHING) is True
            # when this process finds the growth due meanwhile, it leaves the refresh to that one
            assert await statistics.note_growth(fresh_engine, 300) is False
            await analysing.execute(text("ANALYZE records"))
            await analysing.commit()
    finally:
        await other.dispose()
    # then once that one's statistics are in, this one does not analyse the same growth again
    assert await statistics.note_growth(fresh_engine, 100) is False
    assert await _counted(fresh_engine) == 300
    # and the next doubling is still this one's to refresh
    await _inserted_elsewhere(url, schema, range(300, 600))
    assert await statistics.note_growth(fresh_engine, 100) is True
    assert await _counted(fresh_engine) == 600


async def test_a_refresh_replaces_the_plan_cached_for_empty_tables(
    fresh_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "MIN_GROWTH", 100)
    async with fresh_engine.connect() as connection:  # govhub's sessions: generic plans
        await connection.exec_driver_sql(
            "PREPARE lookup(varchar[]) AS SELECT id FROM records WHERE address = ANY($1)"
        )

        async def plan() -> str:
            rows = await connection.exec_driver_sql(
                "EXPLAIN EXECUTE lookup('{成都市锦江区春熙路7号}')"
            )
            return "\n".join(row[0] for row in rows)

        assert "Seq Scan" in await plan()
        await connection.commit()
        async with session_factory(fresh_engine).begin() as session:
            await ingest_records(session, [_record(n) for n in range(2000)])
        assert "Seq Scan" in await plan()  # as planned for the empty table
        await connection.commit()
        assert await statistics.note_growth(fresh_engine, 2000) is True
        after = await plan()
        assert "Seq Scan" not in after and "ix_records_address" in after, after


async def test_the_lookup_of_placed_members_joins_by_primary_key_whatever_the_statistics(
    fresh_engine: AsyncEngine,
) -> None:
    """Statistics taken while every mention waited for resolution price "placed" at one row."""
    sessions = session_factory(fresh_engine)
    async with sessions.begin() as session:
        await ingest_records(session, [_record(n) for n in range(3000)])
    async with fresh_engine.connect() as connection:
        await connection.execute(text("ANALYZE party_mentions, person_blocking_keys"))
        await connection.commit()
    async with sessions.begin() as session:
        counts = await resolve_new_mentions(session)
    assert counts.mentions == 3000
    async with fresh_engine.connect() as connection:
        keys = list(await connection.scalars(text("SELECT key FROM person_blocking_keys")))
        rows = await connection.execute(
            text(f"EXPLAIN {latest_sql(NAME_KEYS)}"), {"values": keys[:500], "limit": 3}
        )
        plan = "\n".join(row[0] for row in rows)
    assert "ix_party_mentions_person_id" not in plan, plan


async def test_sqlite_and_failures_are_left_alone(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with migrated_engine(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}") as engine:
        assert await statistics.note_growth(engine, 10**6) is False

    async def missing(connection: Any) -> str:
        return "no_such_table"

    monkeypatch.setattr(statistics, "_tables_holding_rows", missing)
    async with scratch_schema("govhub_stats") as (url, schema):
        engine = create_engine(url, schema=schema)
        try:  # the refresh fails; the sync it serves must not
            assert await statistics.note_growth(engine, 10**6) is False
        finally:
            await engine.dispose()


async def test_a_refresh_leaves_the_tables_still_empty_uncounted(
    fresh_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "MIN_GROWTH", 100)
    async with session_factory(fresh_engine).begin() as session:
        await ingest_records(session, [_record(n) for n in range(200)])
    assert await statistics.note_growth(fresh_engine, 200) is True
    async with fresh_engine.connect() as connection:
        counted = dict(
            (
                await connection.execute(
                    text(
                        "SELECT relname, reltuples FROM pg_class WHERE oid IN "
                        "(to_regclass('records'), to_regclass('party_mentions'), "
                        "to_regclass('audit_log'), to_regclass('matters'))"
                    )
                )
            ).all()
        )
    # the tables the load filled are counted; the audit log and the matters, empty, are not
    # (counted empty, a session would keep plans made for an empty table while they fill)
    assert counted["records"] == 200 and counted["party_mentions"] == 200
    assert counted["audit_log"] == counted["matters"] == -1


async def test_a_refresh_samples_a_load_coarsely_and_leaves_the_session_as_it_was(
    fresh_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "MIN_GROWTH", 100)
    url, schema = await _where(fresh_engine)
    await _inserted_elsewhere(url, schema, range(400))  # 400 distinct keys and titles
    assert await statistics.note_growth(fresh_engine, 400) is True

    async with fresh_engine.connect() as connection:
        bounds = await connection.scalar(
            text(
                "SELECT array_length(histogram_bounds, 1) FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = 'records' "
                "AND attname = 'source_key'"
            )
        )
        # a histogram of the load's target (one bound more than buckets), not the server's
        assert bounds == statistics.LOAD_STATISTICS_TARGET + 1
        # the target was the refresh's transaction's only
        default = await connection.scalar(
            text("SELECT reset_val FROM pg_settings WHERE name = 'default_statistics_target'")
        )
        assert await connection.scalar(text("SHOW default_statistics_target")) == default
        await connection.execute(text("ANALYZE records"))
        bounds = await connection.scalar(
            text(
                "SELECT array_length(histogram_bounds, 1) FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = 'records' "
                "AND attname = 'source_key'"
            )
        )
        assert bounds == int(default) + 1  # as autovacuum's own ANALYZE samples it
