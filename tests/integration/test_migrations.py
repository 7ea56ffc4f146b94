"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import create_engine
from db.migrate import alembic_config, is_at_head, upgrade
from db.models import Base
from domain.enums import RecordKind
from domain.linking.evidence import stored_blocking_keys
from domain.linking.names import name_key
from domain.stats import kpi_class
from tests.conftest import scratch_schema


@asynccontextmanager
async def _sqlite_engine(path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a new SQLite file, not migrated: a test brings it to the revision it needs."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def _postgres_engine(prefix: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a new PostgreSQL schema, not migrated."""
    async with scratch_schema(prefix) as (url, schema):
        engine = create_engine(url, schema=schema)
        try:
            yield engine
        finally:
            await engine.dispose()


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_database_matches_the_models(engine: AsyncEngine) -> None:
    # given a database built by the migrations alone (the session's engine is migrated to head)
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    # then autogenerate finds nothing left to migrate: no model change went without a migration
    assert differences == []


@pytest.mark.postgres
async def test_replicas_starting_together_migrate_once_without_failing() -> None:
    # given a new, empty schema and three hub processes starting at once (each migrates first)
    async with scratch_schema("govhub_migrate") as (url, schema):
        replicas = [create_engine(url, schema=schema) for _ in range(3)]
        try:
            # when they upgrade concurrently (without a lock they block one another: fail, not hang)
            async with asyncio.timeout(60):
                await asyncio.gather(*(upgrade(engine) for engine in replicas))
            # then every one of them finds the schema at head
            assert [await is_at_head(engine) for engine in replicas] == [True, True, True]
        finally:
            for engine in replicas:
                await engine.dispose()


AT = datetime(2026, 3, 1, tzinfo=UTC)
_BACKFILL_RECORDS = [
    # (id, kind, source, case_type, 110 codes l1/l3)
    (1, "COURT_FILING", "COURT", "诉前调解", None, None),
    (2, "COURT_FILING", "COURT", "民初", None, None),
    (3, "COURT_FILING", "COURT", "民特", None, None),
    (4, "POLICE_ALERT", "POLICE_110", None, "030000", "030201"),
    (5, "POLICE_ALERT", "POLICE_110", None, None, "040101"),
    (6, "POLICE_ALERT", "POLICE_110", None, "010000", "010101"),
]


async def _backfilled(engine: AsyncEngine) -> dict[int, str | None]:
    await upgrade(engine, "0002")
    async with engine.begin() as connection:
        for pk, kind, source, case_type, l1, l3 in _BACKFILL_RECORDS:
            await connection.execute(
                text(
                    "INSERT INTO records (id, kind, source, source_key, category, title, "
                    "occurred_at, status, risk_level, source_updated_at, deleted, created_at, "
                    "updated_at) VALUES (:id, :kind, :source, :key, 'OTHER', 't', :at, "
                    "'ACCEPTED', 'NONE', :at, false, :at, :at)"
                ),
                {"id": pk, "kind": kind, "source": source, "key": f"K{pk}", "at": AT},
            )
            if case_type is not None:
                await connection.execute(
                    text(
                        "INSERT INTO court_filings (id, case_number, case_type) "
                        "VALUES (:id, :n, :t)"
                    ),
                    {"id": pk, "n": f"N{pk}", "t": case_type},
                )
            else:
                await connection.execute(
                    text(
                        "INSERT INTO police_alerts (id, alert_number, alarm_time, "
                        "category_code_l1, category_code_l3) VALUES (:id, :n, :at, :l1, :l3)"
                    ),
                    {"id": pk, "n": f"N{pk}", "at": AT, "l1": l1, "l3": l3},
                )
    await upgrade(engine)
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, kpi_class FROM records ORDER BY id"))
        return {pk: value for pk, value in rows}


def _expected_classes() -> dict[int, str | None]:
    expected: dict[int, str | None] = {}
    for pk, kind, _, case_type, l1, l3 in _BACKFILL_RECORDS:
        fields = {"case_type": case_type, "category_code_l1": l1, "category_code_l3": l3}
        found = kpi_class(RecordKind(kind), fields)
        expected[pk] = None if found is None else found.value
    return expected


async def test_the_kpi_class_of_stored_records_is_filled_in_as_ingest_would(
    tmp_path: Path,
) -> None:
    async with _sqlite_engine(tmp_path / "old.db") as engine:
        assert await _backfilled(engine) == _expected_classes()


@pytest.mark.postgres
async def test_the_kpi_class_backfill_on_postgresql() -> None:
    async with _postgres_engine("govhub_backfill") as engine:
        assert await _backfilled(engine) == _expected_classes()


VILLAGE, TOWNSHIP_PADDED, COUNTY = "411202001001", "411202001000", "411202"
_KEYED_MENTIONS = [
    # (mention id, record id, name, is_organisation, record region)
    (1, 1, "王小明", False, VILLAGE),
    (2, 2, "王晓明", False, TOWNSHIP_PADDED),  # a township's code padded to 12 digits
    (3, 3, "李秀兰", False, COUNTY),
    (4, 1, "张伟", False, VILLAGE),  # two characters: no masked keys
    (5, 2, "湖滨区建设路小学", True, TOWNSHIP_PADDED),
]


def _county_keys(name: str, region: str) -> set[str]:
    """The keys 0010 stored: masked forms within the county."""
    key = name_key(name)
    return {f"{k}@{region[:6]}" for k in key.blocking_keys()}


async def _rekeyed(engine: AsyncEngine) -> dict[int, set[str]]:
    await upgrade(engine, "0010")
    async with engine.begin() as connection:
        for pk, region in ((1, VILLAGE), (2, TOWNSHIP_PADDED), (3, COUNTY)):
            await connection.execute(
                text(
                    "INSERT INTO records (id, kind, source, source_key, category, title, "
                    "occurred_at, status, risk_level, source_updated_at, deleted, created_at, "
                    "updated_at, region_code, source_risk_level) VALUES (:id, 'POLICE_ALERT', "
                    "'POLICE_110', :key, "
                    "'OTHER', 't', :at, 'ACCEPTED', 'NONE', :at, false, :at, :at, :region, 'NONE')"
                ),
                {"id": pk, "key": f"K{pk}", "at": AT, "region": region},
            )
        for mid, rid, name, organisation, region in _KEYED_MENTIONS:
            await connection.execute(
                text(
                    "INSERT INTO party_mentions (id, record_id, position, role, name, "
                    "is_organisation, staff_decided) VALUES (:id, :rid, :id, 'CALLER', :name, "
                    ":org, false)"
                ),
                {"id": mid, "rid": rid, "name": name, "org": organisation},
            )
            if not organisation:
                for key in _county_keys(name, region):
                    await connection.execute(
                        text("INSERT INTO person_blocking_keys (key, mention_id) VALUES (:k, :m)"),
                        {"k": key, "m": mid},
                    )
    await upgrade(engine)
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT mention_id, key FROM person_blocking_keys"))
        keys: dict[int, set[str]] = {}
        for mention_id, key in rows:
            keys.setdefault(mention_id, set()).add(key)
        return keys


def _expected_keys() -> dict[int, set[str]]:
    return {
        mid: set(stored_blocking_keys(name, region))
        for mid, _, name, organisation, region in _KEYED_MENTIONS
        if not organisation
    }


async def test_masked_name_keys_move_from_the_county_to_the_village(tmp_path: Path) -> None:
    # given mentions keyed as 0010 did (masked forms within the county), when migrated to head
    async with _sqlite_engine(tmp_path / "old.db") as engine:
        keys = await _rekeyed(engine)
    # then each has the keys ingest stores now: masked forms only for the village's mention
    assert keys == _expected_keys()
    assert {k for k in keys[1] if k.startswith("mk:")} == {
        "mk:_小明@411202001001", "mk:王_明@411202001001", "mk:王小_@411202001001"
    }
    assert all(k.startswith("py:") for k in keys[2] | keys[3] | keys[4])


@pytest.mark.postgres
async def test_masked_name_keys_move_to_the_village_on_postgresql() -> None:
    async with _postgres_engine("govhub_rekey") as engine:
        assert await _rekeyed(engine) == _expected_keys()


_ORGANISATIONS = [
    # (id, name as stored, credit code)
    (1, "三門峽市金橋物業服務有限責任公司", "91411202MA00000001"),
    (2, "湖滨区 建设路小学", None),
]


async def _keyed_organisations(engine: AsyncEngine) -> dict[int, str | None]:
    await upgrade(engine, "0011")
    async with engine.begin() as connection:
        for pk, name, uscc in _ORGANISATIONS:
            await connection.execute(
                text(
                    "INSERT INTO organisations (id, name, uscc, created_at) "
                    "VALUES (:id, :name, :uscc, :at)"
                ),
                {"id": pk, "name": name, "uscc": uscc, "at": AT},
            )
    await upgrade(engine)
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, name_key FROM organisations"))
        return {pk: key for pk, key in rows}


async def test_stored_organisations_get_the_name_resolution_compares(tmp_path: Path) -> None:
    # given organisations stored before 0012, when migrated to head
    async with _sqlite_engine(tmp_path / "old.db") as engine:
        keys = await _keyed_organisations(engine)
    # then each is keyed by its name as compared: simplified, no spaces, 有限公司
    assert keys == {1: "三门峡市金桥物业服务有限公司", 2: "湖滨区建设路小学"}


@pytest.mark.postgres
async def test_stored_organisations_get_their_name_key_on_postgresql() -> None:
    async with _postgres_engine("govhub_orgkey") as engine:
        keys = await _keyed_organisations(engine)
    assert keys == {1: "三门峡市金桥物业服务有限公司", 2: "湖滨区建设路小学"}


async def _down_to_0012_and_up(engine: AsyncEngine) -> tuple[bool, bool]:
    """Migrate to head, down to 0012 with a key whose mention is gone, and up again: (whether
    0012 had the key's foreign key back, whether head is without it)."""
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO person_blocking_keys (key, mention_id) VALUES ('py:x@411202', 99)")
        )

        def down(sync: Connection) -> bool:
            config = alembic_config()
            config.attributes["connection"] = sync
            command.downgrade(config, "0012")
            return _key_has_foreign_key(sync)

        restored = await connection.run_sync(down)
        left = await connection.scalar(text("SELECT count(*) FROM person_blocking_keys"))
        assert left == 0  # the key no mention holds went before the constraint came back
    await upgrade(engine)
    async with engine.connect() as connection:
        return restored, not await connection.run_sync(_key_has_foreign_key)


