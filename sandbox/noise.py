"""How each system gets people and places slightly wrong (录入噪声).

Name variants — a homophone (同音字, 张伟→张玮), a traditional character (繁体, 陈→陳) or a
look-alike typo (形近字, 王→玉) — addresses written in each system's habits, the second of a
person's phones, blank ID numbers. The true values live in the world's ground truth.
"""

from __future__ import annotations

import random

from sandbox.people import Address, Party

_HOMOPHONES = dict(zip(
    "伟军丽明平英勇红芳娟敏刚峰磊洋艳霞涛斌波辉健林玲婷兰鹏宇浩亮俊新文志云建东晓静华杰强",
    "玮君莉铭萍瑛永宏方鹃民钢锋蕾阳燕侠韬彬博晖建琳灵亭岚朋雨昊良骏欣雯智芸剑冬小婧桦洁蔷",
    strict=True))
_TRADITIONAL = dict(zip(
    "陈张刘杨黄赵吴孙马郑冯罗韩许邓伟华军丽红刚龙凤兰东国爱飞涛杰辉鹏晓艳静荣贵宝刘叶萧",
    "陳張劉楊黃趙吳孫馬鄭馮羅韓許鄧偉華軍麗紅剛龍鳳蘭東國愛飛濤傑輝鵬曉艷靜榮貴寶劉葉蕭",
    strict=True))
_LOOKALIKE = dict(zip("王未己大土日人天田甲明玉末已太士曰入夫由申朋",
                      "玉末已太士曰入夫由申朋王未己大土日人天田甲明", strict=True))
_FALLBACK = "文明华春晓建国"


def name_variant(rng: random.Random, name: str) -> str:
    """``name`` with one character swapped for a homophone, traditional form or look-alike."""
    tables = [_HOMOPHONES, _TRADITIONAL, _LOOKALIKE]
    rng.shuffle(tables)
    for table in tables:
        spots = [i for i, ch in enumerate(name) if ch in table]
        if spots:
            i = rng.choice(spots)
            return name[:i] + table[name[i]] + name[i + 1:]
    replacement = rng.choice([c for c in _FALLBACK if c != name[-1]])
    return name[:-1] + replacement


def mention_name(rng: random.Random, name: str, rate: float) -> str:
    return name_variant(rng, name) if rng.random() < rate else name


def polite_name(party: Party) -> str:
    """How a 110 operator often logs a caller: surname plus 先生/女士."""
    return party.name[0] + ("先生" if party.male else "女士")


def mention_phone(rng: random.Random, party: Party, second_rate: float, blank_rate: float) -> str:
    if rng.random() < blank_rate:
        return ""
    if len(party.phones) > 1 and rng.random() < second_rate:
        return party.phones[1]
    return party.phones[0]


def mention_id(rng: random.Random, party: Party, blank_rate: float) -> str:
    return "" if rng.random() < blank_rate else party.id_number


def render_address(rng: random.Random, address: Address, styles: tuple[int, ...]) -> str:
    """The address as one clerk would type it; ``styles`` are the habits of one system.

    0 official (区+街道+路+号), 1 city-first with 号院, 2 full (省市区…单元室),
    3 short (路+号+楼-单元-室 / 街道+村+组), 4 approximate (…附近), as 110 logs a scene.
    """
    v = address.village
    t = v.township
    c = t.county
    style = rng.choice(styles)
    if v.urban:
        no = f"{address.street}{address.number}号"
        if style == 0:
            return f"{c.name}{t.name}{no}"
        if style == 1:
            return f"{c.city}{c.name}{no}院"
        if style == 2:
            return (f"{c.province}{c.city}{c.name}{t.name}{v.name}{no}{address.building}号楼"
                    f"{address.unit}单元{address.room}室")
        if style == 3:
            return f"{no}{address.building}-{address.unit}-{address.room}"
        return f"{c.city}{c.name}{t.name}{no}附近"
    group = f"{address.group}组"
    if style == 0:
        return f"{c.name}{t.name}{v.name}{group}{address.number}号"
    if style == 1:
        return f"{c.city}{c.name}{t.name}{v.name}"
    if style == 2:
        return f"{c.province}{c.city}{c.name}{t.name}{v.name}{group}{address.number}号"
    if style == 3:
        return f"{t.name}{v.name}{group}"
    return f"{c.name}{t.name}{v.name}{group}附近"
