"""Records arriving after the world's ``now``: new matters, status changes, corrections and
(on the mediation platform) deletions delivered as tombstones."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import datetime

from domain.enums import SourceSystem
from sandbox import formats
from sandbox.codes import COURT_STATES, GRID_STATUSES, PETITION_STATES, POLICE_STATES
from sandbox.forge import Forge
from sandbox.model import SourceRecord, World
from sandbox.singletons import (
    lone_alert,
    lone_court_case,
    lone_grid_event,
    lone_mediation,
    lone_petition,
)

NEW_MATTERS: dict[SourceSystem, Callable[[Forge], None]] = {
    SourceSystem.POLICE_110: lone_alert, SourceSystem.GRID: lone_grid_event,
    SourceSystem.MEDIATION: lone_mediation, SourceSystem.PETITION: lone_petition,
    SourceSystem.COURT: lone_court_case,
}
NEW_SHARE = 0.4
DELETE_SHARE = 0.15
"""Of the mediation platform's changes, how many are deletions (tombstones)."""
_FINAL = {"CJZT": "4", "status": ("05", "06", "调解成功", "调解失败", "终止", "已结案"),
          "办理状态": "已办结"}
_GRID_ORDER = sorted(GRID_STATUSES)[:5]


def _is_final(record: SourceRecord) -> bool:
    p = record.payload
    if record.system is SourceSystem.POLICE_110:
        return bool(p["CJZT"] == "4")
    if record.system is SourceSystem.PETITION:
        return bool(p["办理状态"] == PETITION_STATES[-1])
    return p["status"] in _FINAL["status"]


def _advance(record: SourceRecord, rng: random.Random, at: datetime) -> None:
    """Move the record one step along its system's own status flow."""
    p = record.payload
    system = record.system
    if system is SourceSystem.POLICE_110:
        if p["CJZT"] != "4":
            p["CJZT"] = str(int(p["CJZT"]) + 1)
            p["CJJG"] = ("民警到场后经现场调解，双方达成谅解" if p["CJZT"] == "4"
                         else f"{POLICE_STATES[p['CJZT']]}，正在处置")
        else:
            p["CJJG"] += "；已回访，报警人表示满意"
    elif system is SourceSystem.GRID:
        if p["status"] in _GRID_ORDER[:-1]:
            p["status"] = _GRID_ORDER[_GRID_ORDER.index(p["status"]) + 1]
        else:
            p["content"] += "（已回访）"
    elif system is SourceSystem.MEDIATION:
        status = {"受理": "调解中", "调解中": rng.choice(("调解成功", "调解成功", "调解失败"))}.get(
            p["status"])
        if status is None:
            p["description"] += "（已回访）"
            return
        p["status"] = status
        p["statusHistory"].append({"status": status, "time": formats.mediation_stamp(at)})
        if status == "调解成功":
            p["agreement"] = {"agreementNo": f"XY{record.key[2:]}",
                              "amount": round(float(p["amountInvolved"]) * 0.8, 2),
                              "signedDate": formats.mediation_date(at)}
    elif system is SourceSystem.PETITION:
        # a petition changes by a correction of its day's row: keep what v1 published
        if record.first_payload is None:
            record.first_payload = copy.deepcopy(p)
        if p["办理状态"] != PETITION_STATES[-1]:
            p["办理状态"] = PETITION_STATES[PETITION_STATES.index(p["办理状态"]) + 1]
        else:
            p["诉求"] += "（已答复）"
    else:
        index = COURT_STATES.index(p["status"])
        if index < len(COURT_STATES) - 1:
            p["status"] = COURT_STATES[index + 1]
            if p["status"] == "已结案":
                p["outcome"] = rng.choice(("判决", "调解结案", "准许撤诉"))
        else:
            p["outcome"] += "（已生效）"


def mutate_world(world: World, system: SourceSystem, rng: random.Random, at: datetime,
                 count: int = 5) -> list[SourceRecord]:
    """``count`` changes arriving in ``system`` at ``at`` (later than ``world.now``).

    New records are lone matters; updates bump ``version``, set ``updated_at=at`` and move
    the payload's status on; on MEDIATION some updates are deletions (``deleted=True``).
    Mutates ``world.records``, ``world.truth`` and ``world.people`` in place and returns the
    changed records (each once).
    """
    forge = Forge.resume(world, rng, at)
    records = world.records[system]
    live = [r for r in records if not r.deleted]
    changed: dict[tuple[SourceSystem, str], SourceRecord] = {}
    for _ in range(count):
        roll = rng.random()
        if not live or roll < NEW_SHARE:
            before = len(records)
            NEW_MATTERS[system](forge)
            for record in records[before:]:
                formats.stamp_update(record, at)
                if system is SourceSystem.PETITION:
                    record.export_day = formats.local_day(at)
                changed[(system, record.key)] = record
            continue
        candidates = rng.sample(live, min(8, len(live)))
        record = next((r for r in candidates if not _is_final(r)), candidates[0])
        if system is SourceSystem.MEDIATION and roll > 1 - DELETE_SHARE:
            record.deleted = True
            live.remove(record)
        else:
            _advance(record, rng, at)
        record.version += 1
        formats.stamp_update(record, at)
        changed[(system, record.key)] = record
    return list(changed.values())
