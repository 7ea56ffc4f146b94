"""网上立案 to the court: ``POST /api/v1/filings`` with the write's reference as
``Idempotency-Key`` — a resend after a lost answer returns the filing already created."""

from __future__ import annotations

import httpx

from connectors.auth import OAuthClientCredentials
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import SourceRateLimited
from connectors.http import SourceClient, raise_for_source_status, retry_after_seconds
from connectors.writeback.base import Delivery, clients, json_object
from db.outbox import ClaimedWrite
from domain.enums import SourceSystem

FILINGS_PATH = "/api/v1/filings"
COURT = SourceSystem.COURT


def _filing_status(response: httpx.Response, who: SourceSystem) -> None:
    """A 409 (the same key still in flight) is temporary: wait as asked and send again."""
    if response.status_code == 409:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        raise SourceRateLimited(who, "filing with this key in flight (409)", retry_after)
    raise_for_source_status(response, who)


class CourtFilingWriter:
    target = COURT
    idempotent = True

    def __init__(self, client: SourceClient) -> None:
        self.client = client

    async def send(self, write: ClaimedWrite) -> Delivery:
        response = await self.client.request(
            "POST", FILINGS_PATH, json=write.payload, check=_filing_status,
            headers={"Idempotency-Key": write.reference})
        receipt = json_object(response, COURT, FILINGS_PATH)
        return Delivery(str(receipt.get("filingId") or "") or None,
                        {k: receipt[k] for k in ("filingId", "status", "receivedAt")
                         if k in receipt})

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        return None  # the idempotency key makes a resend the read-back


def build(config: SourceConfig, http: httpx.AsyncClient,
          breaker: CircuitBreaker) -> CourtFilingWriter:
    auth = OAuthClientCredentials(
        COURT, f"{config.url}/oauth/token", config.credential(COURT, "client_id"),
        config.credential(COURT, "client_secret"))
    send, _ = clients(COURT, config, http, breaker, auth, idempotent=True)
    return CourtFilingWriter(send)
