"""Seed administrative divisions (行政区划, GB/T 2260) for the demo area.

Provinces, cities and every county-level division of 三门峡市 (411200) and 成都市 (510100),
with 2020 census populations (第七次全国人口普查). Townships, villages and grids below them
arrive later from the grid source (网格化服务管理平台), which is the master of that tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import RegionLevel


@dataclass(frozen=True, slots=True)
class SeedRegion:
    code: str
    name: str
    level: RegionLevel
    parent_code: str | None
    population: int


_P, _C, _X = RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY

SEED_REGIONS: tuple[SeedRegion, ...] = (
    SeedRegion("410000", "河南省", _P, None, 99_365_519),
    SeedRegion("411200", "三门峡市", _C, "410000", 2_034_872),
    SeedRegion("411202", "湖滨区", _X, "411200", 337_058),
    SeedRegion("411203", "陕州区", _X, "411200", 326_184),
    SeedRegion("411221", "渑池县", _X, "411200", 317_221),
    SeedRegion("411224", "卢氏县", _X, "411200", 318_146),
    SeedRegion("411281", "义马市", _X, "411200", 140_140),
    SeedRegion("411282", "灵宝市", _X, "411200", 596_123),
    SeedRegion("510000", "四川省", _P, None, 83_674_866),
    SeedRegion("510100", "成都市", _C, "510000", 20_937_757),
    SeedRegion("510104", "锦江区", _X, "510100", 902_933),
    SeedRegion("510105", "青羊区", _X, "510100", 955_954),
    SeedRegion("510106", "金牛区", _X, "510100", 1_265_398),
    SeedRegion("510107", "武侯区", _X, "510100", 1_205_710),
    SeedRegion("510108", "成华区", _X, "510100", 1_381_894),
    SeedRegion("510112", "龙泉驿区", _X, "510100", 1_346_210),
    SeedRegion("510113", "青白江区", _X, "510100", 490_091),
    SeedRegion("510114", "新都区", _X, "510100", 1_558_466),
    SeedRegion("510115", "温江区", _X, "510100", 967_868),
    SeedRegion("510116", "双流区", _X, "510100", 1_465_785),
    SeedRegion("510117", "郫都区", _X, "510100", 1_391_399),
    SeedRegion("510118", "新津区", _X, "510100", 363_591),
    SeedRegion("510121", "金堂县", _X, "510100", 800_371),
    SeedRegion("510129", "大邑县", _X, "510100", 515_962),
    SeedRegion("510131", "蒲江县", _X, "510100", 255_563),
    SeedRegion("510181", "都江堰市", _X, "510100", 710_056),
    SeedRegion("510182", "彭州市", _X, "510100", 780_399),
    SeedRegion("510183", "邛崃市", _X, "510100", 602_973),
    SeedRegion("510184", "崇州市", _X, "510100", 735_723),
    SeedRegion("510185", "简阳市", _X, "510100", 1_112_413),
)

SEED_COUNTIES: tuple[SeedRegion, ...] = tuple(r for r in SEED_REGIONS if r.level is _X)
