"""法院案件系统 (``COURT``) connector: litigation and pre-suit mediation cases, and 网上立案.

Protocol: REST JSON with OAuth2 client-credentials tokens (credentials ``client_id``,
``client_secret``; ``POST /oauth/token``), refreshed before expiry and after a 401 by
:class:`connectors.auth.OAuthClientCredentials`. ``429`` + ``Retry-After`` is waited out by
the shared client.

* ``GET /api/v1/cases?modifiedAfter=<ISO>&offset=&limit=`` — cases modified strictly after
  ``modifiedAfter``, ordered by (modifiedAt, caseNo), offset-paged on the live set. Read
  keyset-by-time (:mod:`connectors.keyset`): ``modifiedAfter`` is the newest ``modifiedAt``
  read minus 1 ms, which makes it inclusive. The checkpoint is that time in epoch ms.
* ``POST /api/v1/filings`` with an ``Idempotency-Key`` header — :meth:`CourtConnector.file_online`.

Mapping (:mod:`connectors.mappings.court`): the 案号 ``caseNo`` is validated and stored
normalised in ``case_number`` (the source key stays as sent); ``status`` and ``outcome`` →
status, ``cause`` (案由) → category, 原告/被告/申请人/被申请人 → PLAINTIFF/DEFENDANT/APPLICANT/
RESPONDENT, ``mediationCaseNo`` → ``mediation_case_number``; ``filingDate`` → ``filed_on``;
``externalRef`` (the 网上立案's ``Idempotency-Key``) → ``external_ref``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors import values
from connectors.auth import OAuthClientCredentials
from connectors.base import Batch, FetchedItem
from connectors.beijing import BEIJING
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import RecordError, SourceResponseError
from connectors.http import SourceClient
from connectors.keyset import Page, keyset_pages
from connectors.mappings import court as codes
from domain.enums import SourceSystem
from domain.records import ParsedRecord

MAX_LIMIT = 200
CASES_PATH = "/api/v1/cases"
FILINGS_PATH = "/api/v1/filings"
OAUTH_PATH = "/oauth/token"
_ONE_MS = timedelta(milliseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _key(item: Any) -> str | None:
    value = item.get("caseNo") if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None


def _millis(item: Any) -> int | None:
    value = item.get("modifiedAt") if isinstance(item, dict) else None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return (moment - _EPOCH) // _ONE_MS


def _moment(millis: int) -> datetime:
    return _EPOCH + millis * _ONE_MS


class CourtConnector:
    """Court cases (诉讼/诉前调解/司法确认) and online filing (网上立案)."""

    source = SourceSystem.COURT

    def __init__(self, client: SourceClient, *, page_size: int = 100) -> None:
        self.client = client
        self.page_size = min(page_size, MAX_LIMIT)

    async def _page(self, since: int | None, page: int) -> Page:
        params: dict[str, str | int] = {
            "offset": (page - 1) * self.page_size,
            "limit": self.page_size,
        }
        if since is not None:
            params["modifiedAfter"] = (_moment(since) - _ONE_MS).isoformat(timespec="milliseconds")
        response = await self.client.request("GET", CASES_PATH, params=params)
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceResponseError(self.source, f"{CASES_PATH}: response is not JSON") from exc
        items = body.get("items") if isinstance(body, dict) else None
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(items, list) or not isinstance(total, int):
            raise SourceResponseError(self.source, f"{CASES_PATH}: no items or total")
        return Page(items, total)

    async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        """Cases from ``checkpoint`` (epoch ms of a ``modifiedAt``, inclusive)."""
        since = None if full or not checkpoint else int(checkpoint)
        async for step in keyset_pages(
            self._page, since=since, size=self.page_size, key_of=_key, millis_of=_millis
        ):
            items = [FetchedItem(_key(item), values.scrub_text(item)) for item in step.items]
            yield Batch(
                items=items,
                checkpoint=None if step.since is None else str(step.since),
                watermark=None if step.since is None else _moment(step.since).isoformat(),
            )

    async def file_online(self, filing: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """网上立案: submit ``filing``; returns the court's receipt (``filingId``, ``status``).

        ``idempotency_key`` must be stable per filing (e.g. the outbox row's key): the
        client's retries after a timeout re-send it, and the court answers a repeat with the
        filing it already created instead of a second one. The same key with a different
        body is rejected (``SourceRequestRejected``, HTTP 422).
        """
        response = await self.client.request(
            "POST", FILINGS_PATH, json=filing, headers={"Idempotency-Key": idempotency_key}
        )
        try:
            receipt = response.json()
        except ValueError as exc:
            raise SourceResponseError(self.source, f"{FILINGS_PATH}: receipt is not JSON") from exc
        if not isinstance(receipt, dict) or "filingId" not in receipt:
            raise SourceResponseError(self.source, f"{FILINGS_PATH}: no filingId in receipt")
        return receipt

    def updated_at_of(self, raw: Any) -> datetime | None:
        """The update time of a payload, even one that does not parse (dead letters)."""
        with contextlib.suppress(RecordError, AttributeError, TypeError):
            return values.instant(raw.get("modifiedAt"), "modifiedAt", None)
        return None

    def parse(self, raw: Any) -> ParsedRecord:
        """Map one case; raises ``RecordError`` (see :mod:`connectors.values`)."""
        if not isinstance(raw, dict):
            raise RecordError("MALFORMED", "case is not an object")
        key = values.required(raw, "caseNo", None)
        values.check_text(raw, key)
        modified = values.instant(values.required(raw, "modifiedAt", key), "modifiedAt", key)
        assert modified is not None
        number = values.case_number(key, "caseNo", key)
        cause = values.required(raw, "cause", key)
        case_type = values.required(raw, "caseType", key)
        values.coded(codes.CASE_TYPES, case_type, "caseType", key)
        status_label = values.required(raw, "status", key)
        status = values.coded(codes.STATUS_BY_LABEL, status_label, "status", key)
        outcome = values.text(raw, "outcome", key)
        if outcome is not None:
            status = codes.STATUS_BY_OUTCOME.get(outcome.split("（")[0].strip(), status)
        filed = values.day(values.required(raw, "filingDate", key), "filingDate", key)
        parties = values.role_labelled_parties(
            raw,
            key,
            roles=codes.ROLE_BY_LABEL,
            fields=("name", "idNumber", "phone"),
            organisation_type=codes.ORGANISATION_PARTY_TYPE,
        )
        return ParsedRecord(
            source=self.source,
            source_key=key,
            source_updated_at=modified,
            raw=raw,
            category=codes.category_of_cause(cause),
            title=f"{number} {cause}",
            occurred_at=values.start_of_day(filed),
            reported_at=values.start_of_day(filed),
            region_code=values.division(values.text(raw, "regionCode", key), "regionCode", key),
            status=status,
            source_status=status_label if outcome is None else f"{status_label}/{outcome}",
            source_category=cause,
            external_ref=values.text(raw, "externalRef", key),
            fields={
                "case_number": number,
                "cause": cause,
                "court": values.text(raw, "court", key),
                "court_code": values.text(raw, "courtCode", key),
                "case_type": case_type,
                "filed_on": filed,
                "judge": values.text(raw, "judge", key),
                "outcome": outcome,
                "mediation_case_number": values.text(raw, "mediationCaseNo", key),
            },
            parties=parties,
        )


def build(config: SourceConfig, http: httpx.AsyncClient, breaker: CircuitBreaker) -> CourtConnector:
    """The registry's factory: OAuth2 client credentials from ``credentials``."""
    auth = OAuthClientCredentials(
        SourceSystem.COURT,
        f"{config.url}{OAUTH_PATH}",
        config.credential(SourceSystem.COURT, "client_id"),
        config.credential(SourceSystem.COURT, "client_secret"),
    )
    client = SourceClient(
        SourceSystem.COURT, http, auth=auth, retry=config.retry.to_settings(), breaker=breaker
    )
    return CourtConnector(client, page_size=config.page_size)
