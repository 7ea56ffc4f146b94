"""Region tree persistence: seeding divisions and upserting the grid source's tree."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.fit import text_length
from db.models import Region
from domain.divisions import SEED_REGIONS
from domain.enums import RegionLevel

_REGIONS: Table = Region.__table__  # type: ignore[assignment]  # a declarative model's table
_CHUNK = 5000
REGION_CODE_MAX = text_length(_REGIONS.c.code)
REGION_NAME_MAX = text_length(_REGIONS.c.name)
"""The longest region code and name stored (a source's tree is checked against them)."""


async def upsert_regions(
    session: AsyncSession,
    regions: Iterable[tuple[str, str, RegionLevel, str | None, int | None]],
) -> tuple[int, int]:
    """Insert or update ``(code, name, level, parent_code, population)`` rows, parents first.

    Returns ``(inserted, updated)``.
    """
    rows = sorted(regions, key=lambda r: (len(r[0]), r[0]))
    codes = [r[0] for r in rows]
    stored: dict[str, tuple[str, RegionLevel, str | None, int | None]] = {}
    for start in range(0, len(codes), _CHUNK):
        found = await session.execute(
            select(_REGIONS.c.code, _REGIONS.c.name, _REGIONS.c.level, _REGIONS.c.parent_code,
                   _REGIONS.c.population).where(_REGIONS.c.code.in_(codes[start : start + _CHUNK]))
        )  # fmt: skip
        stored.update((row.code, (row.name, row.level, row.parent_code, row.population))
                      for row in found)  # fmt: skip
    new = [
        {"code": code, "name": name, "level": level, "parent_code": parent, "population": people}
        for code, name, level, parent, people in rows
        if code not in stored
    ]
    changed = {
        code: (name, level, parent, people)
        for code, name, level, parent, people in rows
        if code in stored and stored[code] != (name, level, parent, people)
    }
    # The grid's tree is ~7,600 nodes on a first sync: Core rows, one executemany in parents-
    # first order (an ORM object per node cost more than the database's work).
    if new:
        await session.execute(insert(_REGIONS), new)
    if changed:  # few: as objects, so any this session holds stay current
        for region in await session.scalars(select(Region).where(Region.code.in_(changed))):
            region.name, region.level, region.parent_code, region.population = changed[
                region.code
            ]
        await session.flush()
    return len(new), len(changed)


async def seed_regions(session: AsyncSession) -> tuple[int, int]:
    """Load the demo area's real division codes (三门峡市, 成都市) into ``regions``."""
    return await upsert_regions(
        session, ((r.code, r.name, r.level, r.parent_code, r.population) for r in SEED_REGIONS)
    )
