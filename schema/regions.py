"""Regions: administrative divisions (行政区划) and grids (网格) as one tree."""

from __future__ import annotations

import strawberry
from sqlalchemy import RowMapping

from domain.enums import RegionLevel
from schema.context import Info


@strawberry.type(
    description=(
        "An administrative division or grid (行政区划/网格): province, city, county (6-digit "
        "GB/T 2260 code), township (9), village (12) or grid."
    )
)
class Region:
    code: str = strawberry.field(description="Division or grid code (区划代码/网格编码).")
    name: str = strawberry.field(description="Name (名称).")
    level: RegionLevel = strawberry.field(description="Level in the tree (层级).")
    population: int | None = strawberry.field(description="Registered population (人口).")
    parent_code: strawberry.Private[str | None]

    @strawberry.field(description="The region this one lies in (上级区划); null at the top.")
    async def parent(self, info: Info) -> Region | None:
        if self.parent_code is None:
            return None
        return await info.context.loaders.region.load(self.parent_code)

    @strawberry.field(description="The regions directly beneath this one (下级区划), by code.")
    async def children(self, info: Info) -> list[Region]:
        return await info.context.loaders.region_children.load(self.code)


def region_from_row(row: RowMapping) -> Region:
    return Region(
        code=row["code"],
        name=row["name"],
        level=row["level"],
        population=row["population"],
        parent_code=row["parent_code"],
    )


async def region_of(info: Info, code: str | None) -> Region | None:
    """The region a code names, through the request's loader; ``None`` for no code."""
    return None if code is None else await info.context.loaders.region.load(code)
