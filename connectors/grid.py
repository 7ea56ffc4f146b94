"""网格化服务管理平台 (``GRID``) connector: grid events and the township/village/grid tree.

Protocol: REST JSON with a static bearer token (credentials ``token``).

* ``GET /api/v2/events?updatedSince=<epoch ms>&page=&size=`` — events with
  ``updateTime >= updatedSince`` ordered by (updateTime, eventNo), paged by number on the live
  set. Read keyset-by-time (:mod:`connectors.keyset`); the checkpoint is the epoch-ms update
  time to resume from (inclusive).
* ``GET /api/v2/grids?flat=true`` — the region tree below the seeded counties. Every
  ``fetch`` first yields it in ``Batch.extras["regions"]`` (rows for
  :func:`db.regions.upsert_regions`), which the sync engine stores in the batch's transaction.
  The counties it hangs under must already be in ``regions`` (``govhub migrate --seed-regions``).

Mapping: ``eventType`` → category and ``status`` → status (:mod:`connectors.mappings.grid`);
the reporter (上报人, the 网格员 or the citizen) is the first party, then ``parties``
(涉事人); ``occurTime`` → ``occurred_at``; ``regionCode`` (12-digit village) → ``region_code``
and ``gridCode`` → ``grid_code``; ``bizNo`` (a 交办's business number) → ``external_ref``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from connectors import values
from connectors.auth import BearerToken
from connectors.base import Batch, FetchedItem
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import RecordError, SourceResponseError
from connectors.http import SourceClient
from connectors.keyset import Page, keyset_pages
from connectors.mappings import grid as codes
from db.regions import REGION_CODE_MAX, REGION_NAME_MAX, upsert_regions
from db.storable import storable_text
from domain.enums import PartyRole, RegionLevel, SourceSystem
from domain.records import ParsedParty, ParsedRecord

RegionRow = tuple[str, str, RegionLevel, str | None, int | None]
MAX_PAGE_SIZE = 200


def _millis(item: Any) -> int | None:
    value = item.get("updateTime") if isinstance(item, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _key(item: Any) -> str | None:
    value = item.get("eventNo") if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None


def _iso(millis: int | None) -> str | None:
    return None if millis is None else datetime.fromtimestamp(millis / 1000, UTC).isoformat()


class GridConnector:
    """Grid events (网格事件) and the region tree of the grid platform."""

    source = SourceSystem.GRID

    def __init__(self, client: SourceClient, *, page_size: int = 100) -> None:
        self.client = client
        self.page_size = min(page_size, MAX_PAGE_SIZE)

    async def _json(self, path: str, params: dict[str, str | int]) -> dict[str, Any]:
        response = await self.client.request("GET", path, params=params)
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceResponseError(self.source, f"{path}: response is not JSON") from exc
        if not isinstance(body, dict) or body.get("code") != "OK":
            raise SourceResponseError(self.source, f"{path}: unexpected response")
        return body

    async def region_rows(self) -> list[RegionRow]:
        """The township → village → grid tree as ``upsert_regions`` rows."""
        body = await self._json("/api/v2/grids", {"flat": "true"})
        rows: list[RegionRow] = []
        for node in body.get("data") or []:
            level = codes.REGION_LEVELS.get(str(node.get("level")))
            if level is None or not node.get("code") or not node.get("name"):
                raise SourceResponseError(self.source, "/api/v2/grids: a node is incomplete")
            code, parent = str(node["code"]), node.get("parentCode") or None
            if len(code) > REGION_CODE_MAX or len(str(parent or "")) > REGION_CODE_MAX:
                raise SourceResponseError(
                    self.source,
                    f"/api/v2/grids: a node's code is longer than {REGION_CODE_MAX} characters",
                )
            population = node.get("population")
            rows.append(
                (
                    code,
                    storable_text(str(node["name"]), REGION_NAME_MAX),  # a name is cut to fit
                    level,
                    parent,
                    population if isinstance(population, int) else None,
                )
            )
        return rows

    async def sync_regions(self, session: AsyncSession) -> tuple[int, int]:
        """Upsert the region tree in ``session`` (the caller commits): (inserted, updated)."""
        return await upsert_regions(session, await self.region_rows())

    async def _page(self, since: int | None, page: int) -> Page:
        params: dict[str, str | int] = {"page": page, "size": self.page_size}
        if since is not None:
            params["updatedSince"] = since
        body = await self._json("/api/v2/events", params)
        data, total = body.get("data"), body.get("total")
        if not isinstance(data, list) or not isinstance(total, int):
            raise SourceResponseError(self.source, "/api/v2/events: no data or total")
        return Page(data, total)

    async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        """The region tree first, then events from ``checkpoint`` (epoch ms, inclusive)."""
        yield Batch(items=[], checkpoint=None, extras={"regions": await self.region_rows()})
        since = None if full or not checkpoint else int(checkpoint)
        async for step in keyset_pages(
            self._page, since=since, size=self.page_size, key_of=_key, millis_of=_millis
        ):
            items = [FetchedItem(_key(item), values.scrub_text(item)) for item in step.items]
            checkpoint = None if step.since is None else str(step.since)
            yield Batch(items=items, checkpoint=checkpoint, watermark=_iso(step.since))

    def updated_at_of(self, raw: Any) -> datetime | None:
        """The update time of a payload, even one that does not parse (dead letters)."""
        with contextlib.suppress(RecordError, AttributeError, TypeError):
            return values.epoch_millis(raw.get("updateTime"), "updateTime", None)
        return None

    def parse(self, raw: Any) -> ParsedRecord:
        """Map one event; raises ``RecordError`` (see :mod:`connectors.values`)."""
        if not isinstance(raw, dict):
            raise RecordError("MALFORMED", "event is not an object")
        key = values.required(raw, "eventNo", None)
        values.check_text(raw, key)
        updated = values.epoch_millis(raw.get("updateTime"), "updateTime", key)
        title = values.required(raw, "title", key)
        event_type = values.required(raw, "eventType", key)
        status_code = values.required(raw, "status", key)
        status, status_label = values.coded(codes.STATUS_BY_CODE, status_code, "status", key)
        occurred = values.instant(values.required(raw, "occurTime", key), "occurTime", key)
        reporter = values.text(raw, "reporterName", key)
        parties: list[ParsedParty] = []
        if reporter is not None:
            parties.append(
                ParsedParty(
                    role=PartyRole.REPORTER,
                    name=reporter,
                    source_role=codes.REPORTER_ROLE_LABEL,
                    phone=values.phone_number(
                        values.text(raw, "reporterPhone", key), "reporterPhone", key
                    ),
                )
            )
        for position, entry in enumerate(values.entries(raw, "parties", key)):
            role = entry.get("role") if isinstance(entry, dict) else None
            parties.append(
                values.party(
                    entry,
                    role=PartyRole.INVOLVED,
                    fields=("name", "idCard", "phone"),
                    key=key,
                    position=position,
                    source_role=role or codes.PARTY_ROLE_LABEL,
                )
            )
        return ParsedRecord(
            source=self.source,
            source_key=key,
            source_updated_at=updated,
            raw=raw,
            category=values.coded(codes.CATEGORY_BY_EVENT_TYPE, event_type, "eventType", key),
            title=title,
            summary=values.text(raw, "content", key),
            occurred_at=occurred,
            region_code=values.division(values.text(raw, "regionCode", key), "regionCode", key),
            address=values.text(raw, "address", key),
            status=status,
            source_status=status_label,
            source_category=event_type,
            external_ref=values.text(raw, "bizNo", key),
            fields={
                "grid_code": values.text(raw, "gridCode", key),
                "reporter": reporter,
                "event_type": event_type,
                "longitude": values.coordinate(raw.get("lng")),
                "latitude": values.coordinate(raw.get("lat")),
            },
            parties=parties,
        )


def build(config: SourceConfig, http: httpx.AsyncClient, breaker: CircuitBreaker) -> GridConnector:
    """The registry's factory: bearer token from ``credentials.token``."""
    client = SourceClient(
        SourceSystem.GRID,
        http,
        auth=BearerToken(config.credential(SourceSystem.GRID, "token")),
        retry=config.retry.to_settings(),
        breaker=breaker,
    )
    return GridConnector(client, page_size=config.page_size)
