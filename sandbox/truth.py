"""The world's ground truth on disk, and its fingerprint.

``write_truth`` answers, for every source record, who each party really is and which matter
(storyline) the record belongs to — what entity resolution and linking are scored against.
``world_fingerprint`` hashes a canonical serialisation: equal fingerprints, equal worlds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from domain.enums import SourceSystem
from sandbox.model import SourceRecord, World


def _record(record: SourceRecord) -> dict[str, Any]:
    return {
        "system": record.system.value, "key": record.key, "version": record.version,
        "deleted": record.deleted, "updatedAt": record.updated_at.isoformat(),
        "exportDay": record.export_day.isoformat() if record.export_day else None,
        "payload": record.payload, "firstPayload": record.first_payload,
    }


def truth_document(world: World) -> dict[str, Any]:
    """The truth as a JSON-ready dict: records sorted by (system, key), people by id."""
    records = [
        {"system": truth.system.value, "key": truth.key, "matter": truth.matter_id,
         "storyline": truth.storyline,
         "parties": [{"person": p.person_id, "role": p.role} for p in truth.parties]}
        for _, truth in sorted(world.truth.items(), key=lambda item: (item[0][0].value,
                                                                      item[0][1]))
    ]
    people = {
        pid: {"kind": p.kind, "name": p.name, "idNumber": p.id_number, "phones": list(p.phones),
              "address": p.address}
        for pid, p in sorted(world.people.items())
    }
    risk = [
        {"matter": matter, "level": truth.level.value, "visibleAt": truth.visible_at.isoformat(),
         "why": truth.why}
        for matter, truth in sorted(world.risk.items())
    ]
    return {"seed": world.seed, "scale": world.scale, "now": world.now.isoformat(),
            "records": records, "people": people, "risk": risk}


def write_truth(world: World, path: Path) -> None:
    """Write the ground truth as UTF-8 JSON with a stable key order."""
    text = json.dumps(truth_document(world), ensure_ascii=False, sort_keys=True, indent=1)
    path.write_text(text + "\n", encoding="utf-8")


def world_fingerprint(world: World) -> str:
    """sha256 of the canonical JSON of everything in the world (regions, records, truth)."""
    document = {
        "truth": truth_document(world),
        "regions": [[r.code, r.name, r.level.value, r.parent_code, r.population]
                    for r in world.regions],
        "records": {s.value: [_record(r) for r in world.records.get(s, [])]
                    for s in SourceSystem},
    }
    # payload dicts are built in a fixed field order, so insertion order is already canonical
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
