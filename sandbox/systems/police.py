"""110 接处警平台 (``POLICE_110``): SOAP 1.1, document/literal, responses in GBK.

- ``GET  /services/AlarmService?wsdl`` — the WSDL (namespace ``http://police.sandbox.govhub/alarm``).
- ``POST /services/AlarmService`` with ``SOAPAction: "http://police.sandbox.govhub/alarm/QueryAlarms"``
  — ``QueryAlarms(startTime, endTime, pageNo, pageSize)``: alarms whose update time ``GXSJ``
  lies in ``[startTime, endTime)``, ordered by (GXSJ, JJDBH); times are
  ``YYYY-MM-DD HH:MM:SS`` Beijing time; ``pageNo`` from 1; ``pageSize`` 1..500. The response
  is ``<?xml version="1.0" encoding="GBK"?>`` (``text/xml; charset=GBK``) carrying ``total``
  and ``alarms/alarm`` elements whose children are the pinyin-initial fields.
- Authentication: a SOAP header ``<tns:auth><tns:username/><tns:password/></tns:auth>``
  (declared in the WSDL: zeep ``_soapheaders={"auth": {...}}``) or a WS-Security
  ``UsernameToken`` with a PasswordText password (zeep ``wsse=UsernameToken(user, pw)``).
- Errors are SOAP Faults with HTTP 500: ``faultcode`` ``soap:Client`` for bad input (time
  format, ``pageSize`` > 500, a missing parameter) and failed authentication
  (``faultstring`` starting ``AUTH_FAILED``).
- Write side: ``FeedbackAlarm`` / ``QueryFeedback`` (警情反馈, declared in the WSDL too), see
  :mod:`sandbox.systems.police_feedback`.
- Schema drift adds a trailing ``JQBQ`` element, allowed by the ``xsd:any`` in ``Alarm``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.model import SourceRecord
from sandbox.systems.common import BEIJING, SystemContext
from sandbox.systems.delivery import GENERIC_KINDS, deliver
from sandbox.systems.police_feedback import FeedbackStore, feedback_alarm, gbk_xml, query_feedback
from sandbox.systems.police_wsdl import ALARM_FIELDS, NAMESPACE, OPERATIONS, WSDL_TEMPLATE

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SOAP_ACTIONS = {f"{NAMESPACE}/{operation}" for operation in OPERATIONS}
MAX_PAGE_SIZE = 500
MALFORMED_KINDS = (*GENERIC_KINDS, "broken_element")
MOJIBAKE = "锟斤拷锟斤拷"
DRIFT_FIELD = "JQBQ"
_KNOWN = [name for name, _ in ALARM_FIELDS]
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class SoapClientError(ValueError):
    """A request the service rejects with a ``soap:Client`` fault."""


def routes(ctx: SystemContext) -> list[Route]:
    """The AlarmService endpoints."""
    ctx.malformed_kinds = MALFORMED_KINDS
    feedbacks = FeedbackStore()

    async def wsdl(request: Request) -> Response:
        location = str(request.url.replace(query=""))
        return Response(WSDL_TEMPLATE.replace("{location}", location),
                        media_type="text/xml; charset=utf-8")

    async def call(request: Request) -> Response:
        try:
            action = request.headers.get("soapaction", "").strip('"')
            if action and action not in SOAP_ACTIONS:
                raise SoapClientError(f"unknown SOAPAction {action}")
            envelope = etree.fromstring(await request.body(), _PARSER)
            _authenticate(envelope, ctx.credentials)
            body = envelope.find(f"{{{SOAP_ENV}}}Body")
            if (write := _operation(body, "FeedbackAlarm")) is not None:
                return feedback_alarm(ctx, feedbacks, request, write, fault=SoapClientError)
            if (lookup := _operation(body, "QueryFeedback")) is not None:
                return query_feedback(feedbacks, lookup, fault=SoapClientError)
            query = _operation(body, "QueryAlarms")
            if query is None:
                raise SoapClientError("Body must contain QueryAlarms")
            return _query(ctx, query)
        except etree.XMLSyntaxError as exc:
            return _fault(f"malformed request XML: {exc}")
        except SoapClientError as exc:
            return _fault(str(exc))

    return [
        Route("/services/AlarmService", wsdl, methods=["GET"]),
        Route("/services/AlarmService", call, methods=["POST"]),
    ]


def _operation(body: etree._Element | None, name: str) -> etree._Element | None:
    return None if body is None else body.find(f"{{{NAMESPACE}}}{name}")


def _authenticate(envelope: etree._Element, credentials: dict[str, str]) -> None:
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    user = password = None
    if header is not None:
        auth = header.find(f"{{{NAMESPACE}}}auth")
        token = header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if auth is not None:
            user = auth.findtext(f"{{{NAMESPACE}}}username")
            password = auth.findtext(f"{{{NAMESPACE}}}password")
        elif token is not None:
            user = token.findtext(f"{{{WSSE}}}Username")
            password = token.findtext(f"{{{WSSE}}}Password")
    if user != credentials["username"] or password != credentials["password"]:
        raise SoapClientError("AUTH_FAILED: 用户名或密码错误")


def _param(query: etree._Element, name: str) -> str:
    value = query.findtext(f"{{{NAMESPACE}}}{name}")
    if value is None or not value.strip():
        raise SoapClientError(f"missing parameter {name}")
    return value.strip()


def _time_param(query: etree._Element, name: str) -> datetime:
    value = _param(query, name)
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise SoapClientError(f"{name} must be YYYY-MM-DD HH:MM:SS, got {value!r}") from exc


def _int_param(query: etree._Element, name: str, high: int) -> int:
    value = _param(query, name)
    if not value.isdigit() or not 1 <= int(value) <= high:
        raise SoapClientError(f"{name} must be an integer between 1 and {high}")
    return int(value)


def _query(ctx: SystemContext, query: etree._Element) -> Response:
    start, end = _time_param(query, "startTime"), _time_param(query, "endTime")
    if end < start:
        raise SoapClientError("endTime is before startTime")
    page_no = _int_param(query, "pageNo", 10**9)
    page_size = _int_param(query, "pageSize", MAX_PAGE_SIZE)
    window = ctx.store.live_window(start, end=end)
    page = window.page((page_no - 1) * page_size, page_no * page_size)
    alarms = deliver(ctx, page, _render, DRIFT_FIELD, MOJIBAKE)

    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "tns": NAMESPACE})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    response = etree.SubElement(body, f"{{{NAMESPACE}}}QueryAlarmsResponse")
    for name, value in (("total", len(window)), ("pageNo", page_no), ("pageSize", page_size)):
        etree.SubElement(response, f"{{{NAMESPACE}}}{name}").text = str(value)
    container = etree.SubElement(response, f"{{{NAMESPACE}}}alarms")
    for alarm in alarms:
        element = etree.SubElement(container, f"{{{NAMESPACE}}}alarm")
        names = [n for n in _KNOWN if n in alarm] + [n for n in alarm if n not in _KNOWN]
        for name in names:
            if alarm[name] is not None:
                etree.SubElement(element, f"{{{NAMESPACE}}}{name}").text = str(alarm[name])
    return gbk_xml(envelope, 200)


def _render(record: SourceRecord) -> dict[str, Any]:
    return dict(record.payload)


def _fault(message: str) -> Response:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"),
                             f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = "soap:Client"
    etree.SubElement(fault, "faultstring").text = message
    return gbk_xml(envelope, 500)