def _key_has_foreign_key(connection: Connection) -> bool:
    return bool(inspect(connection).get_foreign_keys("person_blocking_keys"))


async def test_name_keys_lose_their_foreign_key_and_get_it_back(tmp_path: Path) -> None:
    async with _sqlite_engine(tmp_path / "keys.db") as engine:
        assert await _down_to_0012_and_up(engine) == (True, True)


@pytest.mark.postgres
async def test_name_keys_lose_their_foreign_key_and_get_it_back_on_postgresql() -> None:
    async with _postgres_engine("govhub_keyfk") as engine:
        assert await _down_to_0012_and_up(engine) == (True, True)


_PETITIONS = [
    # (id, Beijing day in March, 重复信访次数): the third is linked to the second
    (1, 1, 2),
    (2, 2, 0),
    (3, 3, None),
]


async def _repeats(connection: AsyncConnection) -> tuple[set[int], int, int]:
    """The petitions flagged repeat, and how many each summary counts as repeat petitions."""
    flagged = await connection.scalars(text("SELECT id FROM records WHERE repeat_petition"))
    counted = [
        await connection.scalar(
            text(f"SELECT coalesce(sum(record_count), 0) FROM {table} WHERE repeat_petition")  # noqa: S608 -- fixed names
        )
        for table in ("record_figures", "record_figures_monthly")
    ]
    return set(flagged), int(counted[0]), int(counted[1])


