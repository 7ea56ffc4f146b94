"""The sandbox's write side over real HTTP: each system's legacy semantics, write faults, and
the write ledger that tests count exactly-once against."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from lxml import etree

from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.systems.mediation import sign_params
from sandbox.systems.police_wsdl import NAMESPACE
from sandbox.systems.sample import sample_mutator, sample_world
from tests.integration.sandbox_support import control

COURT, MEDIATION, GRID = SourceSystem.COURT, SourceSystem.MEDIATION, SourceSystem.GRID
POLICE, PETITION = SourceSystem.POLICE_110, SourceSystem.PETITION
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FILING = {"caseType": "民初", "cause": "民间借贷纠纷", "plaintiff": "张伟"}


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(base_port=0), sample_world(40),
                       mutator=sample_mutator) as sandbox:
        yield sandbox


async def writes(sb: Sandbox, system: SourceSystem) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        body: dict[str, Any] = (await client.get(f"{sb.urls[system]}/_sandbox/writes")).json()
        return body


async def court_token(client: httpx.AsyncClient, sb: Sandbox) -> dict[str, str]:
    creds = sb.credentials[COURT]
    response = await client.post(f"{sb.urls[COURT]}/oauth/token", data={
        "grant_type": "client_credentials", **creds})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def signed(sb: Sandbox, extra: dict[str, str] | None = None) -> dict[str, str]:
    creds = sb.credentials[MEDIATION]
    params = {"appKey": creds["app_key"], "timestamp": str(int(time.time() * 1000)),
              "nonce": secrets.token_hex(6), **(extra or {})}
    return {**params, "sign": sign_params(params, creds["app_secret"])}


def soap(sb: Sandbox, operation: str, params: dict[str, str]) -> bytes:
    creds = sb.credentials[POLICE]
    body = "".join(f"<a:{k}>{v}</a:{k}>" for k, v in params.items())
    return (f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:a="{NAMESPACE}"><soap:Header><a:auth>'
            f"<a:username>{creds['username']}</a:username><a:password>{creds['password']}"
            f"</a:password></a:auth></soap:Header><soap:Body><a:{operation}>{body}"
            f"</a:{operation}></soap:Body></soap:Envelope>").encode()


async def police_call(sb: Sandbox, operation: str, params: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{sb.urls[POLICE]}/services/AlarmService", content=soap(sb, operation, params),
            headers={"SOAPAction": f'"{NAMESPACE}/{operation}"',
                     "Content-Type": "text/xml; charset=utf-8"})


def live_key(sb: Sandbox, system: SourceSystem) -> str:
    return sorted(k for k, r in sb.systems[system].store.latest.items() if not r.deleted)[0]


async def test_court_answers_a_duplicate_in_flight_with_409_and_applies_once(sb: Sandbox) -> None:
    await control(sb, COURT, filing_processing_ms=300)
    async with httpx.AsyncClient(base_url=sb.urls[COURT]) as client:
        headers = {**await court_token(client, sb), "Idempotency-Key": "GH-1"}
        first, second = await asyncio.gather(
            client.post("/api/v1/filings", json=FILING, headers=headers),
            client.post("/api/v1/filings", json=FILING, headers=headers))
        missing = await client.post("/api/v1/filings", json={"cause": "x"},
                                    headers={**headers, "Idempotency-Key": "GH-2"})

    assert sorted([first.status_code, second.status_code]) == [201, 409]
    assert (second if second.status_code == 409 else first).headers["Retry-After"] == "1"
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_filing"
    book = await writes(sb, COURT)
    assert book["references"] == {"GH-1": 1} and book["rejected"] == 1


async def test_mediation_has_no_idempotency_but_finds_referrals_by_external_ref(
    sb: Sandbox,
) -> None:
    url = f"{sb.urls[MEDIATION]}/openapi/v1/referrals"
    async with httpx.AsyncClient() as client:
        body = {"externalRef": "GH-M1", "summary": "邻里纠纷委派调解"}
        first = await client.post(url, params=signed(sb), json=body)
        again = await client.post(url, params=signed(sb), json=body)
        unsigned = await client.post(url, json=body)
        found = await client.get(url, params=signed(sb, {"externalRef": "GH-M1"}))

    assert first.json()["data"]["referralNo"] != again.json()["data"]["referralNo"]
    assert unsigned.status_code == 401
    assert [r["externalRef"] for r in found.json()["data"]] == ["GH-M1", "GH-M1"]
    assert (await writes(sb, MEDIATION))["duplicates"] == 1


async def test_grid_assignments_are_found_by_business_number(sb: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {sb.credentials[GRID]['token']}"}
    async with httpx.AsyncClient(base_url=sb.urls[GRID], headers=headers) as client:
        created = await client.post("/api/v2/assignments",
                                    json={"bizNo": "GH-G1", "content": "请上门核实"})
        bad = await client.post("/api/v2/assignments", json={"content": "无业务编号"})
        found = await client.get("/api/v2/assignments", params={"bizNo": "GH-G1"})

    assert created.json()["data"]["status"] == "已交办"
    assert bad.status_code == 400
    assert [a["assignNo"] for a in found.json()["data"]] == [created.json()["data"]["assignNo"]]


async def test_police_feedback_repeats_are_visible_by_alert_number_in_gbk(sb: Sandbox) -> None:
    alert = live_key(sb, POLICE)
    params = {"JJDBH": alert, "CLJG": "已转12345调解完毕", "BZ": "GH-P1"}
    first = await police_call(sb, "FeedbackAlarm", params)
    await police_call(sb, "FeedbackAlarm", params)
    unknown = await police_call(sb, "FeedbackAlarm", {**params, "JJDBH": "NOPE"})
    listed = await police_call(sb, "QueryFeedback", {"JJDBH": alert})

    assert first.headers["content-type"] == "text/xml; charset=GBK"
    assert b'encoding="GBK"' in first.content and "调解".encode("gbk") in listed.content
    root = etree.fromstring(listed.content)
    remarks = [e.text for e in root.iter(f"{{{NAMESPACE}}}BZ")]
    assert remarks == ["GH-P1", "GH-P1"]
    assert unknown.status_code == 500 and b"soap:Client" in unknown.content


async def test_petition_reupload_replaces_the_row(sb: Sandbox) -> None:
    number = live_key(sb, PETITION)
    creds = sb.credentials[PETITION]

    def upload(result: str, key: str = number) -> bytes:
        return f"信访件编号,办理结果\r\n{key},{result}\r\n".encode("gbk")

    async with httpx.AsyncClient(base_url=sb.urls[PETITION],
                                 headers={"X-API-Key": creds["api_key"]}) as client:
        await client.post("/results/upload", content=upload("办理中"))
        second = await client.post("/results/upload", content=upload("已办结"))
        unknown = await client.post("/results/upload", content=upload("已办结", "XF0"))
        held = await client.get(f"/results/{number}")

    assert second.json() == {"code": "OK", "accepted": 1, "rejected": []}
    assert unknown.json()["rejected"][0]["reason"] == "信访件不存在"
    assert held.json()["data"]["办理结果"] == "已办结"
    book = await writes(sb, PETITION)
    assert book["duplicates"] == 0 and book["replaced"] == 1 and book["references"] == {number: 1}


async def test_write_faults_apply_before_or_after_the_write_as_named(sb: Sandbox) -> None:
    url = f"{sb.urls[MEDIATION]}/openapi/v1/referrals"
    async with httpx.AsyncClient(timeout=0.2) as client:
        # a 5xx before applying: nothing happened
        await control(sb, MEDIATION, write_error_rate=1.0)
        failed = await client.post(url, params=signed(sb),
                                   json={"externalRef": "A", "summary": "s"})
        # a lost answer after applying: the client sees a broken connection
        await control(sb, MEDIATION, write_error_rate=0.0, write_lost_rate=1.0)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(url, params=signed(sb), json={"externalRef": "B", "summary": "s"})
        # a hanging answer after applying: the client times out
        await control(sb, MEDIATION, write_lost_rate=0.0, write_timeout_rate=1.0,
                      hang_seconds=1.0)
        with pytest.raises(httpx.ReadTimeout):
            await client.post(url, params=signed(sb), json={"externalRef": "C", "summary": "s"})

    assert failed.status_code == 500
    assert (await writes(sb, MEDIATION))["references"] == {"B": 1, "C": 1}
    injected = sb.systems[MEDIATION].faults.injected
    assert injected["write_error_before_apply"] == injected["write_lost_after_apply"] == 1


async def test_accepted_writes_become_records_served_by_each_read_api(sb: Sandbox) -> None:
    # given a 网上立案, a 委派调解 and a 交办, each accepted
    async with httpx.AsyncClient() as client:
        court = await court_token(client, sb)
        filed = (await client.post(f"{sb.urls[COURT]}/api/v1/filings", json=FILING,
                                   headers={**court, "Idempotency-Key": "GH-C9"})).json()
        referred = (await client.post(
            f"{sb.urls[MEDIATION]}/openapi/v1/referrals", params=signed(sb),
            json={"externalRef": "GH-M9", "summary": "邻里纠纷委派调解", "disputeType": "02",
                  "parties": [{"role": "APPLICANT", "name": "张三"}]})).json()["data"]
        grid = {"Authorization": f"Bearer {sb.credentials[GRID]['token']}"}
        assigned = (await client.post(f"{sb.urls[GRID]}/api/v2/assignments", headers=grid,
                                      json={"bizNo": "GH-G9", "content": "请上门核实"})).json()

        # when each system is read the way a sync reads it
        cases = (await client.get(f"{sb.urls[COURT]}/api/v1/cases", headers=court,
                                  params={"limit": 200})).json()["items"]
        disputes = (await client.get(f"{sb.urls[MEDIATION]}/openapi/v1/cases",
                                     params=signed(sb, {"limit": "100"}))).json()["data"]
        events = (await client.get(f"{sb.urls[GRID]}/api/v2/events", headers=grid,
                                   params={"size": 200})).json()["data"]

    # then each holds a record of its own, at the department's 受理/立案, with the reference
    (case,) = [c for c in cases if c["caseNo"] == filed["caseNo"]]
    assert (case["status"], case["externalRef"], case["caseType"]) == ("已立案", "GH-C9", "民初")
    (dispute,) = [d for d in disputes if d["caseNo"] == referred["caseNo"]]
    assert (dispute["status"], dispute["externalRef"]) == ("受理", "GH-M9")
    assert [(p["name"], p["role"]) for p in dispute["parties"]] == [("张三", "申请人")]
    (event,) = [e for e in events if e["eventNo"] == assigned["data"]["taskEventNo"]]
    assert (event["status"], event["bizNo"], event["content"]) == ("02", "GH-G9", "请上门核实")


async def test_what_a_write_stamps_is_the_update_time_its_payload_states(sb: Sandbox) -> None:
    # given a 网上立案, a 委派调解, a 交办 and a grid 处置反馈, each accepted
    grid = {"Authorization": f"Bearer {sb.credentials[GRID]['token']}"}
    event_no = live_key(sb, GRID)
    async with httpx.AsyncClient() as client:
        court = await court_token(client, sb)
        filed = (await client.post(f"{sb.urls[COURT]}/api/v1/filings", json=FILING,
                                   headers={**court, "Idempotency-Key": "GH-C8"})).json()
        referred = (await client.post(
            f"{sb.urls[MEDIATION]}/openapi/v1/referrals", params=signed(sb),
            json={"externalRef": "GH-M8", "summary": "邻里纠纷委派调解"})).json()["data"]
        assigned = (await client.post(f"{sb.urls[GRID]}/api/v2/assignments", headers=grid,
                                      json={"bizNo": "GH-G8", "content": "请上门核实"})).json()
        fed_back = await client.post(f"{sb.urls[GRID]}/api/v2/events/{event_no}/feedback",
                                     headers=grid, json={"content": "已调解", "refNo": "GH-F8"})
        assert fed_back.status_code == 200, fed_back.text

        # when the sandbox's own record of each is read, as a reconciliation reads it
        async def stamped(system: SourceSystem, key: str) -> tuple[datetime, dict[str, Any]]:
            body = (await client.get(f"{sb.urls[system]}/_sandbox/records/{key}")).json()
            return datetime.fromisoformat(body["updatedAt"]), body["payload"]

        court_at, case = await stamped(COURT, filed["caseNo"])
        mediation_at, dispute = await stamped(MEDIATION, referred["caseNo"])
        task_at, task = await stamped(GRID, assigned["data"]["taskEventNo"])
        event_at, event = await stamped(GRID, event_no)

    # then its update time is the instant the payload states, not a finer one no reader sees
    assert court_at == datetime.fromisoformat(case["modifiedAt"])
    assert mediation_at == datetime.fromisoformat(dispute["updatedAt"])
    for at, payload in ((task_at, task), (event_at, event)):
        assert at == datetime.fromtimestamp(payload["updateTime"] / 1000, UTC)


async def test_referral_parties_keep_roles_given_in_english_or_in_the_committees_words(
    sb: Sandbox,
) -> None:
    # given a 委派调解 naming roles both ways
    parties = [{"role": "申请人", "name": "张三"}, {"role": "被申请人", "name": "李四"},
               {"role": "RESPONDENT", "name": "王五"}, {"role": "APPLICANT", "name": "赵六"}]
    async with httpx.AsyncClient() as client:
        referred = (await client.post(
            f"{sb.urls[MEDIATION]}/openapi/v1/referrals", params=signed(sb),
            json={"externalRef": "GH-M10", "summary": "邻里纠纷委派调解",
                  "parties": parties})).json()["data"]

        # when the committee's case is read back
        disputes = (await client.get(f"{sb.urls[MEDIATION]}/openapi/v1/cases",
                                     params=signed(sb, {"limit": "100"}))).json()["data"]

    # then each party has the role it was sent with, in the committee's words
    (dispute,) = [d for d in disputes if d["caseNo"] == referred["caseNo"]]
    assert [(p["name"], p["role"]) for p in dispute["parties"]] == [
        ("张三", "申请人"), ("李四", "被申请人"), ("王五", "被申请人"), ("赵六", "申请人")]
