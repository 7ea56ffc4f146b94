"""110 警情反馈 (the 非警务 handling result written back to the 110 platform), SOAP in GBK.

- ``FeedbackAlarm(JJDBH, CLJG, CLDW?, FKR?, FKSJ?, BZ?)`` (``SOAPAction``
  ``".../FeedbackAlarm"``) — appends a feedback to alert ``JJDBH``: ``CLJG`` 处理结果 (required),
  ``CLDW`` 处理单位, ``FKR`` 反馈人, ``FKSJ`` 反馈时间, ``BZ`` 备注 (free text; a caller stamps its
  own reference here). Answer ``FeedbackAlarmResponse`` with ``result`` 0 and ``FKBH`` (the
  platform's feedback number). An unknown ``JJDBH`` or a missing ``CLJG`` → ``soap:Client``
  fault. **No idempotency**: a repeat is a second feedback.
- ``QueryFeedback(JJDBH)`` — every feedback of that alert (``feedbacks/feedback`` with
  ``FKBH, CLJG, CLDW, FKR, FKSJ, BZ``): duplicates are visible here.

Each applied feedback is in the write ledger under ``BZ`` (or the ``FKBH`` without one).
"""

from __future__ import annotations

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response

from sandbox.systems.common import BEIJING, SystemContext
from sandbox.systems.police_wsdl import FEEDBACK_ENTRY_FIELDS, FEEDBACK_PARAMETERS, NAMESPACE
from sandbox.writes import AppliedWrite, after_apply, fail_before

FEEDBACK_FIELDS = tuple(name for name, _ in FEEDBACK_ENTRY_FIELDS)
_INPUT_FIELDS = tuple(name for name, _, _ in FEEDBACK_PARAMETERS if name != "JJDBH")
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

class FeedbackStore:
    """The feedbacks the platform holds, per alert number, in arrival order."""

    def __init__(self) -> None:
        self.by_alert: dict[str, list[dict[str, str]]] = {}
        self.count = 0


def feedback_alarm(ctx: SystemContext, store: FeedbackStore, request: Request,
                   call: etree._Element, *, fault: type[ValueError]) -> Response:
    """Apply one ``FeedbackAlarm`` (or fail it before applying, by fault injection)."""
    alert_no = (call.findtext(f"{{{NAMESPACE}}}JJDBH") or "").strip()
    values = {name: (call.findtext(f"{{{NAMESPACE}}}{name}") or "").strip()
              for name in _INPUT_FIELDS}
    record = ctx.store.latest.get(alert_no)
    if record is None or record.deleted:
        ctx.writes.reject()
        raise fault(f"JJDBH 不存在: {alert_no}")
    if not values["CLJG"]:
        ctx.writes.reject()
        raise fault("missing parameter CLJG")
    if (failed := fail_before(ctx.faults, server_fault("系统繁忙"))) is not None:
        return failed
    store.count += 1
    now = ctx.clock.now()
    entry = {"FKBH": f"FK{now.astimezone(BEIJING):%Y%m%d}{store.count:06d}", **values}
    if not entry["FKSJ"]:
        entry["FKSJ"] = now.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    store.by_alert.setdefault(alert_no, []).append(entry)
    ctx.writes.record(AppliedWrite(entry["BZ"] or entry["FKBH"], "feedback", entry["FKBH"], now))
    root, response = _envelope("FeedbackAlarmResponse")
    etree.SubElement(response, f"{{{NAMESPACE}}}result").text = "0"
    etree.SubElement(response, f"{{{NAMESPACE}}}FKBH").text = entry["FKBH"]
    return after_apply(ctx.faults, request, gbk_xml(root, 200))


def query_feedback(store: FeedbackStore, call: etree._Element, *,
                   fault: type[ValueError]) -> Response:
    alert_no = (call.findtext(f"{{{NAMESPACE}}}JJDBH") or "").strip()
    if not alert_no:
        raise fault("missing parameter JJDBH")
    root, response = _envelope("QueryFeedbackResponse")
    container = etree.SubElement(response, f"{{{NAMESPACE}}}feedbacks")
    for entry in store.by_alert.get(alert_no, []):
        element = etree.SubElement(container, f"{{{NAMESPACE}}}feedback")
        for name in FEEDBACK_FIELDS:
            etree.SubElement(element, f"{{{NAMESPACE}}}{name}").text = entry.get(name, "")
    return gbk_xml(root, 200)


def server_fault(message: str) -> Response:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = "soap:Server"
    etree.SubElement(fault, "faultstring").text = message
    return gbk_xml(root, 500)


def _envelope(operation: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "tns": NAMESPACE})
    body = etree.SubElement(root, f"{{{SOAP_ENV}}}Body")
    return root, etree.SubElement(body, f"{{{NAMESPACE}}}{operation}")


def gbk_xml(root: etree._Element, status: int) -> Response:
    body = etree.tostring(root, encoding="GBK", xml_declaration=False)
    assert isinstance(body, bytes)  # an explicit encoding always gives bytes
    data = b'<?xml version="1.0" encoding="GBK"?>\n' + body
    return Response(data, status, media_type="text/xml; charset=GBK")