async def _store_petitions(engine: AsyncEngine) -> None:
    """The petitions of ``_PETITIONS``, the third linked to the second as the same parties."""
    async with engine.begin() as connection:
        for pk, day, count in _PETITIONS:
            at = datetime(2026, 3, day, tzinfo=UTC)
            await connection.execute(
                text(
                    "INSERT INTO records (id, kind, source, source_key, category, title, "
                    "occurred_at, status, risk_level, source_risk_level, source_updated_at, "
                    "deleted, created_at, updated_at) VALUES (:id, 'PETITION', 'PETITION', :key, "
                    "'OTHER', 't', :at, 'ACCEPTED', 'NONE', 'NONE', :at, false, :at, :at)"
                ),
                {"id": pk, "key": f"XF{pk}", "at": at},
            )
            await connection.execute(
                text("INSERT INTO petitions (id, repeat_count) VALUES (:id, :count)"),
                {"id": pk, "count": count},
            )
        await connection.execute(
            text(
                "INSERT INTO links (from_record_id, to_record_id, link_kind, confidence, "
                "evidence, created_at) VALUES (3, 2, 'SAME_PARTIES', 0.9, '[]', :at)"
            ),
            {"at": AT},
        )


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:

        def down(sync: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync
            command.downgrade(config, revision)

        await connection.run_sync(down)


async def _repeats_across_0016(engine: AsyncEngine) -> list[tuple[set[int], int, int]]:
    """Petitions stored under 0015 (the links' rule), then at head, down to 0015 (where a
    count crossing 1 moves nothing: the petitions triggers are gone), up again."""
    await upgrade(engine, "0015")
    await _store_petitions(engine)
    seen = []
    async with engine.connect() as connection:
        seen.append(await _repeats(connection))
    await upgrade(engine)
    async with engine.connect() as connection:
        seen.append(await _repeats(connection))
    await _downgrade(engine, "0015")
    async with engine.begin() as connection:
        seen.append(await _repeats(connection))
        # the petition system now counts the second as repeated, the first no longer
        await connection.execute(
            text("UPDATE petitions SET repeat_count = CASE id WHEN 2 THEN 3 ELSE 0 END")
        )
        seen.append(await _repeats(connection))
    await upgrade(engine)
    async with engine.connect() as connection:
        seen.append(await _repeats(connection))
    return seen


# under 0015 only the link repeat; at head the source's repeat too (flags and both summaries);
# down to 0015 the links' rule again, and counts crossing 1 there change nothing; up again the
# source's counts as they now stand
_REPEATS_ACROSS_0016 = [
    ({3}, 1, 1),
    ({1, 3}, 2, 2),
    ({3}, 1, 1),
    ({3}, 1, 1),
    ({2, 3}, 2, 2),
]


async def test_stored_petitions_repeated_by_their_source_count_after_0016(
    tmp_path: Path,
) -> None:
    async with _sqlite_engine(tmp_path / "repeats.db") as engine:
        assert await _repeats_across_0016(engine) == _REPEATS_ACROSS_0016


@pytest.mark.postgres
async def test_stored_petitions_repeated_by_their_source_count_after_0016_on_postgresql() -> None:
    async with _postgres_engine("govhub_repeats") as engine:
        assert await _repeats_across_0016(engine) == _REPEATS_ACROSS_0016


async def _petition_update_trigger(connection: AsyncConnection) -> str:
    return str(
        await connection.scalar(
            text(
                "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger AS t "
                "JOIN pg_class AS c ON c.oid = t.tgrelid "
                "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND t.tgname = 'petition_repeat_update'"
            )
        )
    )


async def _repeat_trigger_across_0017(engine: AsyncEngine) -> list[tuple[str, set[int]]]:
    """The petitions update trigger's kind and the flagged petitions: at 0016, at head after a
    bulk update moving the first petition's count below 1 (the others' unchanged), and down at
    0016 after moving it back."""
    bulk_update = (
        "UPDATE petitions SET repeat_count = v.count FROM (VALUES (1, :first), (2, 0), (3, NULL)) "
        "AS v (id, count) WHERE petitions.id = v.id"
    )

    async def seen(connection: AsyncConnection) -> tuple[str, set[int]]:
        definition = await _petition_update_trigger(connection)
        kind = "ROW" if "FOR EACH ROW" in definition else "STATEMENT"
        if "UPDATE OF repeat_count" in definition:
            kind += " OF repeat_count"
        flagged = await connection.scalars(text("SELECT id FROM records WHERE repeat_petition"))
        return kind, set(flagged)

    await upgrade(engine, "0016")
    await _store_petitions(engine)
    steps = []
    async with engine.connect() as connection:
        steps.append(await seen(connection))
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(text(bulk_update), {"first": 0})
        steps.append(await seen(connection))
    await _downgrade(engine, "0016")
    async with engine.begin() as connection:
        await connection.execute(text(bulk_update), {"first": 2})
        steps.append(await seen(connection))
    return steps


@pytest.mark.postgres
async def test_petition_updates_fire_the_repeat_trigger_only_on_their_count_after_0017() -> None:
    async with _postgres_engine("govhub_rowtrigger") as engine:
        assert await _repeat_trigger_across_0017(engine) == [
            ("STATEMENT", {1, 3}),
            ("ROW OF repeat_count", {3}),
            ("STATEMENT", {1, 3}),
        ]


async def _triggers(connection: AsyncConnection) -> dict[str, str]:
    """Every trigger (and, on PostgreSQL, trigger function) by name, as the database holds it."""
    if connection.dialect.name == "sqlite":
        rows = await connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        )
        return {str(name): str(sql) for name, sql in rows}
    triggers = await connection.execute(
        text(
            "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger AS t "
            "JOIN pg_class AS c ON c.oid = t.tgrelid "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
        )
    )
    functions = await connection.execute(
        text(
            "SELECT p.proname, p.prosrc FROM pg_proc AS p "
            "JOIN pg_namespace AS n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema()"
        )
    )
    # the definition names the table with its schema, the test's own
    schema = f"{await connection.scalar(text('SELECT current_schema()'))}."
    return {
        **{f"trigger {name}": str(sql).replace(schema, "") for name, sql in triggers},
        **{f"function {name}": str(sql) for name, sql in functions},
    }


