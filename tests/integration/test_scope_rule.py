"""The one scope rule: its SQL translation admits exactly what ``RecordScope.admits`` does,
on both databases, edges included (empty prefix, unplaced records, no kinds)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Record
from db.models.records import kind_models
from db.queries import RECORDS, scope_conditions
from domain.enums import CaseStatus, DisputeCategory, RecordKind, Role
from domain.kinds import KIND_SPECS
from domain.roles import Principal
from domain.scope import EVERYTHING, NOTHING, RecordScope

AT = datetime(2026, 8, 17, 2, 0, tzinfo=UTC)
PLACES = ["411202", "411202001001", "41120300", "4112", "510104", None]
_REQUIRED = {
    RecordKind.POLICE_ALERT: {"alert_number": "J", "alarm_time": AT},
    RecordKind.COURT_FILING: {"case_number": "(2026)豫1202民初1号"},
}

SCOPES = [
    RecordScope(frozenset(RecordKind), ("411202",)),
    RecordScope(frozenset({RecordKind.DISPUTE, RecordKind.PETITION}), ("4112", "5101")),
    RecordScope(frozenset({RecordKind.POLICE_ALERT}), ("41",), unplaced=True),
    RecordScope(frozenset(RecordKind), ("",)),
    RecordScope(frozenset(RecordKind), (), unplaced=True),
    RecordScope(frozenset(), ("41",)),
    NOTHING,
    EVERYTHING,
    RecordScope.of(None, {RecordKind.GRID_EVENT}),
    RecordScope.of(["411202001"], None),
    Principal("a", Role.ADMIN, regions=("4112",)).scope,
    Principal("p", Role.PARTNER_COURT, regions=("411202",)).scope,
]


async def _world(session: AsyncSession) -> dict[int, tuple[RecordKind, str | None]]:
    n = 0
    for kind, model in kind_models().items():
        for place in PLACES:
            n += 1
            session.add(
                model(
                    kind=kind,
                    source=KIND_SPECS[kind].sources[0],
                    source_key=f"SCOPE-{n}",
                    category=DisputeCategory.OTHER,
                    title="t",
                    occurred_at=AT,
                    status=CaseStatus.REPORTED,
                    source_updated_at=AT,
                    region_code=place,
                    **_REQUIRED.get(kind, {}),
                )
            )
    await session.flush()
    rows = await session.execute(select(Record.id, Record.kind, Record.region_code))
    return {rid: (RecordKind(kind), code) for rid, kind, code in rows}


@pytest.mark.parametrize("scope", SCOPES, ids=repr)
async def test_sql_admits_exactly_what_the_domain_rule_admits(
    session: AsyncSession, scope: RecordScope
) -> None:
    world = await _world(session)
    found = set(
        await session.scalars(
            select(RECORDS.c.id).where(RECORDS.c.id.in_(world), *scope_conditions(scope))
        )
    )
    expected = {rid for rid, (kind, code) in world.items() if scope.admits(kind, code)}
    assert found == expected


def test_the_rule_at_its_edges() -> None:
    city = RecordScope(frozenset({RecordKind.DISPUTE}), ("4112",))
    assert city.admits(RecordKind.DISPUTE, "411202001")
    assert not city.admits(RecordKind.PETITION, "411202001")
    assert not city.admits(RecordKind.DISPUTE, "510104")
    assert not city.admits(RecordKind.DISPUTE, None)
    assert RecordScope(frozenset(RecordKind), ("",)).covers("510104")
    assert not RecordScope(frozenset(RecordKind), ("",)).covers(None)
    assert EVERYTHING.covers(None) and EVERYTHING.admits(RecordKind.COURT_FILING, None)
    assert NOTHING.reads_nothing and not NOTHING.covers("41")
    assert Principal("a", Role.ADMIN, regions=("41",)).covers(None)
    assert not Principal("s", Role.CENTER_STAFF, regions=("41",)).covers(None)
