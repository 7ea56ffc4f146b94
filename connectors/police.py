"""110 接处警平台 (``POLICE_110``) connector: SOAP 1.1 ``QueryAlarms``, GBK XML, time windows.

Fetching. ``QueryAlarms(startTime, endTime, pageNo, pageSize)`` returns the alarms whose update
time ``GXSJ`` lies in ``[startTime, endTime)``, ordered by (GXSJ, JJDBH). Paging is *keyset by
time*: after each page the window restarts at the page's newest GXSJ (inclusive) with
``pageNo=1``, so a record updated while we page (it jumps to the end of the window) can never
shift an unread record onto a page already read. Only when a whole page shares one GXSJ does
``pageNo`` advance within that second. The run ends when the window holds no more pages
(``total``). ``endTime`` is the local clock plus a margin (a day by default) so a source
clock running ahead is still covered.

Checkpoint. The newest GXSJ of the pages stored so far, as ISO 8601 Beijing time. The next run
starts ``overlap`` (5 minutes) before it: the records at the boundary second, and any written
late with an earlier GXSJ, are read again, and the idempotent upsert absorbs the repeats. With
no checkpoint (or ``full``) the window starts at 2000-01-01.

Mapping. One alarm → one :class:`~domain.records.ParsedRecord` of kind ``POLICE_ALERT``; each
``<alarm>`` element is read separately, so a bad one is dead-lettered alone (a missing or
misspelt element → ``MISSING_FIELD``; mojibake ``锟斤拷`` → ``BAD_ENCODING``; an invalid ID
number or phone of the caller (报警人) → ``INVALID_ID_NUMBER`` / ``INVALID_PHONE``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from lxml import etree

from connectors.auth import NoAuth
from connectors.base import Batch, FetchedItem
from connectors.beijing import BEIJING, beijing_to_utc
from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.errors import RecordError, SourceResponseError, SourcesFileError
from connectors.http import SourceClient
from connectors.mappings import by_longest_prefix
from connectors.mappings.police import CATEGORY_BY_CODE_PREFIX, CATEGORY_NAMES, STATUS_BY_CJZT
from connectors.soap import CONTENT_TYPE, build_envelope, parse_response, raise_for_soap_status
from domain.enums import LABELS, CaseStatus, DisputeCategory, PartyRole, SourceSystem
from domain.records import ParsedParty, ParsedRecord
from domain.validators import (
    InvalidIdentifier,
    normalize_phone,
    validate_division_code,
    validate_resident_id,
)

NAMESPACE = "http://police.sandbox.govhub/alarm"
ENDPOINT = "/services/AlarmService"
SOAP_ACTION = f'"{NAMESPACE}/QueryAlarms"'
MAX_PAGE_SIZE = 500
EARLIEST = datetime(2000, 1, 1, tzinfo=BEIJING)
WIRE_TIME = "%Y-%m-%d %H:%M:%S"  # BJSJ and the query's start/end
GXSJ_TIME = "%Y%m%d%H%M%S"
MOJIBAKE = ("锟斤拷", "\ufffd")  # GBK bytes read as UTF-8 and back; the replacement character
REQUIRED = ("JJDBH", "BJSJ", "GXSJ")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class PoliceConnector:
    """The 110 dispatch platform's alarms (警情) as ``PoliceAlert`` records."""

    client: SourceClient
    username: str
    password: str
    page_size: int = 200
    overlap: timedelta = timedelta(minutes=5)
    end_margin: timedelta = timedelta(days=1)
    clock: Callable[[], datetime] = field(default=_utc_now)
    source: SourceSystem = SourceSystem.POLICE_110

    async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        """Page from ``checkpoint`` minus the overlap (or 2000-01-01) up to now plus a margin."""
        start = EARLIEST
        if checkpoint and not full:
            start = max(EARLIEST, _checkpoint_time(checkpoint) - self.overlap)
        end = (self.clock() + self.end_margin).astimezone(BEIJING)
        page_no = 1
        while True:
            total, alarms = await self._query(start, end, page_no)
            items = [_item(alarm) for alarm in alarms]
            newest = max((t for t in map(_gxsj_of, items) if t is not None), default=None)
            mark = newest.isoformat() if newest is not None else None
            yield Batch(items=items, checkpoint=mark, watermark=mark)
            if page_no * self.page_size >= total or newest is None:
                return
            if newest > start:
                start, page_no = newest, 1  # keyset: restart the window at the newest GXSJ
            else:
                page_no += 1  # a whole page within one second: page through that second

    async def _query(
        self, start: datetime, end: datetime, page_no: int
    ) -> tuple[int, list[etree._Element]]:
        params = {
            "startTime": start.astimezone(BEIJING).strftime(WIRE_TIME),
            "endTime": end.astimezone(BEIJING).strftime(WIRE_TIME),
            "pageNo": str(page_no),
            "pageSize": str(self.page_size),
        }
        envelope = build_envelope(
            NAMESPACE,
            "QueryAlarms",
            params,
            header=("auth", {"username": self.username, "password": self.password}),
        )
        response = await self.client.request(
            "POST",
            ENDPOINT,
            check=raise_for_soap_status,
            content=envelope,
            headers={"Content-Type": CONTENT_TYPE, "SOAPAction": SOAP_ACTION},
        )
        root = parse_response(response, self.source)
        result = root.find(f".//{{{NAMESPACE}}}QueryAlarmsResponse")
        total_text = result.findtext(f"{{{NAMESPACE}}}total") if result is not None else None
        if result is None or total_text is None or not total_text.strip().isdigit():
            raise SourceResponseError(self.source, "QueryAlarmsResponse without a total")
        return int(total_text), list(result.iterfind(f"{{{NAMESPACE}}}alarms/{{{NAMESPACE}}}alarm"))

    def updated_at_of(self, raw: Any) -> datetime | None:
        """The update time of a payload, even one that does not parse (dead letters)."""
        with contextlib.suppress(RecordError, AttributeError, TypeError, KeyError, ValueError):
            return _time(raw, "GXSJ", GXSJ_TIME, "")
        return None

    def parse(self, raw: Any) -> ParsedRecord:
        """Map one alarm (a dict of element name → text); raise ``RecordError`` if it cannot."""
        return parse_alarm(raw)