async def _migrated_and_created(
    migrated: AsyncEngine, created: AsyncEngine
) -> tuple[dict[str, str], dict[str, str]]:
    await upgrade(migrated)
    async with created.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with migrated.connect() as left, created.connect() as right:
        return await _triggers(left), await _triggers(right)


async def test_the_migrated_triggers_are_the_models(tmp_path: Path) -> None:
    async with (
        _sqlite_engine(tmp_path / "migrated.db") as migrated,
        _sqlite_engine(tmp_path / "created.db") as created,
    ):
        by_migrations, by_models = await _migrated_and_created(migrated, created)
    assert by_migrations == by_models
    assert "petition_repeat_update" in by_models


@pytest.mark.postgres
async def test_the_migrated_triggers_are_the_models_on_postgresql() -> None:
    async with (
        _postgres_engine("govhub_migrated") as migrated,
        _postgres_engine("govhub_created") as created,
    ):
        by_migrations, by_models = await _migrated_and_created(migrated, created)
    assert by_migrations == by_models
    assert "trigger petition_repeat_update" in by_models


async def _breakers_after_0021(engine: AsyncEngine) -> dict[str, tuple[str, int]]:
    await upgrade(engine, "0020")
    async with engine.begin() as connection:
        for source, state, failures in (("COURT", "CLOSED", 4), ("GRID", "OPEN", 5)):
            await connection.execute(
                text(
                    "INSERT INTO sync_state (source, breaker_state, consecutive_failures, "
                    "updated_at) VALUES (:source, :state, :failures, :at)"
                ),
                {"source": source, "state": state, "failures": failures, "at": AT},
            )
    await upgrade(engine)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT source, breaker_state, consecutive_failures FROM sync_state")
        )
        return {source: (state, failures) for source, state, failures in rows}


