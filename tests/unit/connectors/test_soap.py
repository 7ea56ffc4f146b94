"""SOAP 1.1 envelopes and fault classification (a 500 is judged by its body)."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

from connectors.errors import (
    SourceAuthError,
    SourceRequestRejected,
    SourceResponseError,
    SourceServerError,
)
from connectors.soap import (
    SOAP_ENV,
    build_envelope,
    parse_response,
    raise_for_soap_status,
)
from domain.enums import SourceSystem

NS = "http://example.test/alarm"
WHO = SourceSystem.POLICE_110


def fault(code: str, text: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="GBK"?><soap:Envelope xmlns:soap="{SOAP_ENV}">'
        f"<soap:Body><soap:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode("gbk")


def test_envelope_carries_the_auth_header_and_parameters() -> None:
    document = build_envelope(NS, "QueryAlarms", {"pageNo": "1"}, ("auth", {"username": "u"}))

    root = etree.fromstring(document)
    assert root.findtext(f"{{{SOAP_ENV}}}Header/{{{NS}}}auth/{{{NS}}}username") == "u"
    assert root.findtext(f"{{{SOAP_ENV}}}Body/{{{NS}}}QueryAlarms/{{{NS}}}pageNo") == "1"


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, fault("soap:Client", "pageSize must be an integer"), SourceRequestRejected),
        (500, fault("soap:Client", "AUTH_FAILED: 用户名或密码错误"), SourceAuthError),
        (500, fault("soap:Server", "database unavailable"), SourceServerError),
        (500, b'{"code": "INTERNAL"}', SourceServerError),
        (503, b"", SourceServerError),
        (404, b"not found", SourceRequestRejected),
    ],
)
def test_errors_are_classified_by_fault_code_then_status(
    status: int, body: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        raise_for_soap_status(httpx.Response(status, content=body), WHO)


def test_a_fault_message_in_gbk_is_read() -> None:
    with pytest.raises(SourceAuthError) as raised:
        raise_for_soap_status(
            httpx.Response(500, content=fault("soap:Client", "AUTH_FAILED: 错误")), WHO
        )
    assert "错误" in str(raised.value)


def test_a_body_that_is_not_xml_is_a_response_error() -> None:
    raise_for_soap_status(httpx.Response(200, content=b"<html"), WHO)  # the status is fine

    with pytest.raises(SourceResponseError):
        parse_response(httpx.Response(200, content=b"<html"), WHO)
