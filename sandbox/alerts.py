"""Payload builders for the three "street-level" systems: 110 alerts (警情), grid events
(网格事件) and petitions (信访件). Field names, codes and formats: sandbox/README.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from domain.enums import SourceSystem
from sandbox import formats
from sandbox.codes import (
    GRID_EVENT_TYPES,
    GRID_TOPIC_TYPES,
    PETITION_FORM_WEIGHTS,
    PETITION_FORMS,
    PETITION_STATES,
    PETITION_TOPIC_CLASSES,
    POLICE_CATEGORY_NAMES,
    POLICE_TOPIC_CODES,
)
from sandbox.forge import Forge, Matter
from sandbox.model import SourceRecord
from sandbox.noise import mention_id, mention_name, mention_phone, polite_name, render_address
from sandbox.people import Address, Organisation, Party

_POLICE_OUTCOMES = ("民警到场后经现场调解，双方达成谅解", "已告知当事人通过诉讼途径解决",
                    "已移交{committee}调解", "民警到场后对双方进行批评教育，事态平息",
                    "已受案调查")


def police_alert(f: Forge, matter: Matter, caller: Party, place: Address, topic: str,
                 at: datetime, *, story: str, address_text: str | None = None) -> SourceRecord:
    """One 110 警情; the caller is its only party (others appear in JYAQ text only)."""
    rng = f.rng
    county = place.village.township.county
    day = formats.beijing(at)
    key = f.keys.next(SourceSystem.POLICE_110, f"J{county.code}{day:%Y%m%d}",
                      lambda n: f"J{county.code}{day:%Y%m%d}{n:04d}")
    code = rng.choice(POLICE_TOPIC_CODES[topic])
    done = f.later(at, 0.5, 8)
    state = "4" if done < f.latest else rng.choice("123")
    updated = formats.truncate(done if state == "4" else f.later(at, 0.02, 0.5))
    outcome = rng.choice(_POLICE_OUTCOMES).format(committee=place.village.township.committee)
    caller_name = (polite_name(caller) if rng.random() < 0.1
                   else mention_name(rng, caller.name, 0.08))
    payload = {
        "JJDBH": key, "BJSJ": formats.police_time(at), "BJRXM": caller_name,
        "BJRDH": mention_phone(rng, caller, 0.4, 0.0), "BJRSFZH": mention_id(rng, caller, 0.8),
        "JQLBDM": code[:2] + "0000", "JQLXDM": code[:4] + "00", "JQXLDM": code,
        "JQLBMC": POLICE_CATEGORY_NAMES[code],
        "FSDZ": address_text or render_address(rng, place, (0, 1, 3, 4)),
        "XZQHDM": county.code, "GXDWMC": place.village.township.police_station,
        "JYAQ": story, "CJJG": outcome if state == "4" else "民警已出警，正在处置",
        "CJZT": state, "GXSJ": formats.police_stamp(updated),
    }
    return f.emit(SourceSystem.POLICE_110, key, payload, updated, matter, [(caller, "报警人")])


def grid_event(f: Forge, matter: Matter, parties: Sequence[Party], place: Address, topic: str,
               at: datetime, *, content: str, final_status: str | None = None,
               id_blank: float = 0.5) -> SourceRecord:
    """One 网格事件, reported by the grid's 网格员 or, for 随手拍, by its first party.

    ``id_blank``: how often a party's 身份证号 is left blank (a dispute the 网格员 hands on to
    a committee is registered with the parties' ID numbers more often)."""
    rng = f.rng
    village = place.village
    grid = place.grid
    county = village.township.county
    day = formats.beijing(at)
    key = f.keys.next(SourceSystem.GRID, f"WG{county.code}{day:%Y%m%d}",
                      lambda n: f"WG{county.code}{day:%Y%m%d}{n:05d}")
    reporter: Party = (parties[0] if parties and rng.random() < 0.2
                       else f.worker(grid, village))
    moment, status = at, "01"
    target = final_status or rng.choices(("04", "05", "06"), (30, 64, 6))[0]
    for step in ("02", "03", "04", "05"):
        if step > target or (target == "06" and step > "02"):
            break
        nxt = f.later(moment, 2, 96)
        if nxt >= f.latest:
            break
        moment, status = nxt, step
    if target == "06" and status == "02":
        status = "06"
    updated = formats.truncate(f.millis(moment), millis=True)
    event_type = GRID_TOPIC_TYPES[topic]
    payload = {
        "eventNo": key, "title": f"{village.name}{GRID_EVENT_TYPES[event_type]}",
        "content": content, "eventType": event_type, "gridCode": grid.code,
        "regionCode": village.code, "address": render_address(rng, place, (0, 2, 2)),
        "lng": round(grid.lng + rng.uniform(-0.004, 0.004), 6),
        "lat": round(grid.lat + rng.uniform(-0.004, 0.004), 6),
        "reporterName": mention_name(rng, reporter.name, 0.03),
        "reporterPhone": mention_phone(rng, reporter, 0.3, 0.0),
        "parties": [{"name": p.name if isinstance(p, Organisation)
                     else mention_name(rng, p.name, 0.05), "idCard": mention_id(rng, p, id_blank),
                     "phone": mention_phone(rng, p, 0.4, 0.2), "role": "当事人"}
                    for p in parties],
        "status": status, "occurTime": formats.grid_time(at),
        "updateTime": formats.grid_millis(updated),
    }
    truth = [(reporter, "上报人"), *((p, "当事人") for p in parties)]
    return f.emit(SourceSystem.GRID, key, payload, updated, matter, truth)