async def test_a_closed_breakers_count_of_attempts_starts_again_after_0021(
    tmp_path: Path,
) -> None:
    # given a closed breaker stored with 4 failed attempts, and an open one, when migrated
    async with _sqlite_engine(tmp_path / "breakers.db") as engine:
        breakers = await _breakers_after_0021(engine)
    # then the closed one counts failed requests from 0, the open one is left to its trial
    assert breakers == {"COURT": ("CLOSED", 0), "GRID": ("OPEN", 5)}


@pytest.mark.postgres
async def test_a_closed_breakers_count_starts_again_after_0021_on_postgresql() -> None:
    async with _postgres_engine("govhub_breakers") as engine:
        breakers = await _breakers_after_0021(engine)
    assert breakers == {"COURT": ("CLOSED", 0), "GRID": ("OPEN", 5)}


_REASON = "来电人身份证11010519491231002X，电话13800000001，双方已和好"


async def _reasons_after_0022(engine: AsyncEngine) -> list[str | None]:
    await upgrade(engine, "0021")
    async with engine.begin() as connection:
        for pk, reason in ((1, _REASON), (2, "回访无异常"), (3, None)):
            await connection.execute(
                text(
                    "INSERT INTO risk_assessments (id, target_kind, target_id, level, "
                    "effective_level, rules, facts_fingerprint, assessed_at, override_reason) "
                    "VALUES (:id, 'RECORD', :id, 'YELLOW', 'BLUE', '[]', 'f', :at, :reason)"
                ),
                {"id": pk, "at": AT, "reason": reason},
            )
    await upgrade(engine)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT override_reason FROM risk_assessments ORDER BY id")
        )
        return [reason for (reason,) in rows]


def _masked_reasons(reasons: list[str | None]) -> None:
    assert reasons[1:] == ["回访无异常", None]
    masked = reasons[0]
    assert masked is not None and "双方已和好" in masked
    assert "11010519491231002X" not in masked and "13800000001" not in masked


async def test_stored_override_reasons_are_masked_by_0022(tmp_path: Path) -> None:
    # given override reasons stored in plaintext before 0022, one naming an ID and a phone
    async with _sqlite_engine(tmp_path / "reasons.db") as engine:
        reasons = await _reasons_after_0022(engine)
    # then that one is masked, the others are as they were
    _masked_reasons(reasons)


@pytest.mark.postgres
async def test_stored_override_reasons_are_masked_by_0022_on_postgresql() -> None:
    async with _postgres_engine("govhub_reasons") as engine:
        _masked_reasons(await _reasons_after_0022(engine))
