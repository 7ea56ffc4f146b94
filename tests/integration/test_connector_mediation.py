"""The mediation connector against the sandbox over HTTP, on both databases: HMAC-signed
cursor paging, reconciliation, tombstones, idempotence, incremental sync and faults."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.auth import HmacSigner
from connectors.mediation import MediationConnector
from connectors.sync import sync_source
from db.engine import session_factory
from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from tests.integration.connector_checks import (
    FAULTS,
    assert_matches_sandbox,
    connector_for,
    control,
    mutate,
    snapshot,
    stats,
    stored,
    sync,
)

MEDIATION = SourceSystem.MEDIATION


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(base_port=0, scale=300, profile="clean")) as sandbox:
        yield sandbox


async def test_clean_sync_reconciles_then_a_rerun_writes_nothing_and_changes_arrive(
    committing_engine: AsyncEngine, sb: Sandbox
) -> None:
    db = committing_engine
    await control(sb, MEDIATION, malformed_rate=0.08)
    async with connector_for(sb, MEDIATION) as connector:
        first = await sync(db, connector)
        await assert_matches_sandbox(db, sb, MEDIATION, connector)
        assert first.dead_lettered == len((await stats(sb, MEDIATION))["malformed_keys"]) > 0

        before = await snapshot(db, MEDIATION)
        again = await sync(db, connector)
        assert (again.fetched, again.counts.inserted, again.counts.updated) == (0, 0, 0)
        assert await snapshot(db, MEDIATION) == before

        changed = await mutate(sb, MEDIATION, 25)
        incremental = await sync(db, connector)
    malformed = set((await stats(sb, MEDIATION))["malformed_keys"])
    held = {k for k, (_, _, deleted) in before.items() if not deleted}
    deleted = {c["key"] for c in changed if c["deleted"]} & held
    assert deleted, "the mutation deleted some held case (seeded, so stable)"
    assert incremental.counts.deleted == len(deleted)
    assert incremental.counts.updated == len({c["key"] for c in changed} & held - deleted)
    new = {c["key"] for c in changed if not c["deleted"]} - held - malformed
    assert incremental.counts.inserted == len(new)
    await assert_matches_sandbox(db, sb, MEDIATION, connector)
    records = await stored(db, MEDIATION)
    assert all(records[key].deleted for key in deleted)


async def test_faults_do_not_change_what_converges(
    committing_engine: AsyncEngine, sb: Sandbox
) -> None:
    db = committing_engine
    async with connector_for(sb, MEDIATION, page_size=5) as connector:
        await sync(db, connector)
        await mutate(sb, MEDIATION, 20)  # earlier versions and tombstones now exist
        await control(sb, MEDIATION, **FAULTS)
        await sync(db, connector)
        await assert_matches_sandbox(db, sb, MEDIATION, connector)
        await sync(db, connector, full=True)  # every stale copy again: nothing goes back
        await assert_matches_sandbox(db, sb, MEDIATION, connector)
    injected = (await stats(sb, MEDIATION))["faults_injected"]
    assert {"duplicate", "out_of_order", "schema_drift"} <= set(injected)


async def test_a_refused_signature_says_which_of_the_platforms_checks_failed(
    committing_engine: AsyncEngine, sb: Sandbox
) -> None:
    db = committing_engine
    async with connector_for(sb, MEDIATION) as connector:
        assert isinstance(connector, MediationConnector)
        signer = connector.client.auth
        assert isinstance(signer, HmacSigner)

        # given our clock ten minutes fast, then a secret the platform does not know
        signer.clock = lambda: time.time() + 600
        skewed = await sync_source(db, session_factory(db), connector)
        signer.clock, signer.app_secret = time.time, "not-the-secret"
        wrong = await sync_source(db, session_factory(db), connector)

    # then each failed run names the platform's own reason beside the status, in one coded line
    assert skewed.error == "AUTH: MEDIATION: credentials refused (401): 时间戳过期"
    assert wrong.error is not None
    assert wrong.error.startswith("AUTH: MEDIATION: credentials refused (401): 签名错误")
    assert "\n" not in wrong.error
