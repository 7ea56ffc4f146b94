"""A world for security tests: one record of each kind in 湖滨区 (411202) and in 双流区
(510129), one record with no region, every party carrying an ID number and a phone.

Region 411202 is the test principals' jurisdiction ("inside"); 510129 lies outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Base, Link, PartyMention, Person, Record
from db.pii import blind_index
from domain.enums import (
    CaseStatus,
    DisputeCategory,
    PartyRole,
    RecordKind,
    RiskLevel,
    SourceSystem,
)
from domain.kinds import KIND_OF_SOURCE
from domain.validators import resident_id_check_char
from tests.integration.graphql_world import BASE_TIME, KIND_MODELS, _insert, _kind_row

INSIDE, OUTSIDE = "411202", "510129"
ID_NUMBERS = {
    INSIDE: "41120219800101123X",
    OUTSIDE: "51012919850203456" + resident_id_check_char("51012919850203456"),
}
PHONES = {INSIDE: "13812345678", OUTSIDE: "13998765432"}
MASKED_ID = {INSIDE: "4112**********123X", OUTSIDE: "5101**********" + ID_NUMBERS[OUTSIDE][-4:]}
MASKED_PHONE = {INSIDE: "138****5678", OUTSIDE: "139****5432"}
SUMMARY = "双方因噪音发生争执"
UNPLACED_ID = 99
LINK_ACROSS = (1, 2)  # the 411202 dispute links to the 510129 dispute


@dataclass
class SecurityWorld:
    ids: dict[tuple[RecordKind, str], int] = field(default_factory=dict)
    persons: dict[str, int] = field(default_factory=dict)


def _record(record_id: int, source: SourceSystem, region: str | None, n: int) -> dict[str, Any]:
    occurred = BASE_TIME - timedelta(hours=n)
    return {
        "id": record_id, "kind": KIND_OF_SOURCE[source], "source": source,
        "source_key": f"S{record_id}", "category": DisputeCategory.NEIGHBOUR,
        "title": f"纠纷{record_id}", "summary": SUMMARY, "occurred_at": occurred,
        "reported_at": None, "region_code": region, "address": "某路1号",
        "status": CaseStatus.ACCEPTED, "risk_level": RiskLevel.NONE, "source_status": "01",
        "source_updated_at": occurred, "updated_at": occurred, "deleted": False,
    }  # fmt: skip


def _party(record_id: int, region: str, person_id: int) -> dict[str, Any]:
    return {
        "record_id": record_id, "position": 0, "role": PartyRole.APPLICANT,
        "name": "张三" if region == INSIDE else "李四", "is_organisation": False,
        "id_number": ID_NUMBERS[region],
        "id_number_index": blind_index("id_number", ID_NUMBERS[region]),
        "phone": PHONES[region], "phone_index": blind_index("phone", PHONES[region]),
        "person_id": person_id,
    }  # fmt: skip


async def seed_security_world(engine: AsyncEngine) -> SecurityWorld:
    world = SecurityWorld(persons={INSIDE: 1, OUTSIDE: 2})
    persons = [
        {"id": pid, "name": "张三" if region == INSIDE else "李四", "region_code": region,
         "id_number": ID_NUMBERS[region], "phone": PHONES[region],
         "id_number_index": blind_index("id_number", ID_NUMBERS[region]),
         "phone_index": blind_index("phone", PHONES[region])}
        for region, pid in world.persons.items()
    ]  # fmt: skip
    records, parties = [], []
    kind_rows: dict[RecordKind, list[dict[str, Any]]] = {kind: [] for kind in RecordKind}
    n = 0
    for source in SourceSystem:
        kind = KIND_OF_SOURCE[source]
        for region in (INSIDE, OUTSIDE):
            n += 1
            records.append(_record(n, source, region, n))
            kind_rows[kind].append(_kind_row(kind, n, n, BASE_TIME - timedelta(hours=n)))
            parties.append(_party(n, region, world.persons[region]))
            world.ids[(kind, region)] = n
    records.append(_record(UNPLACED_ID, SourceSystem.MEDIATION, None, 50))
    kind_rows[RecordKind.DISPUTE].append(_kind_row(RecordKind.DISPUTE, UNPLACED_ID, 50, BASE_TIME))
    async with engine.begin() as connection:
        await _insert(connection, Person, persons)
        await _insert(connection, Record, records)
        for kind, rows in kind_rows.items():
            await _insert(connection, KIND_MODELS[kind], rows)
        await _insert(connection, PartyMention, parties)
        await _insert(
            connection,
            Link,
            [{"from_record_id": LINK_ACROSS[0], "to_record_id": LINK_ACROSS[1],
              "link_kind": "SAME_PARTY", "confidence": 0.9, "evidence": []}],
        )  # fmt: skip
    assert world.ids[(RecordKind.DISPUTE, INSIDE)] == LINK_ACROSS[0]
    assert world.ids[(RecordKind.DISPUTE, OUTSIDE)] == LINK_ACROSS[1]
    return world


async def wipe(engine: AsyncEngine) -> None:
    """Remove every row (for module-scoped worlds that commit)."""
    async with engine.begin() as connection:
        regions = Base.metadata.tables["regions"]
        await connection.execute(regions.update().values(parent_code=None))
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
