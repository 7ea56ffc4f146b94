"""Migrations create the schema; the region seed loads real division codes idempotently."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Region
from db.regions import seed_regions
from domain.enums import RegionLevel


async def test_seed_loads_demo_counties(session: AsyncSession) -> None:
    inserted, _ = await seed_regions(session)
    assert inserted >= 30
    dayi = await session.get(Region, "510129")
    assert dayi is not None and dayi.name == "大邑县" and dayi.parent_code == "510100"
    counties = await session.scalar(
        select(func.count())
        .select_from(Region)
        .where(Region.level == RegionLevel.COUNTY, Region.parent_code == "411200")
    )
    assert counties == 6  # 湖滨、陕州、渑池、卢氏、义马、灵宝


async def test_seed_is_idempotent(session: AsyncSession) -> None:
    await seed_regions(session)
    assert await seed_regions(session) == (0, 0)
