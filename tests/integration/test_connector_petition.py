"""The petition connector against the sandbox over real HTTP, into SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from connectors import petition
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.sync import sync_source
from db.models import Petition
from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.sandbox_sync import FAST_RETRY, FAULTS, Harness

SYSTEM = SourceSystem.PETITION
EXPECTED_CODE = {
    "bad_id_check": "INVALID_ID_NUMBER",
    "missing_required": "MISSING_FIELD",
    "impossible_date": "INVALID_DATE",
    "broken_encoding": "MALFORMED",  # undecodable bytes: dead-lettered before parsing
}


@pytest.fixture
async def harness(committing_engine: AsyncEngine) -> AsyncIterator[Harness]:
    async with (
        Sandbox(SandboxConfig(base_port=0, scale=300, profile="clean")) as sandbox,
        httpx.AsyncClient(base_url=sandbox.urls[SYSTEM]) as http,
    ):
        yield Harness(sandbox, SYSTEM, http, committing_engine, petition)


async def test_clean_sync_holds_every_valid_row_and_dead_letters_the_malformed(
    harness: Harness,
) -> None:
    await harness.control({"malformed_rate": 0.25})  # every kind, at this seed

    result = await harness.sync()

    assert result.ok, result.error
    stats = await harness.assert_matches_sandbox()
    letters = await harness.dead_letters()
    assert sorted(k for k in letters if k is not None) == stats["malformed_keys"]
    for key, flaw in stats["malformed"].items():
        assert letters[key].error_code == EXPECTED_CODE[flaw["kind"]], (key, flaw)
        assert flaw["field"] in letters[key].reason
        if flaw["kind"] == "broken_encoding":  # the row's bytes are kept for inspection
            assert b"\xff\xfe" in base64.b64decode(letters[key].raw["_row_base64"])


async def test_row_is_mapped_onto_the_unified_record(harness: Harness) -> None:
    await harness.sync()

    petitions = await harness.stored(Petition)
    key = sorted(petitions)[0]
    record, row = petitions[key], (await harness.sandbox_record(key))["payload"]
    assert isinstance(record, Petition)
    assert record.petition_numbers == {"county": key}
    assert record.form == row["信访形式"]
    accepted = record.accepted_on
    assert (
        accepted is not None
        and row["信访日期"] == f"{accepted.year}年{accepted.month}月{accepted.day}日"
    )
    assert record.handling_unit == row["办理单位"]
    assert record.petitioner_count == int(row["信访人数"])
    assert record.source_status == row["办理状态"]
    assert record.region_code is not None and row["问题属地"].startswith(record.region_code)
    assert record.source_version == "001"


async def test_small_daily_files_share_batches(harness: Harness) -> None:
    # Given many daily files of a few rows each
    listing = (await harness.http.get(petition.LISTING, auth=_basic(harness))).json()
    files = [entry for entry in listing if petition.file_version(entry["name"]) is not None]
    assert len(files) > 10

    # When the first sync runs with batches of 50 rows
    result = await harness.sync(page_size=50)

    # Then rows of several files go in one batch, and every file is marked done
    assert result.ok, result.error
    assert result.batches == -(-result.fetched // 50) < len(files)
    done = json.loads(await harness.cursor() or "{}")["files"]
    assert sorted(done) == sorted(entry["name"] for entry in files)
    await harness.assert_matches_sandbox()


def _basic(harness: Harness) -> httpx.BasicAuth:
    credentials = harness.sandbox.credentials[SYSTEM]
    return httpx.BasicAuth(credentials["username"], credentials["password"])


async def test_second_sync_downloads_nothing(harness: Harness) -> None:
    with capture_logs() as first_logs:
        await harness.sync()
    before = {k: r.updated_at for k, r in (await harness.stored()).items()}

    with capture_logs() as second_logs:
        result = await harness.sync()

    # one info line for the run that changed something, none for the quiet one
    assert [e["log_level"] for e in first_logs if e["event"] == "sync_finished"] == ["info"]
    assert [
        e for e in second_logs if e["event"] == "sync_finished" and e["log_level"] != "debug"
    ] == []

    assert result.ok, result.error
    assert (result.fetched, result.counts.inserted, result.counts.updated) == (0, 0, 0)
    assert {k: r.updated_at for k, r in (await harness.stored()).items()} == before


async def test_reissued_file_is_picked_up_and_beats_the_original(harness: Harness) -> None:
    await harness.sync()
    response = await harness.http.post("/_sandbox/mutate", json={"count": 10})
    changed = response.json()["changed"]
    corrected = [c["key"] for c in changed if c["version"] > 1]
    assert corrected

    result = await harness.sync()

    assert result.ok, result.error
    assert result.counts.inserted == len(changed) - len(corrected)
    await harness.assert_matches_sandbox()
    stored = await harness.stored()
    assert all(stored[k].source_version == "002" for k in corrected)
    done = json.loads(await harness.cursor() or "{}")["files"]
    assert any(name.endswith("_v2.csv") for name in done)
    again = await harness.sync()  # and a re-issue that has not changed is not read again
    assert again.fetched == 0


async def test_sync_under_faults_converges_to_the_same_state(harness: Harness) -> None:
    await harness.http.post("/_sandbox/mutate", json={"count": 10})  # re-issued files to list
    await harness.control(FAULTS)

    result = await harness.sync()

    assert result.ok, result.error
    assert result.retries > 0
    assert result.dead_lettered == 0
    stats = await harness.assert_matches_sandbox()
    injected = stats["faults_injected"]
    assert injected["duplicate"] > 0 and injected["out_of_order"] > 0
    assert injected["schema_drift"] > 0


async def test_api_key_alone_is_enough_and_a_wrong_one_fails_the_run(harness: Harness) -> None:
    api_key = harness.sandbox.credentials[SYSTEM]["api_key"]

    good = await harness.sync(credentials={"api_key": api_key})
    bad = await harness.sync(credentials={"api_key": "wrong"}, full=True)

    assert good.ok and good.counts.inserted > 0
    assert not bad.ok and bad.error is not None and "401" in bad.error


@pytest.mark.parametrize(("breaker_opens", "failure"), [
    (False, "SERVER_ERROR: PETITION: server error 503"),  # the retries run out
    (True, "BREAKER_OPEN: PETITION: circuit open"),  # the breaker opens while it retries
])
async def test_files_read_before_an_outage_are_kept_and_not_read_again(
    harness: Harness, breaker_opens: bool, failure: str,
) -> None:
    # Given the bureau's server going down after the sync has read five daily files (all of
    # them fewer rows than one batch holds)
    files_read: list[str] = []
    faults = harness.sandbox.systems[SYSTEM].faults
    outage_after = [5]
    breaker = CircuitBreaker(SYSTEM, threshold=2, cooldown=0.5)

    async def count_files(response: httpx.Response) -> None:
        name = response.url.path.removeprefix(petition.LISTING)
        if petition.file_version(name) is not None and response.status_code == 200:
            files_read.append(name)
            if len(files_read) in outage_after:
                faults.settings.down = True
                outage_after.clear()
        elif breaker_opens and response.status_code == 503:
            # other calls to the bureau failing meanwhile open its breaker (one request's
            # own retries never do)
            for _ in range(breaker.threshold):
                breaker.record_failure()

    async with httpx.AsyncClient(base_url=harness.sandbox.urls[SYSTEM],
                                 event_hooks={"response": [count_files]}) as http:
        def connector(its_breaker: CircuitBreaker) -> petition.PetitionConnector:
            config = SourceConfig(base_url=harness.sandbox.urls[SYSTEM], page_size=500,
                                  credentials=harness.sandbox.credentials[SYSTEM],
                                  retry=FAST_RETRY)
            return petition.build(config, http, its_breaker)

        # When the sync fails on the sixth file
        failed = await sync_source(harness.engine, harness.sessions, connector(breaker),
                                   full=False)

        # Then the run is FAILED, yet the five files' rows are stored and checkpointed …
        assert not failed.ok and failed.error is not None and failed.error.startswith(failure)
        kept = json.loads(await harness.cursor() or "{}")["files"]
        assert sorted(kept) == sorted(files_read)
        assert failed.fetched > 0 and len(await harness.stored()) > 0

        # … and once the server is back, the next sync reads only the other files
        faults.settings.down = False
        files_read.clear()
        await asyncio.sleep(0.6)  # the breaker's cool-down (kept in sync_state) is over
        again = await sync_source(harness.engine, harness.sessions,
                                  connector(CircuitBreaker(SYSTEM, cooldown=0.5)), full=False)

    assert again.ok, again.error
    assert not set(files_read) & set(kept)
    await harness.assert_matches_sandbox()
