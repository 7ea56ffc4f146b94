"""警情反馈 to the 110 platform: SOAP ``FeedbackAlarm`` with the write's reference in ``BZ``
(备注). No idempotency: after an unknown outcome ``QueryFeedback(JJDBH)`` lists the alert's
feedbacks and the one whose ``BZ`` carries the reference settles it."""

from __future__ import annotations

import httpx
from lxml import etree

from connectors.auth import NoAuth
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import SourceRequestRejected, SourceResponseError
from connectors.http import SourceClient
from connectors.police import ENDPOINT, NAMESPACE
from connectors.soap import CONTENT_TYPE, build_envelope, parse_response, raise_for_soap_status
from connectors.writeback.base import Delivery, clients
from db.outbox import ClaimedWrite
from domain.enums import SourceSystem

POLICE = SourceSystem.POLICE_110
FIELDS = ("CLJG", "CLDW", "FKR", "FKSJ")


class PoliceFeedbackWriter:
    target = POLICE
    idempotent = False

    def __init__(self, send: SourceClient, read: SourceClient, username: str,
                 password: str) -> None:
        self.send_client, self.read_client = send, read
        self.header = ("auth", {"username": username, "password": password})

    async def _call(self, client: SourceClient, operation: str,
                    params: dict[str, str]) -> etree._Element:
        envelope = build_envelope(NAMESPACE, operation, params, header=self.header)
        response = await client.request(
            "POST", ENDPOINT, check=raise_for_soap_status, content=envelope,
            headers={"Content-Type": CONTENT_TYPE, "SOAPAction": f'"{NAMESPACE}/{operation}"'})
        answer = parse_response(response, POLICE).find(f".//{{{NAMESPACE}}}{operation}Response")
        if answer is None:
            raise SourceResponseError(POLICE, f"no {operation}Response")
        return answer

    async def send(self, write: ClaimedWrite) -> Delivery:
        alert_no = str(write.payload.get("JJDBH") or "")
        if not alert_no:
            raise SourceRequestRejected(POLICE, "FeedbackAlarm needs JJDBH")
        params = {"JJDBH": alert_no, **{name: str(write.payload[name]) for name in FIELDS
                                        if write.payload.get(name)}, "BZ": write.reference}
        answer = await self._call(self.send_client, "FeedbackAlarm", params)
        number = (answer.findtext(f"{{{NAMESPACE}}}FKBH") or "").strip()
        if answer.findtext(f"{{{NAMESPACE}}}result") != "0" or not number:
            raise SourceResponseError(POLICE, "FeedbackAlarm answered without result 0 and FKBH")
        return Delivery(number, {"FKBH": number})

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        alert_no = str(write.payload.get("JJDBH") or "")
        if not alert_no:
            return None  # never sent (``send`` refuses it): the platform refuses the query too
        answer = await self._call(self.read_client, "QueryFeedback", {"JJDBH": alert_no})
        for feedback in answer.iterfind(f"{{{NAMESPACE}}}feedbacks/{{{NAMESPACE}}}feedback"):
            if (feedback.findtext(f"{{{NAMESPACE}}}BZ") or "").strip() == write.reference:
                number = (feedback.findtext(f"{{{NAMESPACE}}}FKBH") or "").strip()
                return Delivery(number or None, {"FKBH": number})
        return None


def build(config: SourceConfig, http: httpx.AsyncClient,
          breaker: CircuitBreaker) -> PoliceFeedbackWriter:
    send, read = clients(POLICE, config, http, breaker, NoAuth(), idempotent=False)
    return PoliceFeedbackWriter(send, read, config.credential(POLICE, "username"),
                                config.credential(POLICE, "password"))