def _checkpoint_time(checkpoint: str) -> datetime:
    try:
        moment = datetime.fromisoformat(checkpoint)
    except ValueError:
        return EARLIEST  # not ours (e.g. written by an older connector): start over, idempotently
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=BEIJING)


def _item(alarm: etree._Element) -> FetchedItem:
    """One ``<alarm>`` as a dict of its children's text, keyed by their local names."""
    raw: dict[str, str] = {}
    for child in alarm:
        if isinstance(child.tag, str):  # skip comments and processing instructions
            raw[etree.QName(child).localname] = child.text or ""
    return FetchedItem(key=raw.get("JJDBH") or None, raw=raw)


def _gxsj_of(item: FetchedItem) -> datetime | None:
    try:
        return beijing_to_utc(item.raw.get("GXSJ", ""), GXSJ_TIME).astimezone(BEIJING)
    except ValueError:
        return None


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return value.strip() if isinstance(value, str) else ""


def _time(raw: Mapping[str, Any], name: str, fmt: str, key: str) -> datetime:
    try:
        return beijing_to_utc(_text(raw, name), fmt)
    except ValueError as exc:
        raise RecordError("INVALID_DATE", f"{name} is not a valid time", key=key) from exc


def parse_alarm(raw: Any) -> ParsedRecord:
    """The mapping of one 110 alarm, pure (also used to replay dead letters)."""
    if not isinstance(raw, dict):
        raise RecordError("MALFORMED", "an alarm must be an object of element texts")
    key = _text(raw, "JJDBH") or None
    missing = [name for name in REQUIRED if not _text(raw, name)]
    if missing:
        raise RecordError("MISSING_FIELD", f"{', '.join(missing)} missing or empty", key=key)
    assert key is not None
    garbled = sorted(
        n for n, v in raw.items() if isinstance(v, str) and any(m in v for m in MOJIBAKE)
    )
    if garbled:
        raise RecordError("BAD_ENCODING", f"mojibake in {', '.join(garbled)}", key=key)
    alarm_time = _time(raw, "BJSJ", WIRE_TIME, key)
    updated_at = _time(raw, "GXSJ", GXSJ_TIME, key)
    codes = [_text(raw, name) or None for name in ("JQLBDM", "JQLXDM", "JQXLDM")]
    if any(c is not None and not (len(c) == 6 and c.isascii() and c.isdigit()) for c in codes):
        raise RecordError("INVALID_CODE", "警情类别 codes must have 6 digits", key=key)
    detail = next((c for c in reversed(codes) if c is not None), None)
    category = by_longest_prefix(CATEGORY_BY_CODE_PREFIX, detail) if detail else None
    category = category or DisputeCategory.OTHER
    status, source_status = _status(_text(raw, "CJZT"), key)
    name = _text(raw, "JQLBMC") or CATEGORY_NAMES.get(detail or "") or LABELS[category.value]
    address = _text(raw, "FSDZ") or None
    return ParsedRecord(
        source=SourceSystem.POLICE_110,
        source_key=key,
        source_updated_at=updated_at,
        raw=dict(raw),
        category=category,
        title=f"{name} {address}" if address else name,
        summary=_text(raw, "JYAQ") or None,
        occurred_at=alarm_time,
        reported_at=alarm_time,
        region_code=_region(_text(raw, "XZQHDM"), key),
        address=address,
        status=status,
        source_status=source_status,
        source_category=detail,
        fields={
            "alert_number": key,
            "alarm_time": alarm_time,
            "category_code_l1": codes[0],
            "category_code_l2": codes[1],
            "category_code_l3": codes[2],
            "disposal_result": _text(raw, "CJJG") or None,
        },
        parties=_caller(raw, key),
    )


