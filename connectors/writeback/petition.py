"""信访 办理结果 to the petition system: a one-row GBK CSV to ``POST /results/upload``. The
system replaces the row held for the 信访件编号, so a resend after a lost answer is harmless."""

from __future__ import annotations

import csv
import io

import httpx

from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import SourceRequestRejected, SourcesFileError
from connectors.http import SourceClient
from connectors.petition import PetitionAuth
from connectors.writeback.base import Delivery, clients, json_object
from db.outbox import ClaimedWrite
from domain.enums import SourceSystem

PATH = "/results/upload"
PETITION = SourceSystem.PETITION
COLUMNS = ("信访件编号", "办理结果", "办理单位", "办结日期", "答复意见")


def result_csv(row: dict[str, object]) -> bytes:
    """The upload file: the header and one CRLF row, in GBK (unencodable characters → '?')."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(["" if row.get(c) is None else str(row[c]) for c in COLUMNS])
    return buffer.getvalue().encode("gbk", errors="replace")


class PetitionResultWriter:
    target = PETITION
    idempotent = True

    def __init__(self, client: SourceClient) -> None:
        self.client = client

    async def send(self, write: ClaimedWrite) -> Delivery:
        response = await self.client.request(
            "POST", PATH, content=result_csv(write.payload),
            headers={"Content-Type": "text/csv; charset=GBK"})
        body = json_object(response, PETITION, PATH)
        rejected = body.get("rejected") or []
        if body.get("accepted") != 1:
            reason = rejected[0].get("reason") if rejected and isinstance(rejected[0], dict) else ""
            raise SourceRequestRejected(PETITION, f"{PATH}: row rejected: {reason}")
        number = str(write.payload.get("信访件编号") or "")
        return Delivery(number or None, {"accepted": 1})

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        return None  # replace semantics make a resend the read-back


def build(config: SourceConfig, http: httpx.AsyncClient,
          breaker: CircuitBreaker) -> PetitionResultWriter:
    creds = config.credentials
    if not creds.get("api_key") and not (creds.get("username") and creds.get("password")):
        raise SourcesFileError(
            "sources.PETITION.credentials needs api_key, or username and password")
    auth = PetitionAuth(username=creds.get("username", ""), password=creds.get("password", ""),
                        api_key=creds.get("api_key", ""))
    send, _ = clients(PETITION, config, http, breaker, auth, idempotent=True)
    return PetitionResultWriter(send)
