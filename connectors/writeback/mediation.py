"""委派调解 to the mediation platform: a signed ``POST /openapi/v1/referrals`` carrying the
write's reference as ``externalRef``. The platform has no idempotency, so an unknown outcome
is settled by ``GET /openapi/v1/referrals?externalRef=`` before any resend."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.auth import HmacSigner
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import SourceRequestRejected, SourceResponseError
from connectors.http import SourceClient
from connectors.writeback.base import Delivery, clients, json_object
from db.outbox import ClaimedWrite
from domain.enums import SourceSystem

PATH = "/openapi/v1/referrals"
MEDIATION = SourceSystem.MEDIATION


def _data(body: dict[str, Any]) -> Any:
    if body.get("errcode") != 0:
        message = f"{PATH}: errcode {body.get('errcode')} {body.get('errmsg', '')}"
        raise SourceRequestRejected(MEDIATION, message)
    return body.get("data")


def _delivery(referral: Any) -> Delivery:
    if not isinstance(referral, dict) or not referral.get("referralNo"):
        raise SourceResponseError(MEDIATION, f"{PATH}: no referralNo in the answer")
    kept = ("referralNo", "status", "createdAt")
    return Delivery(str(referral["referralNo"]), {k: referral[k] for k in kept if k in referral})


class MediationReferralWriter:
    target = MEDIATION
    idempotent = False

    def __init__(self, send: SourceClient, read: SourceClient) -> None:
        self.send_client, self.read_client = send, read

    async def send(self, write: ClaimedWrite) -> Delivery:
        response = await self.send_client.request(
            "POST", PATH, json={**write.payload, "externalRef": write.reference})
        return _delivery(_data(json_object(response, MEDIATION, PATH)))

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        response = await self.read_client.request(
            "GET", PATH, params={"externalRef": write.reference})
        found = _data(json_object(response, MEDIATION, PATH))
        if not isinstance(found, list):
            raise SourceResponseError(MEDIATION, f"{PATH}: lookup answer is not a list")
        return _delivery(found[0]) if found else None


def build(config: SourceConfig, http: httpx.AsyncClient,
          breaker: CircuitBreaker) -> MediationReferralWriter:
    auth = HmacSigner(config.credential(MEDIATION, "app_key"),
                      config.credential(MEDIATION, "app_secret"))
    return MediationReferralWriter(*clients(MEDIATION, config, http, breaker, auth,
                                            idempotent=False))
