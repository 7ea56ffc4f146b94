"""The region tree below the seeded counties, and the public bodies that serve it.

Townships (乡镇/街道, 9 digits = county + 3), villages/communities (村/社区居委会, 12 digits =
township + 3) and grids (网格, 15 digits = village + 3). Every township has its people's
mediation committee (人民调解委员会) and police station (派出所); every county its court
(人民法院) and petition bureau (信访局). Built from the seed alone, so a world and its
later mutations see the same tree.
"""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import dataclass

from domain.divisions import SEED_COUNTIES, SEED_REGIONS
from domain.enums import RegionLevel
from sandbox.identifiers import mobile, uscc
from sandbox.model import GeneratedRegion

_REAL_TOWNSHIPS: dict[str, tuple[str, ...]] = {
    "411202": ("湖滨街道", "车站街道", "前进街道", "涧河街道", "崖底街道", "会兴街道",
               "交口乡", "磁钟乡", "高庙乡"),
    "510129": ("晋原街道", "沙渠街道", "王泗镇", "新场镇", "悦来镇", "安仁镇", "出江镇",
               "花水湾镇", "西岭镇", "斜源镇", "鹤鸣镇"),
}


def _pairs(text: str) -> tuple[str, ...]:
    return tuple(text[i:i + 2] for i in range(0, len(text), 2))


_PLACE_WORDS = _pairs(
    "城关东城西城南关北关新华和平建设红旗向阳青龙白马石桥龙泉凤凰金山银河清水"
    "长安永乐太平兴隆柳林杨庄古城河口大营双桥三里五里七里高店马头官庄朱阳五亩"
    "阳平故县焦村苏村川口寺河尹庄花园桃源金桥水口黄龙白鹤望江锦城玉林红光九里"
    "文昌东风胜利团结光明幸福振兴平安福田仁和安乐德胜临河西坡东坡南岭北塬"
)
_STREET_WORDS = _pairs(
    "建设和平解放人民黄河崤山六峰文明团结五一新华中山东风迎宾滨河育才青年光明"
    "朝阳长江府南锦绣红星春熙芙蓉永丰科华蜀汉抚琴玉沙盐市华兴双林致民"
)
_VILLAGE_SUFFIXES = ("庄", "营", "寨", "沟", "湾", "坪", "店", "河", "家")
_SURNAME_CHARS = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
_MEDIATOR_GIVEN = _pairs(
    "秀兰建国国强红梅桂英志刚丽英华英军英玉兰海燕文华建华明英晓燕德明淑芬"
)
_CITY_CENTRES = {"411200": (111.20, 34.77, 0.9, 0.45), "510100": (104.07, 30.66, 0.45, 0.35)}


@dataclass(frozen=True, slots=True)
class County:
    code: str
    name: str
    city: str
    province: str
    lng: float
    lat: float
    weight: float
    court: str
    court_code: str
    """The court's 法院代字 used inside a 案号, e.g. 豫1202 or 川0129."""
    court_uscc: str
    petition_bureau: str


@dataclass(frozen=True, slots=True)
class Township:
    code: str
    name: str
    county: County
    committee: str
    committee_uscc: str
    police_station: str
    mediators: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Grid:
    code: str
    name: str
    lng: float
    lat: float
    worker_phone: str


@dataclass(frozen=True, slots=True)
class Village:
    code: str
    name: str
    township: Township
    urban: bool
    streets: tuple[str, ...]
    grids: tuple[Grid, ...]


@dataclass(frozen=True, slots=True)
class RegionTree:
    regions: tuple[GeneratedRegion, ...]
    counties: tuple[County, ...]
    villages: tuple[Village, ...]
    village_cum_weights: tuple[float, ...]


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    scale = total / sum(weights)
    return [max(50, int(w * scale)) for w in weights]


def _county(rng: random.Random, code: str, name: str, population: int) -> County:
    city_region = next(r for r in SEED_REGIONS if r.code == code[:4] + "00")
    province = next(r for r in SEED_REGIONS if r.code == code[:2] + "0000")
    lng0, lat0, dlng, dlat = _CITY_CENTRES[city_region.code]
    abbr = "豫" if code.startswith("41") else "川"
    court = f"{city_region.name}{name}人民法院" if name.endswith("区") else f"{name}人民法院"
    return County(code=code, name=name, city=city_region.name, province=province.name,
                  lng=round(lng0 + rng.uniform(-dlng, dlng), 4),
                  lat=round(lat0 + rng.uniform(-dlat, dlat), 4),
                  weight=population ** 0.6, court=court, court_code=f"{abbr}{code[2:]}",
                  court_uscc=uscc(rng, "11", code), petition_bureau=f"{name}信访局")


