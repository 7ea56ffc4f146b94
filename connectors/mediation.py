"""人民调解信息管理平台 (``MEDIATION``) connector: people's mediation cases (矛盾纠纷).

Protocol: REST JSON, every request HMAC-signed (credentials ``app_key``, ``app_secret``; see
:class:`connectors.auth.HmacSigner`).

* ``GET /openapi/v1/cases?cursor=&limit=`` → ``{"data", "nextCursor", "hasMore"}``, ordered
  by (updatedAt, caseNo). The server pages by keyset itself, so changes while paging shift
  nothing. The checkpoint after each page is the opaque ``nextCursor`` (returned even on the
  last page, so it doubles as the incremental watermark).
* Deleted cases arrive as tombstones ``{"caseNo", "deleted": true, "updatedAt"}`` and become
  ``ParsedRecord(deleted=True)``.

Mapping (:mod:`connectors.mappings.mediation`): ``disputeType`` → category (1:1), ``status``
→ status, 申请人/被申请人 → APPLICANT/RESPONDENT (``partyType`` 法人 → organisation with a
USCC), ``agreement`` and ``judicialConfirmation`` → the Dispute columns, ``alertNo`` →
``alert_number`` (the 110 接警单编号 it came from), ``amountInvolved`` → ``Decimal``.
``occurDate``/``acceptDate`` are ``YYYY/MM/DD`` Beijing dates, ``updatedAt`` is UTC;
``externalRef`` (a 委派调解's reference) → ``external_ref``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from connectors import values
from connectors.auth import HmacSigner
from connectors.base import Batch, FetchedItem
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import RecordError, SourceResponseError
from connectors.http import SourceClient
from connectors.mappings import mediation as codes
from domain.enums import SourceSystem
from domain.records import ParsedRecord

MAX_LIMIT = 100
PATH = "/openapi/v1/cases"


def _key(item: Any) -> str | None:
    value = item.get("caseNo") if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None


class MediationConnector:
    """Mediation cases and their tombstones."""

    source = SourceSystem.MEDIATION

    def __init__(self, client: SourceClient, *, page_size: int = 100) -> None:
        self.client = client
        self.page_size = min(page_size, MAX_LIMIT)

    async def _page(self, cursor: str | None) -> dict[str, Any]:
        params = {"limit": str(self.page_size)}
        if cursor:
            params["cursor"] = cursor
        response = await self.client.request("GET", PATH, params=params)
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceResponseError(self.source, f"{PATH}: response is not JSON") from exc
        if not isinstance(body, dict) or body.get("errcode") != 0:
            raise SourceResponseError(self.source, f"{PATH}: unexpected response")
        if not isinstance(body.get("data"), list):
            raise SourceResponseError(self.source, f"{PATH}: no data")
        return body

    async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        """Cases after the opaque cursor ``checkpoint`` (from the start when ``full``)."""
        cursor = None if full else checkpoint
        while True:
            body = await self._page(cursor)
            data: list[Any] = body["data"]
            cursor = body.get("nextCursor") or cursor
            items = [FetchedItem(_key(item), values.scrub_text(item)) for item in data]
            newest = next(
                (
                    str(i["updatedAt"])
                    for i in reversed(data)
                    if isinstance(i, dict) and i.get("updatedAt")
                ),
                None,
            )
            yield Batch(items=items, checkpoint=cursor, watermark=newest)
            if not body.get("hasMore") or not data:
                return

    def updated_at_of(self, raw: Any) -> datetime | None:
        """The update time of a payload, even one that does not parse (dead letters)."""
        with contextlib.suppress(RecordError, AttributeError, TypeError):
            return values.instant(raw.get("updatedAt"), "updatedAt", None)
        return None

    def parse(self, raw: Any) -> ParsedRecord:
        """Map one case or tombstone; raises ``RecordError`` (see :mod:`connectors.values`)."""
        if not isinstance(raw, dict):
            raise RecordError("MALFORMED", "case is not an object")
        key = values.required(raw, "caseNo", None)
        values.check_text(raw, key)
        updated = values.instant(values.required(raw, "updatedAt", key), "updatedAt", key)
        assert updated is not None
        if raw.get("deleted") is True:
            return ParsedRecord(
                source=self.source, source_key=key, source_updated_at=updated, raw=raw, deleted=True
            )
        title = values.required(raw, "caseName", key)
        dispute_type = values.required(raw, "disputeType", key)
        status_label = values.required(raw, "status", key)
        occurred = values.day(
            values.required(raw, "occurDate", key), "occurDate", key, codes.DATE_FORMAT
        )
        accepted = values.day(
            values.text(raw, "acceptDate", key), "acceptDate", key, codes.DATE_FORMAT
        )
        parties = values.role_labelled_parties(
            raw,
            key,
            roles=codes.ROLE_BY_LABEL,
            fields=("name", "idNo", "mobile"),
            organisation_type=codes.ORGANISATION_PARTY_TYPE,
        )
        org_code = values.text(raw, "orgCode", key)
        return ParsedRecord(
            source=self.source,
            source_key=key,
            source_updated_at=updated,
            raw=raw,
            category=values.coded(codes.CATEGORY_BY_DISPUTE_TYPE, dispute_type, "disputeType", key),
            title=title,
            summary=values.text(raw, "description", key),
            occurred_at=values.start_of_day(occurred),
            reported_at=values.start_of_day(accepted),
            region_code=values.division(values.text(raw, "regionCode", key), "regionCode", key),
            address=values.text(raw, "address", key),
            status=values.coded(codes.STATUS_BY_LABEL, status_label, "status", key),
            source_status=status_label,
            source_category=dispute_type,
            external_ref=values.text(raw, "externalRef", key),
            fields={
                "mediation_org": values.text(raw, "orgName", key),
                "mediation_org_code": org_code,
                "mediator": values.text(raw, "mediatorName", key),
                **self._agreement(raw.get("agreement"), key),
                **self._confirmation(raw.get("judicialConfirmation"), key),
                "amount_involved": values.money(raw.get("amountInvolved"), "amountInvolved", key),
                "party_count": len(parties),
                "alert_number": values.text(raw, "alertNo", key),
                "accepted_on": accepted,
            },
            parties=parties,
        )

    @staticmethod
    def _agreement(agreement: Any, key: str) -> dict[str, Any]:
        """调解协议: its number and signing date (both ``None`` without an agreement)."""
        if not isinstance(agreement, dict):
            return {"agreement_number": None, "agreement_signed_on": None}
        return {
            "agreement_number": values.text(agreement, "agreementNo", key),
            "agreement_signed_on": values.day(
                values.text(agreement, "signedDate", key),
                "agreement.signedDate",
                key,
                codes.DATE_FORMAT,
            ),
        }

    @staticmethod
    def _confirmation(confirmation: Any, key: str) -> dict[str, Any]:
        """司法确认: state (已申请/已确认), dates and the court's normalised 案号."""
        if not isinstance(confirmation, dict):
            confirmation = {}

        def on(name: str) -> Any:
            return values.day(
                values.text(confirmation, name, key),
                f"judicialConfirmation.{name}",
                key,
                codes.DATE_FORMAT,
            )

        return {
            "judicial_confirmation_status": values.text(confirmation, "state", key),
            "judicial_confirmation_applied_on": on("applyDate"),
            "judicial_confirmation_confirmed_on": on("confirmDate"),
            "judicial_confirmation_case_number": values.case_number(
                values.text(confirmation, "courtCaseNo", key),
                "judicialConfirmation.courtCaseNo",
                key,
            ),
        }


def build(
    config: SourceConfig, http: httpx.AsyncClient, breaker: CircuitBreaker
) -> MediationConnector:
    """The registry's factory: HMAC signing with ``credentials.app_key`` / ``app_secret``."""
    auth = HmacSigner(
        config.credential(SourceSystem.MEDIATION, "app_key"),
        config.credential(SourceSystem.MEDIATION, "app_secret"),
    )
    client = SourceClient(
        SourceSystem.MEDIATION, http, auth=auth, retry=config.retry.to_settings(), breaker=breaker
    )
    return MediationConnector(client, page_size=config.page_size)
