"""Fault injection and the control/stats endpoints, observed over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import zeep

from domain.enums import SourceSystem
from sandbox.control import MutateDriver
from sandbox.faults import MutateSettings
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.systems.delivery import BROKEN_BYTES, id_check_char
from sandbox.systems.sample import sample_mutator, sample_world

GRID = SourceSystem.GRID


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        SandboxConfig(base_port=0), sample_world(40), mutator=sample_mutator
    ) as sandbox:
        yield sandbox


@pytest.fixture
async def grid(sb: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    token = sb.credentials[GRID]["token"]
    async with httpx.AsyncClient(
        base_url=sb.urls[GRID], timeout=2, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        yield c


async def control(client: httpx.AsyncClient, **settings: Any) -> dict[str, Any]:
    response = await client.post("/_sandbox/control", json=settings)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def page(client: httpx.AsyncClient, size: int = 100) -> list[dict[str, Any]]:
    response = await client.get("/api/v2/events", params={"size": size})
    assert response.status_code == 200
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/_sandbox/stats")).json()
    return body


async def test_control_shows_and_changes_settings(grid: httpx.AsyncClient) -> None:
    before = (await grid.get("/_sandbox/control")).json()
    after = await control(grid, error_rate=0.5, latency_ms=5)
    unknown = await grid.post("/_sandbox/control", json={"explode": True})

    assert before["error_rate"] == 0.0 and before["system"] == "GRID"
    assert after["error_rate"] == 0.5 and after["latency_ms"] == 5
    assert unknown.status_code == 400


async def test_control_starts_and_stops_mutation(grid: httpx.AsyncClient) -> None:
    started = await control(grid, mutate={"interval_ms": 20, "count": 3})
    stopped = await control(grid, mutate=None)

    assert started["mutate"] == {"interval_ms": 20, "count": 3}
    assert stopped["mutate"] is None


async def test_an_empty_mutate_object_starts_mutation_with_the_defaults(
    grid: httpx.AsyncClient,
) -> None:
    started = await control(grid, mutate={})

    assert started["mutate"] == {"interval_ms": 1000, "count": 5}


async def test_rejected_control_request_changes_nothing(grid: httpx.AsyncClient) -> None:
    before = (await grid.get("/_sandbox/control")).json()

    rejected = await grid.post("/_sandbox/control", json={"error_rate": 0.5, "bogus": 1})

    assert rejected.status_code == 400
    assert rejected.json()["error"] == "unknown control key: bogus"
    assert (await grid.get("/_sandbox/control")).json() == before


@pytest.mark.parametrize(("settings", "message"), [
    ({"error_rate": -3}, "error_rate must not be negative"),
    ({"error_rate": 1.5}, "error_rate must be between 0 and 1"),
    ({"latency_ms": -100}, "latency_ms must not be negative"),
    ({"hang_seconds": "long"}, "hang_seconds must be a number"),
    ({"mutate": {"interval_ms": "fast"}}, "mutate.interval_ms must be a number"),
    ({"mutate": {"interval_ms": 200, "often": True}}, "unknown mutate key: often"),
    ({"mutate": 5}, "mutate must be an object"),
    ({"mutate": False}, "mutate must be an object"),
    ({"retry_after_s": 0.5}, "retry_after_s must be a whole number"),
    ({"latency_ms": 1.7}, "latency_ms must be a whole number"),
    ({"mutate": {"interval_ms": 200, "count": 2.5}}, "mutate.count must be a whole number"),
    ({"mutate": {"interval_ms": 200, "count": 100_000}}, "mutate.count must be at most 10000"),
])
async def test_control_refuses_out_of_range_and_mistyped_settings(
    grid: httpx.AsyncClient, settings: dict[str, Any], message: str,
) -> None:
    before = (await grid.get("/_sandbox/control")).json()

    rejected = await grid.post("/_sandbox/control", json=settings)

    assert rejected.status_code == 400
    assert rejected.json()["error"].startswith(message)
    assert (await grid.get("/_sandbox/control")).json() == before


async def test_mutation_keeps_running_after_a_bad_interval(sb: Sandbox) -> None:
    ctx = sb.systems[GRID]
    ctx.faults.settings.mutate = MutateSettings(interval_ms="fast", count=1)  # type: ignore[arg-type]  # what an unchecked caller could store
    driver = MutateDriver(ctx)
    driver.sync()
    await asyncio.sleep(0.05)

    ctx.faults.settings.mutate = MutateSettings(interval_ms=10, count=1)
    await asyncio.sleep(1.3)
    await driver.stop()

    assert ctx.faults.injected["mutate"] >= 1


@pytest.mark.parametrize("body", [b'{"count": "x"}', b"[3]", b"{", b'{"count": -1}', b"\xff",
                                  b'{"count": 100000}'])
async def test_a_malformed_mutate_request_is_400(grid: httpx.AsyncClient, body: bytes) -> None:
    before = await stats(grid)

    response = await grid.post("/_sandbox/mutate", content=body)

    assert response.status_code == 400
    assert response.json()["error"]
    assert (await stats(grid))["versions"] == before["versions"]


async def test_down_system_answers_503_but_control_still_works(grid: httpx.AsyncClient) -> None:
    await control(grid, down=True)

    response = await grid.get("/api/v2/events")

    assert response.status_code == 503
    assert (await stats(grid))["faults_injected"]["down"] == 1
    await control(grid, down=False)
    assert (await grid.get("/api/v2/events")).status_code == 200


async def test_error_rate_gives_server_errors(grid: httpx.AsyncClient) -> None:
    await control(grid, error_rate=1.0)

    statuses = {(await grid.get("/api/v2/events")).status_code for _ in range(20)}

    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    injected = (await stats(grid))["faults_injected"]
    assert sum(v for k, v in injected.items() if k.startswith("error_")) == 20


async def test_storm_answers_429_with_retry_after(grid: httpx.AsyncClient) -> None:
    await control(grid, storm_429=True, retry_after_s=3)

    response = await grid.get("/api/v2/events")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"


async def test_latency_is_added(grid: httpx.AsyncClient) -> None:
    await control(grid, latency_ms=150)

    started = time.monotonic()
    await grid.get("/api/v2/events")

    assert time.monotonic() - started >= 0.15


async def test_hang_outlasts_the_client_timeout_and_is_released_on_stop(
    sb: Sandbox,
    grid: httpx.AsyncClient,
) -> None:
    await control(grid, hang_rate=1.0, hang_seconds=30)

    with pytest.raises(httpx.ReadTimeout):
        await grid.get("/api/v2/events", timeout=0.2)
    assert (await stats(grid))["faults_injected"]["hang"] == 1


async def test_reset_breaks_the_connection(grid: httpx.AsyncClient) -> None:
    await control(grid, reset_rate=1.0)

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await grid.get("/api/v2/events")


async def test_malformed_records_are_deterministic_and_consistent(
    sb: Sandbox,
    grid: httpx.AsyncClient,
) -> None:
    await control(grid, malformed_rate=0.25)
    first, second = await page(grid), await page(grid)
    report = await stats(grid)

    assert first == second
    assert report["malformed_records"] == 10
    assert report["valid_records"] + report["malformed_records"] == 40
    by_key = {e["eventNo"]: e for e in first}
    for key, flaw in report["malformed"].items():
        event, clean = by_key[key], (await grid.get(f"/_sandbox/records/{key}")).json()["payload"]
        if flaw["kind"] == "bad_id_check":
            value = event[flaw["field"]]
            assert value != clean[flaw["field"]] and value[-1] != id_check_char(value[:17])
        elif flaw["kind"] == "missing_required":
            assert flaw["field"] not in event
        elif flaw["kind"] == "broken_encoding":
            assert BROKEN_BYTES in event[flaw["field"]]
        else:
            assert "-02-30" in event[flaw["field"]]
    for key in report["valid_keys"]:
        assert by_key[key] == (await grid.get(f"/_sandbox/records/{key}")).json()["payload"]
    async with Sandbox(SandboxConfig(base_port=0, profile="flaky"), sample_world(40)) as again:
        assert sorted(again.systems[GRID].malformed) != []


async def test_malformed_choice_depends_only_on_seed_and_rate() -> None:
    chosen = []
    for _ in range(2):
        async with Sandbox(
            SandboxConfig(base_port=0, profile="hostile"), sample_world(40), mutator=sample_mutator
        ) as sandbox:
            await control_all_off(sandbox)
            chosen.append({s: dict(c.malformed) for s, c in sandbox.systems.items()})

    assert chosen[0] == chosen[1]
    assert all(chosen[0].values())


async def control_all_off(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        for url in sandbox.urls.values():
            await client.post(f"{url}/_sandbox/control", json={"mutate": None})


async def test_duplicates_repeat_a_record_on_the_page(grid: httpx.AsyncClient) -> None:
    await control(grid, duplicate_rate=1.0)

    events = await page(grid, size=10)

    assert len(events) == 20
    assert events[0] == events[1]


async def test_out_of_order_delivers_an_older_version_after_the_newer(
    sb: Sandbox,
    grid: httpx.AsyncClient,
) -> None:
    changed = [r for r in sb.mutate(GRID, 3) if r.version > 1]
    await control(grid, out_of_order=True)

    events = await page(grid, size=100)

    key = changed[0].key
    versions = [e for e in events if e["eventNo"] == key]
    assert len(versions) == 2
    newer, older = versions
    assert older["updateTime"] < newer["updateTime"]
    latest_wins: dict[str, dict[str, Any]] = {}
    for event in events:
        held = latest_wins.get(event["eventNo"])
        if held is None or event["updateTime"] > held["updateTime"]:
            latest_wins[event["eventNo"]] = event
    assert latest_wins[key]["status"] == changed[0].payload["status"]


async def test_schema_drift_adds_an_unknown_field(grid: httpx.AsyncClient) -> None:
    await control(grid, schema_drift=True)

    events = await page(grid, size=5)

    assert all(e["gridExt"] == "v2" for e in events)


async def test_110_faults_stay_parseable_by_zeep(sb: Sandbox) -> None:
    url = sb.urls[SourceSystem.POLICE_110]
    async with httpx.AsyncClient(base_url=url) as client:
        await control(client, malformed_rate=0.3, schema_drift=True)
        report = await stats(client)

    def fetch() -> Any:
        service = zeep.Client(f"{url}/services/AlarmService?wsdl").service
        return service.QueryAlarms(
            startTime="2024-01-01 00:00:00",
            endTime="2025-01-01 00:00:00",
            pageNo=1,
            pageSize=100,
            _soapheaders={"auth": sb.credentials[SourceSystem.POLICE_110]},
        )

    result = await asyncio.to_thread(fetch)

    alarms = {a.JJDBH: a for a in result.alarms.alarm}
    assert len(alarms) == 40
    kinds = {flaw["kind"] for flaw in report["malformed"].values()}
    assert len(kinds) >= 3
    for key, flaw in report["malformed"].items():
        if flaw["kind"] in {"missing_required", "broken_element"}:
            assert alarms[key].BJSJ is None
        if flaw["kind"] == "broken_encoding":
            assert "锟斤拷" in getattr(alarms[key], flaw["field"])


async def test_profiles_set_faults_at_start_up() -> None:
    async with (
        Sandbox(
            SandboxConfig(base_port=0, profile="hostile"), sample_world(10), mutator=sample_mutator
        ) as sandbox,
        httpx.AsyncClient() as client,
    ):
        hostile = (await client.get(f"{sandbox.urls[GRID]}/_sandbox/control")).json()
        await control_all_off(sandbox)

    assert hostile["error_rate"] == 0.25 and hostile["out_of_order"] is True
    assert hostile["mutate"] is not None and hostile["schema_drift"] is True
    with pytest.raises(ValueError, match="unknown profile"):
        Sandbox(SandboxConfig(profile="chaotic"))


async def test_generated_world_reconciles_record_by_record() -> None:
    async with (
        Sandbox(SandboxConfig(base_port=0, scale=200, profile="flaky")) as sandbox,
        httpx.AsyncClient(base_url=sandbox.urls[SourceSystem.COURT]) as client,
    ):
        await control(
            client,
            error_rate=0,
            rate_429=0,
            latency_ms=0,
            malformed_rate=0.1,
            duplicate_rate=0.2,
            out_of_order=True,
        )
        sandbox.mutate(SourceSystem.COURT, 10)
        creds = sandbox.credentials[SourceSystem.COURT]
        token = (
            await client.post("/oauth/token", data={"grant_type": "client_credentials", **creds})
        ).json()["access_token"]
        items = (
            await client.get(
                "/api/v1/cases", params={"limit": 200}, headers={"Authorization": f"Bearer {token}"}
            )
        ).json()["items"]
        report = await stats(client)

    latest: dict[str, dict[str, Any]] = {}
    for item in items:
        held = latest.get(item["caseNo"])
        if held is None or item["modifiedAt"] > held["modifiedAt"]:
            latest[item["caseNo"]] = item
    assert sorted(latest) == sorted(report["valid_keys"] + report["malformed_keys"])
    assert report["malformed_records"] >= 1
    assert report["faults_injected"]["out_of_order"] >= 1


@pytest.mark.parametrize("profile", ["clean", "flaky", "hostile"])
async def test_write_faults_are_set_on_every_system_whatever_the_profile(profile: str) -> None:
    # given the sandbox started with --write-faults 0.3 on any profile
    config = SandboxConfig(base_port=0, profile=profile, write_faults=0.3)
    async with (Sandbox(config, sample_world(), mutator=sample_mutator) as sandbox,
                httpx.AsyncClient() as client):
        # then every system splits the rate between its three write faults
        for url in sandbox.urls.values():
            settings = (await client.get(f"{url}/_sandbox/control")).json()
            assert [round(settings[k], 6) for k in (
                "write_error_rate", "write_lost_rate", "write_timeout_rate")] == [0.1] * 3
    with pytest.raises(ValueError, match="between 0 and 1"):
        SandboxConfig(write_faults=1.5).fault_settings()