def _township_names(rng: random.Random, county_code: str, county_name: str) -> list[str]:
    if county_code in _REAL_TOWNSHIPS:
        return list(_REAL_TOWNSHIPS[county_code])
    count = rng.randint(6, 12)
    words = rng.sample(_PLACE_WORDS, count)
    streets = rng.randint(3, 6) if county_name.endswith("区") else rng.randint(1, 3)
    return [w + ("街道" if i < streets else "乡" if i >= count - 1 and i > streets else "镇")
            for i, w in enumerate(words)]


def _village_names(rng: random.Random, count: int, urban: bool) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        if urban:
            name = rng.choice(_PLACE_WORDS) + rng.choice(("", "路", "里", "苑", "园")) + "社区"
        else:
            name = rng.choice(_SURNAME_CHARS) + rng.choice(_VILLAGE_SUFFIXES) + "村"
        if name not in names:
            names.append(name)
    return names


@functools.lru_cache(maxsize=8)
def build_region_tree(seed: int) -> RegionTree:
    """The townships, villages and grids for ``seed`` (independent of the world's scale)."""
    rng = random.Random(seed * 7919 + 11)
    regions: list[GeneratedRegion] = []
    counties: list[County] = []
    villages: list[Village] = []
    weights: list[float] = []
    for seed_county in SEED_COUNTIES:
        county = _county(rng, seed_county.code, seed_county.name, seed_county.population)
        counties.append(county)
        names = _township_names(rng, county.code, county.name)
        for t_index, (t_name, t_pop) in enumerate(
                zip(names, _split(rng, seed_county.population, len(names)), strict=True), 1):
            t_code = f"{county.code}{t_index:03d}"
            short = t_name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
            township = Township(
                code=t_code, name=t_name, county=county, committee=f"{t_name}人民调解委员会",
                committee_uscc=uscc(rng, "Y1", county.code),
                police_station=f"{county.name}公安局{short}派出所",
                mediators=tuple(rng.choice(_SURNAME_CHARS) + rng.choice(_MEDIATOR_GIVEN)
                                for _ in range(3)))
            regions.append(GeneratedRegion(t_code, t_name, RegionLevel.TOWNSHIP, county.code,
                                           t_pop))
            urban = t_name.endswith("街道")
            v_count = rng.randint(4, 10)
            t_lng = county.lng + rng.uniform(-0.12, 0.12)
            t_lat = county.lat + rng.uniform(-0.08, 0.08)
            for v_index, (v_name, v_pop) in enumerate(zip(
                    _village_names(rng, v_count, urban), _split(rng, t_pop, v_count),
                    strict=True), 1):
                v_code = f"{t_code}{v_index:03d}"
                regions.append(GeneratedRegion(v_code, v_name, RegionLevel.VILLAGE, t_code,
                                               v_pop))
                g_count = rng.randint(2, 5)
                grids = []
                for g_index, g_pop in enumerate(_split(rng, v_pop, g_count), 1):
                    g_code = f"{v_code}{g_index:03d}"
                    g_name = f"{v_name}第{g_index}网格"
                    regions.append(GeneratedRegion(g_code, g_name, RegionLevel.GRID, v_code,
                                                   g_pop))
                    grids.append(Grid(g_code, g_name, round(t_lng + rng.uniform(-0.03, 0.03), 6),
                                      round(t_lat + rng.uniform(-0.03, 0.03), 6), mobile(rng)))
                streets = tuple(rng.sample(_STREET_WORDS, 3)) if urban else ()
                suffixed = tuple(s + rng.choice(("路", "街", "大道")) for s in streets)
                villages.append(Village(v_code, v_name, township, urban, suffixed, tuple(grids)))
                weights.append(county.weight * v_pop / seed_county.population)
    return RegionTree(tuple(regions), tuple(counties), tuple(villages),
                      tuple(itertools.accumulate(weights)))