def _status(code: str, key: str) -> tuple[CaseStatus, str | None]:
    if not code:
        return CaseStatus.REPORTED, None
    if code not in STATUS_BY_CJZT:
        raise RecordError("INVALID_CODE", f"unknown 处警状态 CJZT {code!r}", key=key)
    return STATUS_BY_CJZT[code]


def _region(code: str, key: str) -> str | None:
    if not code:
        return None
    try:
        return validate_division_code(code)
    except InvalidIdentifier as exc:
        raise RecordError("INVALID_CODE", f"XZQHDM: {exc}", key=key) from exc


def _caller(raw: Mapping[str, Any], key: str) -> list[ParsedParty]:
    """The caller (报警人): ID number validated when given, phone normalised."""
    name, phone, id_number = _text(raw, "BJRXM"), _text(raw, "BJRDH"), _text(raw, "BJRSFZH")
    if not (name or phone or id_number):
        return []
    try:
        id_number = validate_resident_id(id_number) if id_number else ""
    except InvalidIdentifier as exc:
        raise RecordError("INVALID_ID_NUMBER", f"BJRSFZH: {exc}", key=key) from exc
    try:
        phone = normalize_phone(phone) if phone else ""
    except InvalidIdentifier as exc:
        raise RecordError("INVALID_PHONE", f"BJRDH: {exc}", key=key) from exc
    return [
        ParsedParty(
            role=PartyRole.CALLER,
            name=name,
            source_role="报警人",
            id_number=id_number or None,
            phone=phone or None,
        )
    ]


def build(
    config: SourceConfig, http: httpx.AsyncClient, breaker: CircuitBreaker
) -> PoliceConnector:
    """The connector for ``[sources.POLICE_110]``; credentials ``username`` and ``password``."""
    creds = config.credentials
    for name in ("username", "password"):
        if not creds.get(name):
            raise SourcesFileError(f"sources.POLICE_110.credentials.{name} is required")
    client = SourceClient(
        SourceSystem.POLICE_110, http, NoAuth(), retry=config.retry.to_settings(), breaker=breaker
    )
    return PoliceConnector(
        client=client,
        username=creds["username"],
        password=creds["password"],
        page_size=min(config.page_size, MAX_PAGE_SIZE),
    )
