"""SOAP 1.1 over the shared HTTP client (document/literal), without a WSDL toolkit at runtime.

The 110 platform speaks SOAP 1.1 and answers in GBK. Envelopes are built with lxml; responses
are parsed from bytes, so lxml honours the encoding the XML declaration names. Errors arrive
as SOAP Faults with HTTP 500, which is why a 500 is classified by its body:

* ``soap:Client`` fault → :class:`SourceRequestRejected`
  (``AUTH_FAILED…`` → :class:`SourceAuthError`)
* ``soap:Server`` fault → :class:`SourceServerError` (retried)
* a 5xx without a fault (a proxy's 502/503, a crash) → :class:`SourceServerError` (retried)
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from lxml import etree

from connectors.errors import (
    SourceAuthError,
    SourceRequestRejected,
    SourceResponseError,
    SourceServerError,
)
from connectors.http import raise_for_source_status
from domain.enums import SourceSystem

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CONTENT_TYPE = "text/xml; charset=utf-8"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_FAULT_TEXT_LIMIT = 200


def build_envelope(
    namespace: str,
    operation: str,
    params: Mapping[str, str],
    header: tuple[str, Mapping[str, str]] | None = None,
) -> bytes:
    """A UTF-8 SOAP 1.1 envelope: ``<ns:operation>`` with one child per parameter.

    ``header`` is ``(element, {child: text})`` in the same namespace, e.g. the 110 platform's
    ``("auth", {"username": …, "password": …})``.
    """
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "tns": namespace})
    if header is not None:
        name, children = header
        element = etree.SubElement(
            etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header"), f"{{{namespace}}}{name}"
        )
        for child, text in children.items():
            etree.SubElement(element, f"{{{namespace}}}{child}").text = text
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    call = etree.SubElement(body, f"{{{namespace}}}{operation}")
    for name, value in params.items():
        etree.SubElement(call, f"{{{namespace}}}{name}").text = value
    document = etree.tostring(envelope, encoding="utf-8", xml_declaration=True)
    assert isinstance(document, bytes)  # an explicit encoding always gives bytes
    return document


def parse_document(content: bytes) -> etree._Element:
    """Parse a response body (any declared encoding); raise ``ValueError`` if it is not XML."""
    try:
        return etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not well-formed XML: {exc.msg}") from exc


def find_fault(root: etree._Element) -> tuple[str, str] | None:
    """``(faultcode, faultstring)`` of a SOAP 1.1 Fault in the body, or None."""
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    if fault is None:
        return None
    code = (fault.findtext("faultcode") or "").strip()
    text = (fault.findtext("faultstring") or "").strip()
    return code, text[:_FAULT_TEXT_LIMIT]


def raise_for_soap_status(response: httpx.Response, who: SourceSystem) -> None:
    """A ``SourceClient`` status check: classify SOAP Faults by their code, others by status."""
    fault = None
    if response.status_code >= 400 or b"Fault" in response.content:
        try:
            fault = find_fault(parse_document(response.content))
        except ValueError:
            fault = None
    if fault is None:
        raise_for_source_status(response, who)
        return
    code, text = fault
    local = code.rpartition(":")[2]
    if local == "Server":
        raise SourceServerError(who, f"SOAP Server fault: {text}")
    if text.startswith("AUTH_FAILED"):
        raise SourceAuthError(who, f"SOAP authentication failed: {text}")
    raise SourceRequestRejected(who, f"SOAP {local or 'unknown'} fault: {text}")


def parse_response(response: httpx.Response, who: SourceSystem) -> etree._Element:
    """The response document; a body that is not XML is a :class:`SourceResponseError`."""
    try:
        return parse_document(response.content)
    except ValueError as exc:
        raise SourceResponseError(who, f"SOAP response unreadable: {exc}") from exc
