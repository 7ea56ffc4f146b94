"""A small hand-made :class:`World` and mutator, independent of the world generator.

For tests and demos of the servers and connectors: ``sample_world(n)`` gives ``n`` records
per system in payload shapes close to ``sandbox/README.md`` (110 flat strings, grid / mediation
/ court JSON, petition rows with the Chinese headers); ``sample_mutator`` has the signature of
``sandbox.world.mutate_world`` (updates, new records, mediation tombstones).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from domain.enums import RegionLevel, SourceSystem
from sandbox.model import GeneratedRegion, SourceRecord, World
from sandbox.systems.common import BEIJING, restamp
from sandbox.systems.delivery import id_check_char

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=BEIJING)
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴倩")
TIME_FIELD = {SourceSystem.POLICE_110: "GXSJ", SourceSystem.GRID: "updateTime",
              SourceSystem.MEDIATION: "updatedAt", SourceSystem.COURT: "modifiedAt"}
STATUS_FIELD = {SourceSystem.POLICE_110: "CJJG", SourceSystem.GRID: "status",
                SourceSystem.MEDIATION: "status", SourceSystem.PETITION: "办理状态",
                SourceSystem.COURT: "status"}


def id_number(i: int) -> str:
    first = f"411202198{i % 10}0{1 + i % 9}1{i % 10}{i % 1000:03d}"[:17]
    return first + id_check_char(first)


def _payload(system: SourceSystem, i: int, at: datetime) -> tuple[str, dict[str, Any]]:
    name, ident, phone = NAMES[i % len(NAMES)], id_number(i), f"1390398{i:04d}"
    occurred = at - timedelta(hours=3)
    if system is SourceSystem.POLICE_110:
        key = f"J411202{at:%Y%m%d}{i:05d}"
        return key, {
            "JJDBH": key, "BJSJ": f"{occurred:%Y-%m-%d %H:%M:%S}", "BJRXM": name, "BJRDH": phone,
            "BJRSFZH": ident, "JQLBDM": "10", "JQLXDM": "1001", "JQXLDM": "100101",
            "FSDZ": f"湖滨区湖滨街道{i}号", "XZQHDM": "411202",
            "JYAQ": f"{name}报警称与邻居发生纠纷",
            "CJJG": "现场调解", "GXSJ": f"{at:%Y%m%d%H%M%S}"}
    if system is SourceSystem.GRID:
        key = f"WG{at:%Y%m%d}{i:05d}"
        return key, {"eventNo": key, "title": f"{name}反映噪音扰民", "eventType": "0301",
                     "gridCode": "411202001001001", "reporter": name, "reporterIdCard": ident,
                     "occurTime": f"{occurred:%Y-%m-%d %H:%M:%S}", "status": "ACCEPTED",
                     "updateTime": int(at.timestamp() * 1000)}
    if system is SourceSystem.MEDIATION:
        key = f"TJ{at:%Y%m%d}{i:05d}"
        return key, {"caseNo": key, "caseName": f"{name}与邻居相邻关系纠纷", "disputeType": "02",
                     "applicant": {"name": name, "idCard": ident, "phone": phone},
                     "acceptDate": f"{occurred:%Y-%m-%d}", "status": "MEDIATING",
                     "updatedAt": at.isoformat(timespec="seconds")}
    if system is SourceSystem.PETITION:
        key = f"XF{at:%Y%m%d}{i:05d}"
        return key, {"信访件编号": key, "信访形式": "来访", "信访人": name, "证件号码": ident,
                     "联系电话": phone, "信访日期": f"{occurred:%Y-%m-%d}", "问题属地": "411202",
                     "内容分类": "劳动社保", "诉求": "要求支付拖欠工资", "办理单位": "湖滨区人社局",
                     "办理期限": f"{occurred + timedelta(days=60):%Y-%m-%d}", "办理状态": "办理中",
                     "信访人数": "1", "重复信访次数": "0", "关联案号": ""}
    key = f"（2024）豫1202民初{i:05d}号"
    return key, {"caseNo": key, "caseType": "民事一审", "plaintiff": name, "plaintiffIdCard": ident,
                 "defendant": "某物业公司", "filingDate": f"{occurred:%Y-%m-%d}",
                 "status": "立案", "modifiedAt": at.isoformat(timespec="seconds")}


def _record(system: SourceSystem, i: int, at: datetime) -> SourceRecord:
    key, payload = _payload(system, i, at)
    export_day: date | None = at.date() if system is SourceSystem.PETITION else None
    return SourceRecord(system, key, at, payload, export_day=export_day)


def sample_world(n: int = 30, seed: int = 7) -> World:
    """``n`` records per system spread over the days before :data:`NOW`."""
    village, grid = RegionLevel.VILLAGE, RegionLevel.GRID
    regions = [
        GeneratedRegion("411202001", "湖滨街道", RegionLevel.TOWNSHIP, "411202", 52_000),
        GeneratedRegion("411202001001", "湖滨社区", village, "411202001", 8_000),
        GeneratedRegion("411202001001001", "湖滨社区第一网格", grid, "411202001001", 900),
        GeneratedRegion("411202001001002", "湖滨社区第二网格", grid, "411202001001", 850),
    ]
    records = {system: [_record(system, i, NOW - timedelta(days=3, hours=1) + timedelta(
        minutes=7 * i)) for i in range(n)] for system in SourceSystem}
    return World(seed=seed, scale=n, regions=regions, records=records, truth={}, now=NOW)


def sample_mutator(
    world: World, system: SourceSystem, rng: random.Random, at: datetime, count: int,
) -> list[SourceRecord]:
    """Update ``count`` live records (the last one new; a mediation change may be a deletion)."""
    latest: dict[str, SourceRecord] = {}
    for record in world.records[system]:
        if record.key not in latest or record.version >= latest[record.key].version:
            latest[record.key] = record
    live = sorted(k for k, r in latest.items() if not r.deleted)
    changed: list[SourceRecord] = []
    for n, key in enumerate(rng.sample(live, min(count, len(live)))):
        stamp = at + timedelta(milliseconds=n)
        old = latest[key]
        if n == count - 1:
            changed.append(_record(system, len(latest) + 1000 + rng.randrange(10**4), stamp))
            continue
        payload = {**old.payload, STATUS_FIELD[system]: f"已更新{old.version + 1}"}
        if system in TIME_FIELD:
            payload[TIME_FIELD[system]] = restamp(old.payload[TIME_FIELD[system]], stamp)
        deleted = system is SourceSystem.MEDIATION and n % 3 == 1
        changed.append(SourceRecord(system, key, stamp, payload, old.version + 1, deleted,
                                    old.export_day))
    world.records[system].extend(changed)
    return changed
