"""Each system's own way of writing a time (时间格式), all in Beijing time unless noted.

| system | occurred | updated (what ``SourceRecord.updated_at`` equals) |
|---|---|---|
| POLICE_110 | BJSJ ``2026-03-15 08:30:00`` | GXSJ ``20260315083000`` (second) |
| GRID | occurTime ``2026-03-15T08:30:00+08:00`` | updateTime epoch milliseconds |
| MEDIATION | occurDate ``2026/03/15`` | updatedAt ``2026-03-15T00:30:00Z`` (UTC, second) |
| PETITION | 信访日期 ``2026年3月15日`` | 更新时间 ``2026-03-15 08:30:00`` (second) |
| COURT | filingDate ``2026-03-15`` | modifiedAt ``2026-03-15T08:30:00.123+08:00`` (ms) |
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from domain.enums import SourceSystem
from sandbox.model import SourceRecord

BEIJING = timezone(timedelta(hours=8))


def beijing(moment: datetime) -> datetime:
    return moment.astimezone(BEIJING)


def police_time(moment: datetime) -> str:
    return f"{beijing(moment):%Y-%m-%d %H:%M:%S}"


def police_stamp(moment: datetime) -> str:
    return f"{beijing(moment):%Y%m%d%H%M%S}"


def grid_time(moment: datetime) -> str:
    return beijing(moment).isoformat(timespec="seconds")


def grid_millis(moment: datetime) -> int:
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def mediation_date(moment: datetime) -> str:
    return f"{beijing(moment):%Y/%m/%d}"


def mediation_stamp(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def petition_date(moment: datetime) -> str:
    local = beijing(moment)
    return f"{local.year}年{local.month}月{local.day}日"


def petition_stamp(moment: datetime) -> str:
    return police_time(moment)


def court_date(moment: datetime) -> str:
    return f"{beijing(moment):%Y-%m-%d}"


def court_stamp(moment: datetime) -> str:
    return beijing(moment).isoformat(timespec="milliseconds")


def local_day(moment: datetime) -> date:
    return beijing(moment).date()


def truncate(moment: datetime, millis: bool = False) -> datetime:
    """``moment`` cut to what the system's update-time field can express."""
    micro = moment.microsecond // 1000 * 1000 if millis else 0
    return moment.replace(microsecond=micro)


def stamp_update(record: SourceRecord, moment: datetime) -> None:
    """Set ``record.updated_at`` and the payload's own update-time field to ``moment``."""
    system = record.system
    millis = system in (SourceSystem.GRID, SourceSystem.COURT)
    moment = truncate(moment, millis=millis)
    record.updated_at = moment
    payload = record.payload
    if system is SourceSystem.POLICE_110:
        payload["GXSJ"] = police_stamp(moment)
    elif system is SourceSystem.GRID:
        payload["updateTime"] = grid_millis(moment)
    elif system is SourceSystem.MEDIATION:
        payload["updatedAt"] = mediation_stamp(moment)
    elif system is SourceSystem.PETITION:
        payload["更新时间"] = petition_stamp(moment)
    else:
        payload["modifiedAt"] = court_stamp(moment)