def petition(f: Forge, matter: Matter, petitioners: Sequence[Party], head_count: int,
             topic: str, at: datetime, place: Address, *, demand: str, related_case: str = "",
             repeat: int = 0, handler: str | None = None) -> SourceRecord:
    """One 信访件 row; group petitions list at most five representatives (代表)."""
    rng = f.rng
    township = place.village.township
    county = township.county
    day = formats.beijing(at)
    key = f.keys.next(SourceSystem.PETITION, f"XF{county.code}{day:%Y%m%d}",
                      lambda n: f"XF{county.code}{day:%Y%m%d}{n:04d}")
    deadline = at + timedelta(days=60)
    moment, state = at, PETITION_STATES[0]
    for step in PETITION_STATES[1:]:
        nxt = f.later(moment, 24, 24 * 20)
        if nxt >= f.latest or rng.random() < 0.04:
            break
        moment, state = nxt, step
    updated = formats.truncate(moment)
    names = [p.name for p in petitioners]
    row = {
        "信访件编号": key,
        "信访形式": rng.choices(PETITION_FORMS, PETITION_FORM_WEIGHTS)[0],
        "信访人": "、".join(mention_name(rng, n, 0.04) for n in names),
        "证件号码": ";".join(mention_id(rng, p, 0.15) for p in petitioners),
        "联系电话": ";".join(mention_phone(rng, p, 0.3, 0.1) for p in petitioners),
        "信访日期": formats.petition_date(at), "问题属地": f"{township.code}000",
        "内容分类": PETITION_TOPIC_CLASSES[topic], "诉求": demand,
        "办理单位": handler or county.petition_bureau,
        "办理期限": formats.petition_date(deadline), "办理状态": state,
        "信访人数": str(head_count), "重复信访次数": str(repeat), "关联案号": related_case,
        "更新时间": formats.petition_stamp(updated),
    }
    parties = [(p, "信访人") for p in petitioners]
    export_day = formats.local_day(updated)
    if rng.random() < 0.06:
        # a correction: the clerk fixes a name or a phone and the day's file is re-issued
        corrected_at = formats.truncate(f.later(moment, 1, 30))
        if corrected_at > updated:
            first = dict(row)
            first["信访人"] = "、".join([mention_name(rng, names[0], 1.0), *names[1:]])
            row["信访人"] = "、".join(names)
            row["更新时间"] = formats.petition_stamp(corrected_at)
            return f.emit(SourceSystem.PETITION, key, row, corrected_at, matter, parties,
                          export_day=export_day, version=2, first_payload=first)
    return f.emit(SourceSystem.PETITION, key, row, updated, matter, parties,
                  export_day=export_day)
