"""The true inhabitants of a world: people with their homes, and companies.

Names come from pools pre-generated once per seed with ``Faker("zh_CN")`` (surnames weighted
as Faker weighs them) so that making a hundred thousand people costs no Faker call each.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker

from sandbox.identifiers import mobile, resident_id, uscc
from sandbox.model import TruePerson
from sandbox.regions import Grid, Village

_MALE_CHARS = ("伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥"
               "才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮")
_FEMALE_CHARS = ("秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣"
                 "爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴")
_INDUSTRIES = ("建筑工程", "建筑劳务", "机械制造", "食品", "服装", "物流", "装饰工程", "商贸",
               "矿业", "农业开发", "电子科技", "餐饮管理")


@dataclass(frozen=True, slots=True)
class NamePools:
    surnames: tuple[str, ...]
    male_given: tuple[str, ...]
    female_given: tuple[str, ...]
    company_prefixes: tuple[str, ...]


@functools.lru_cache(maxsize=8)
def name_pools(seed: int) -> NamePools:
    """Pools drawn once from Faker for ``seed``; people then draw from them with ``random``."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed * 31 + 5)
    male = [fake.first_name_male() for _ in range(300)]
    female = [fake.first_name_female() for _ in range(300)]
    male += [rng.choice(_MALE_CHARS) + rng.choice(_MALE_CHARS) for _ in range(700)]
    female += [rng.choice(_FEMALE_CHARS) + rng.choice(_FEMALE_CHARS) for _ in range(700)]
    return NamePools(surnames=tuple(fake.last_name() for _ in range(3000)),
                     male_given=tuple(male), female_given=tuple(female),
                     company_prefixes=tuple(fake.company_prefix() for _ in range(400)))


@dataclass(frozen=True, slots=True)
class Address:
    """A home or business address; rendered differently by each system (see ``noise``)."""

    village: Village
    grid: Grid
    street: str
    """Urban only: the street (路/街); empty in a village, where the 村民小组 ``group`` counts."""
    number: int
    group: int
    building: int
    unit: int
    room: int

    @property
    def canonical(self) -> str:
        v = self.village
        t = v.township
        c = t.county
        head = f"{c.province}{c.city}{c.name}{t.name}{v.name}"
        if v.urban:
            return (f"{head}{self.street}{self.number}号{self.building}号楼{self.unit}单元"
                    f"{self.room}室")
        return f"{head}{self.group}组{self.number}号"


@dataclass(frozen=True, slots=True)
class Person:
    person_id: str
    name: str
    male: bool
    birth: date
    id_number: str
    phones: tuple[str, ...]
    home: Address

    def truth(self) -> TruePerson:
        return TruePerson(self.person_id, "person", self.name, self.id_number, self.phones,
                          self.home.canonical)


@dataclass(frozen=True, slots=True)
class Organisation:
    """A company (用人单位, 物业公司 …) that is a party to a dispute (法人当事人)."""

    person_id: str
    name: str
    id_number: str
    """Its 统一社会信用代码 (USCC); it stands where a person's ID number would."""
    phones: tuple[str, ...]
    home: Address
    representative: str
    male: bool = True

    def truth(self) -> TruePerson:
        return TruePerson(self.person_id, "organisation", self.name, self.id_number, self.phones,
                          self.home.canonical)


Party = Person | Organisation


def _trade_names(prefixes: tuple[str, ...], drawn: int) -> Iterator[str]:
    """字号 to try for a company, from the drawn prefix on, without drawing again (later draws
    stay put): each prefix, then two joined (Faker has only about 80), for a city with more
    companies of one trade than that."""
    count = len(prefixes)
    yield from (prefixes[(drawn + step) % count] for step in range(count))
    for gap in range(1, count):
        for step in range(count):
            first, second = prefixes[(drawn + step) % count], prefixes[(drawn + step + gap) % count]
            if first != second:
                yield first + second


@dataclass(slots=True)
class PeopleFactory:
    """Makes new people and companies; ids continue from ``next_person``/``next_org``."""

    rng: random.Random
    pools: NamePools
    today: date
    next_person: int = 1
    next_org: int = 1
    id_numbers: set[str] = field(default_factory=set)
    company_names: set[str] = field(default_factory=set)
    """Registered names so far: one registration authority never registers a name twice
    (企业名称登记管理规定), so a drawn name already taken gets the next free 字号."""
    phone_numbers: set[str] = field(default_factory=set)

    def address(self, village: Village, near: Address | None = None) -> Address:
        rng = self.rng
        if near is not None:
            return Address(near.village, near.grid, near.street,
                           max(1, near.number + rng.choice((-1, 0, 1))), near.group,
                           near.building, rng.randint(1, 4), rng.choice((101, 201, 301, 402)))
        return Address(village, rng.choice(village.grids),
                       rng.choice(village.streets) if village.urban else "",
                       rng.randint(1, 260), rng.randint(1, 12), rng.randint(1, 20),
                       rng.randint(1, 6), rng.randint(1, 18) * 100 + rng.randint(1, 4))

    def phone(self) -> str:
        number = mobile(self.rng)
        while number in self.phone_numbers:
            number = mobile(self.rng)
        self.phone_numbers.add(number)
        return number

    def person(self, village: Village, *, near: Address | None = None, male: bool | None = None,
               surname: str | None = None, ages: tuple[int, int] = (18, 80)) -> Person:
        rng = self.rng
        male = rng.random() < 0.5 if male is None else male
        given = rng.choice(self.pools.male_given if male else self.pools.female_given)
        name = (surname or rng.choice(self.pools.surnames)) + given
        birth = self.today - timedelta(days=rng.randint(ages[0] * 365 + 5, ages[1] * 365))
        county = village.township.county.code
        seq = rng.randrange(500)
        id_number = resident_id(county, birth, seq, male)
        while id_number in self.id_numbers:
            seq += 1
            id_number = resident_id(county, birth, seq, male)
        self.id_numbers.add(id_number)
        phones = (self.phone(), self.phone()) if rng.random() < 0.3 else (self.phone(),)
        person_id = f"P{self.next_person:07d}"
        self.next_person += 1
        return Person(person_id, name, male, birth, id_number, phones,
                      self.address(village, near))

    def company(self, village: Village, kind: str = "employer") -> Organisation:
        rng = self.rng
        county = village.township.county
        city = county.city.removesuffix("市")
        industry = "物业服务" if kind == "property" else rng.choice(_INDUSTRIES)
        prefixes = self.pools.company_prefixes
        drawn = prefixes.index(rng.choice(prefixes))
        name = next(n for n in (f"{city}{trade}{industry}有限公司" for trade in
                                _trade_names(prefixes, drawn)) if n not in self.company_names)
        self.company_names.add(name)
        representative = rng.choice(self.pools.surnames) + rng.choice(self.pools.male_given)
        org_id = f"O{self.next_org:06d}"
        self.next_org += 1
        return Organisation(org_id, name, uscc(rng, "91", county.code), (self.phone(),),
                            self.address(village), representative)
