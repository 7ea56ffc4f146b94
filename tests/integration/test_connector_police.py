"""The 110 connector against the sandbox over real HTTP, into SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import police
from db.models import PoliceAlert
from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_sync import FAULTS, Harness

SYSTEM = SourceSystem.POLICE_110
# How each malformation the sandbox injects must surface as a dead letter.
EXPECTED_CODE = {
    "bad_id_check": "INVALID_ID_NUMBER",
    "missing_required": "MISSING_FIELD",
    "impossible_date": "INVALID_DATE",
    "broken_encoding": "BAD_ENCODING",
    "broken_element": "MISSING_FIELD",
}


@pytest.fixture
async def harness(committing_engine: AsyncEngine) -> AsyncIterator[Harness]:
    async with (
        Sandbox(SandboxConfig(base_port=0, scale=300, profile="clean")) as sandbox,
        httpx.AsyncClient(base_url=sandbox.urls[SYSTEM]) as http,
    ):
        yield Harness(sandbox, SYSTEM, http, committing_engine, police)


async def test_clean_sync_holds_every_valid_alarm_and_dead_letters_the_malformed(
    harness: Harness,
) -> None:
    await harness.control({"malformed_rate": 0.15})  # every kind, at this seed

    result = await harness.sync()

    assert result.ok, result.error
    stats = await harness.assert_matches_sandbox()
    assert result.counts.inserted == len(stats["valid_keys"])
    letters = await harness.dead_letters()
    assert sorted(k for k in letters if k is not None) == stats["malformed_keys"]
    for key, flaw in stats["malformed"].items():
        assert letters[key].error_code == EXPECTED_CODE[flaw["kind"]], (key, flaw)
        assert flaw["field"] in letters[key].reason
    for letter in letters.values():  # no ID number (18 characters of digits) in a reason
        assert not any(len(w) >= 15 and w[:15].isdigit() for w in letter.reason.split())


async def test_alarm_is_mapped_onto_the_unified_record(harness: Harness) -> None:
    await harness.sync()

    alerts = await harness.stored(PoliceAlert)
    key = sorted(alerts)[0]
    record, source = alerts[key], (await harness.sandbox_record(key))["payload"]
    assert isinstance(record, PoliceAlert)
    assert record.alert_number == key
    assert record.alarm_time == datetime.fromisoformat(source["BJSJ"] + "+08:00")
    assert record.occurred_at == record.alarm_time
    assert (record.category_code_l1, record.category_code_l2, record.category_code_l3) == (
        source["JQLBDM"],
        source["JQLXDM"],
        source["JQXLDM"],
    )
    assert record.disposal_result == source["CJJG"]
    assert source["JQLBMC"] in record.title
    assert record.region_code == source["XZQHDM"]
    assert record.address == source["FSDZ"]
    assert record.summary == source["JYAQ"]
    assert record.source_category == source["JQXLDM"]
    assert record.kind.value == "POLICE_ALERT"


async def test_second_sync_writes_nothing(harness: Harness) -> None:
    await harness.sync()
    before = {k: r.updated_at for k, r in (await harness.stored()).items()}

    result = await harness.sync()

    assert result.ok, result.error
    assert (result.counts.inserted, result.counts.updated) == (0, 0)
    assert result.counts.unchanged == result.fetched - result.dead_lettered
    assert {k: r.updated_at for k, r in (await harness.stored()).items()} == before


async def test_incremental_sync_picks_up_mutations(harness: Harness) -> None:
    first = await harness.sync()
    checkpoint = await harness.cursor()
    response = await harness.http.post("/_sandbox/mutate", json={"count": 12})
    changed = response.json()["changed"]

    result = await harness.sync()

    assert result.ok, result.error
    new = [c for c in changed if c["version"] == 1]
    assert result.counts.inserted == len(new)
    assert result.counts.updated == len(changed) - len(new)
    assert result.fetched < first.fetched  # it read from the checkpoint, not from the start
    assert (await harness.cursor() or "") > (checkpoint or "")
    await harness.assert_matches_sandbox()


async def test_sync_under_faults_converges_to_the_same_state(harness: Harness) -> None:
    await harness.http.post("/_sandbox/mutate", json={"count": 20})  # stale versions to resend
    await harness.control(FAULTS)

    result = await harness.sync()

    assert result.ok, result.error
    assert result.retries > 0
    assert result.dead_lettered == 0
    stats = await harness.assert_matches_sandbox()
    injected = stats["faults_injected"]
    assert injected["duplicate"] > 0 and injected["out_of_order"] > 0
    assert injected["schema_drift"] > 0


async def test_wrong_password_fails_the_run_without_retrying(harness: Harness) -> None:
    credentials = {**harness.sandbox.credentials[SYSTEM], "password": "wrong"}

    result = await harness.sync(credentials=credentials)

    assert not result.ok
    assert result.error is not None and "AUTH_FAILED" in result.error
    assert result.retries == 0
    assert await harness.stored() == {}
