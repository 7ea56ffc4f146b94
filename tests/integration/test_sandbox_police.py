"""110 接处警平台 over real HTTP: WSDL + zeep, GBK responses, SOAP Faults, time windows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from domain.enums import SourceSystem
from sandbox.runner import Sandbox, SandboxConfig
from sandbox.systems.police_wsdl import NAMESPACE
from sandbox.systems.sample import sample_mutator, sample_world

SYSTEM = SourceSystem.POLICE_110
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WIDE = ("2024-01-01 00:00:00", "2025-01-01 00:00:00")


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        SandboxConfig(base_port=0), sample_world(40), mutator=sample_mutator
    ) as sandbox:
        yield sandbox


def envelope(params: dict[str, Any], user: str = "jjpt_sync", password: str = "Police@110") -> str:  # noqa: S107  # the sandbox's dev password
    body = "".join(f"<a:{k}>{v}</a:{k}>" for k, v in params.items())
    return (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:a="{NAMESPACE}"><soap:Header>'
        f"<a:auth><a:username>{user}</a:username><a:password>{password}</a:password></a:auth>"
        f"</soap:Header><soap:Body><a:QueryAlarms>{body}</a:QueryAlarms></soap:Body>"
        "</soap:Envelope>"
    )


async def call(sb: Sandbox, xml: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{sb.urls[SYSTEM]}/services/AlarmService",
            content=xml.encode(),
            headers={
                "SOAPAction": f'"{NAMESPACE}/QueryAlarms"',
                "Content-Type": "text/xml; charset=utf-8",
            },
        )


def query(
    start: str = WIDE[0],
    end: str = WIDE[1],
    page: int = 1,
    size: int = 10,
) -> dict[str, Any]:
    return {"startTime": start, "endTime": end, "pageNo": page, "pageSize": size}


async def test_response_is_gbk_encoded_xml_with_pinyin_fields(sb: Sandbox) -> None:
    response = await call(sb, envelope(query(size=5)))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=GBK"
    assert response.content.startswith(b'<?xml version="1.0" encoding="GBK"?>')
    assert "张伟".encode("gbk") in response.content
    assert "张伟".encode() not in response.content
    root = etree.fromstring(response.content)
    alarms = root.findall(f".//{{{NAMESPACE}}}alarm")
    assert len(alarms) == 5
    assert root.findtext(f".//{{{NAMESPACE}}}total") == "40"
    assert alarms[0].findtext(f"{{{NAMESPACE}}}BJRXM") == "张伟"
    assert (
        alarms[0].findtext(f"{{{NAMESPACE}}}JJDBH")
        == sorted(r.key for r in sb.world.records[SYSTEM])[0]
    )


async def test_zeep_client_from_wsdl_calls_query_alarms(sb: Sandbox) -> None:
    def fetch() -> Any:
        client = zeep.Client(
            f"{sb.urls[SYSTEM]}/services/AlarmService?wsdl", transport=Transport(timeout=5)
        )
        return client.service.QueryAlarms(
            startTime=WIDE[0],
            endTime=WIDE[1],
            pageNo=2,
            pageSize=15,
            _soapheaders={"auth": {"username": "jjpt_sync", "password": "Police@110"}},
        )

    result = await asyncio.to_thread(fetch)

    assert result.total == 40
    assert len(result.alarms.alarm) == 15
    assert result.alarms.alarm[0].BJRXM in {
        "张伟",
        "王芳",
        "李娜",
        "刘洋",
        "陈静",
        "杨磊",
        "赵敏",
        "黄强",
        "周杰",
        "吴倩",
    }
    assert all(len(a.GXSJ) == 14 for a in result.alarms.alarm)


async def test_zeep_client_from_wsdl_writes_and_reads_back_a_feedback(sb: Sandbox) -> None:
    alert_no = sorted(r.key for r in sb.world.records[SYSTEM])[0]
    auth = {"auth": {"username": "jjpt_sync", "password": "Police@110"}}

    def feedback() -> tuple[Any, Any]:
        client = zeep.Client(
            f"{sb.urls[SYSTEM]}/services/AlarmService?wsdl", transport=Transport(timeout=5)
        )
        written = client.service.FeedbackAlarm(
            JJDBH=alert_no, CLJG="已调解", CLDW="城关街道调委会", BZ="REF-1", _soapheaders=auth)
        return written, client.service.QueryFeedback(JJDBH=alert_no, _soapheaders=auth)

    written, found = await asyncio.to_thread(feedback)

    assert written.result == "0" and written.FKBH.startswith("FK")
    assert [(f.FKBH, f.CLJG, f.CLDW, f.BZ) for f in found] == [
        (written.FKBH, "已调解", "城关街道调委会", "REF-1")]


async def test_zeep_with_ws_security_username_token(sb: Sandbox) -> None:
    def fetch() -> Any:
        client = zeep.Client(
            f"{sb.urls[SYSTEM]}/services/AlarmService?wsdl",
            wsse=UsernameToken("jjpt_sync", "Police@110"),
        )
        return client.service.QueryAlarms(
            startTime=WIDE[0], endTime=WIDE[1], pageNo=1, pageSize=3, _soapheaders={"auth": None}
        )

    result = await asyncio.to_thread(fetch)

    assert result.total == 40


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (query(start="2024/01/01"), "startTime"),
        (query(size=501), "pageSize"),
        ({"startTime": WIDE[0], "endTime": WIDE[1], "pageNo": 1}, "missing parameter pageSize"),
    ],
)
async def test_bad_input_is_a_client_soap_fault(
    sb: Sandbox,
    params: dict[str, Any],
    message: str,
) -> None:
    response = await call(sb, envelope(params))

    assert response.status_code == 500
    root = etree.fromstring(response.content)
    fault = root.find(f".//{{{SOAP_ENV}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"
    assert message in (fault.findtext("faultstring") or "")


async def test_wrong_password_is_a_fault(sb: Sandbox) -> None:
    response = await call(sb, envelope(query(), password="nope"))

    assert response.status_code == 500
    assert b"AUTH_FAILED" in response.content


async def test_window_filters_on_update_time_gxsj(sb: Sandbox) -> None:
    ordered = sorted(sb.world.records[SYSTEM], key=lambda r: (r.updated_at, r.key))
    start, end = ordered[10].payload["GXSJ"], ordered[20].payload["GXSJ"]

    def spaced(compact: str) -> str:
        c = compact
        return f"{c[:4]}-{c[4:6]}-{c[6:8]} {c[8:10]}:{c[10:12]}:{c[12:]}"

    response = await call(sb, envelope(query(spaced(start), spaced(end), size=50)))

    root = etree.fromstring(response.content)
    keys = [e.text for e in root.iterfind(f".//{{{NAMESPACE}}}JJDBH")]
    assert keys == [r.key for r in ordered[10:20]]
    assert root.findtext(f".//{{{NAMESPACE}}}total") == "10"
