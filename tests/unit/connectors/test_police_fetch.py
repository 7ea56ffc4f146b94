"""Paging ``QueryAlarms`` keyset-by-time, against an in-memory AlarmService."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from lxml import etree
from tenacity import wait_none

from connectors.http import SourceClient
from connectors.police import NAMESPACE, PoliceConnector
from connectors.soap import SOAP_ENV
from domain.enums import SourceSystem

T0 = datetime(2026, 3, 15, 8, 0, 0)
NOW = datetime(2026, 11, 1, tzinfo=UTC)


class AlarmService:
    """Answers QueryAlarms over the live list; ``moves`` updates a record after a call."""

    def __init__(self, gxsj: dict[str, datetime], fail_first: bool = False) -> None:
        self.gxsj = gxsj
        self.calls: list[tuple[str, int]] = []
        self.fail_first = fail_first
        self.moves: dict[int, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail_first:
            self.fail_first = False
            return httpx.Response(503, text="upstream unavailable")  # no SOAP Fault: temporary
        query = etree.fromstring(request.content).find(f".//{{{NAMESPACE}}}QueryAlarms")
        assert query is not None
        arg = {etree.QName(e).localname: e.text or "" for e in query}
        start = datetime.strptime(arg["startTime"], "%Y-%m-%d %H:%M:%S")
        page_no, size = int(arg["pageNo"]), int(arg["pageSize"])
        self.calls.append((arg["startTime"], page_no))
        window = sorted((t, k) for k, t in self.gxsj.items() if t >= start)
        page = window[(page_no - 1) * size : page_no * size]
        if (moved := self.moves.pop(len(self.calls), None)) is not None:
            self.gxsj[moved] = max(self.gxsj.values()) + timedelta(seconds=1)
        alarms = "".join(
            f"<a:alarm><a:JJDBH>{k}</a:JJDBH><a:GXSJ>{t:%Y%m%d%H%M%S}</a:GXSJ></a:alarm>"
            for t, k in page
        )
        body = (
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:a="{NAMESPACE}"><soap:Body>'
            f"<a:QueryAlarmsResponse><a:total>{len(window)}</a:total><a:alarms>{alarms}"
            "</a:alarms></a:QueryAlarmsResponse></soap:Body></soap:Envelope>"
        )
        return httpx.Response(200, content=body.encode("gbk"))


def connector(service: AlarmService, page_size: int = 3) -> PoliceConnector:
    http = httpx.AsyncClient(transport=httpx.MockTransport(service), base_url="http://110")
    client = SourceClient(SourceSystem.POLICE_110, http, wait=wait_none())
    return PoliceConnector(client, "u", "p", page_size=page_size, clock=lambda: NOW)


async def keys_read(c: PoliceConnector, checkpoint: str | None = None) -> tuple[set[str], str]:
    seen: set[str] = set()
    last = ""
    async for batch in c.fetch(checkpoint, full=False):
        seen |= {item.key for item in batch.items if item.key}
        last = batch.checkpoint or last
    return seen, last


async def test_a_record_updated_while_paging_skips_nothing() -> None:
    service = AlarmService({f"J{i:02d}": T0 + timedelta(minutes=i) for i in range(10)})
    service.moves = {1: "J00"}  # after the first page, J00 jumps to the end of the window

    seen, checkpoint = await keys_read(connector(service))

    assert seen == {f"J{i:02d}" for i in range(10)}
    assert checkpoint == "2026-03-15T08:09:01+08:00"  # J00's new GXSJ, the newest read


async def test_a_page_within_one_second_advances_the_page_number() -> None:
    service = AlarmService({f"J{i:02d}": T0 for i in range(7)} | {"K": T0 + timedelta(hours=1)})

    seen, _ = await keys_read(connector(service))

    assert len(seen) == 8
    assert service.calls == [
        ("2000-01-01 00:00:00", 1),
        ("2026-03-15 08:00:00", 1),  # keyset: restart at the newest GXSJ read …
        ("2026-03-15 08:00:00", 2),  # … where a whole page shares it: next page number
        ("2026-03-15 08:00:00", 3),
    ]


async def test_resume_starts_the_overlap_before_the_checkpoint() -> None:
    service = AlarmService({"J1": T0}, fail_first=True)
    c = connector(service)

    await keys_read(c, "2026-03-15T08:03:00+08:00")

    assert service.calls[0] == ("2026-03-15 07:58:00", 1)
    assert c.client.retries == 1  # the 503 without a fault was retried


async def test_first_sync_starts_in_2000() -> None:
    service = AlarmService({})

    await keys_read(connector(service))

    assert service.calls == [("2000-01-01 00:00:00", 1)]
