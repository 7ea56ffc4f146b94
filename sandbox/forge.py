"""The workbench the storylines build a world on: randomness, people, keys and the
ledger of records with their ground truth.

A :class:`Forge` is made fresh by ``generate_world`` and re-made from an existing world by
``mutate_world`` (``Forge.resume``), so both append to the same world the same way.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from domain.enums import RiskLevel, SourceSystem
from sandbox.identifiers import resident_id
from sandbox.model import PartyTruth, RecordTruth, RiskTruth, SourceRecord, World
from sandbox.people import Address, Party, PeopleFactory, Person, name_pools
from sandbox.regions import Grid, RegionTree, Village, build_region_tree

HISTORY_DAYS = 730
"""Records occur in the two years before the world's ``now``."""


@dataclass(frozen=True, slots=True)
class Matter:
    matter_id: str
    storyline: str


@dataclass(slots=True)
class KeyBook:
    """Hands out each system's keys: a running number per scope, skipping keys in use."""

    used: dict[SourceSystem, set[str]]
    counters: dict[str, int] = field(default_factory=dict)

    def next(self, system: SourceSystem, scope: str, render: Callable[[int], str]) -> str:
        used = self.used[system]
        n = self.counters.get(scope, 0)
        while True:
            n += 1
            key = render(n)
            if key not in used:
                self.counters[scope] = n
                used.add(key)
                return key


@dataclass(slots=True)
class Forge:
    world: World
    rng: random.Random
    tree: RegionTree
    factory: PeopleFactory
    keys: KeyBook
    window: tuple[datetime, datetime]
    """Where new storylines start (earliest, latest); statuses never pass the latest."""
    next_matter: int = 1
    cast: list[Person] = field(default_factory=list)
    """Everyone made so far, so that a few people turn up in unrelated matters."""
    workers: dict[str, Person] = field(default_factory=dict)
    villages_by_county: dict[str, list[Village]] = field(default_factory=dict)

    @classmethod
    def start(cls, world: World) -> Forge:
        tree = build_region_tree(world.seed)
        world.regions = list(tree.regions)
        return cls._make(world, random.Random(world.seed), tree, 1, 1, 1,
                         (world.now - timedelta(days=HISTORY_DAYS), world.now))

    @classmethod
    def resume(cls, world: World, rng: random.Random, at: datetime) -> Forge:
        ids = world.people.keys()
        matters = {t.matter_id for t in world.truth.values()}
        forge = cls._make(world, rng, build_region_tree(world.seed),
                          1 + sum(1 for i in ids if i[0] == "P"),
                          1 + sum(1 for i in ids if i[0] == "O"), 1 + len(matters),
                          (at - timedelta(hours=20), at))
        for person in world.people.values():
            forge.factory.id_numbers.add(person.id_number)
            forge.factory.phone_numbers.update(person.phones)
            if person.kind == "organisation":
                forge.factory.company_names.add(person.name)
        return forge

    @classmethod
    def _make(cls, world: World, rng: random.Random, tree: RegionTree, next_person: int,
              next_org: int, next_matter: int, window: tuple[datetime, datetime]) -> Forge:
        factory = PeopleFactory(rng, name_pools(world.seed), world.now.date(), next_person,
                                next_org)
        keys = KeyBook({s: {r.key for r in world.records[s]} for s in SourceSystem})
        by_county: dict[str, list[Village]] = {}
        for village in tree.villages:
            by_county.setdefault(village.township.county.code, []).append(village)
        return cls(world, rng, tree, factory, keys, window, next_matter,
                   villages_by_county=by_county)

    # --- choosing -------------------------------------------------------------------------
    def matter(self, storyline: str) -> Matter:
        matter = Matter(f"M{self.next_matter:07d}", storyline)
        self.next_matter += 1
        return matter

    def grade(self, matter: Matter, level: RiskLevel, visible_at: datetime, why: str) -> None:
        """Record the grade a careful analyst would give ``matter`` (风险真值)."""
        self.world.risk[matter.matter_id] = RiskTruth(level, visible_at, why)

    def village(self, urban: bool | None = None) -> Village:
        tree = self.tree
        while True:
            point = self.rng.random() * tree.village_cum_weights[-1]
            village = tree.villages[bisect.bisect_right(tree.village_cum_weights, point)]
            if urban is None or village.urban == urban:
                return village

    def neighbour_village(self, village: Village) -> Village:
        return self.rng.choice(self.villages_by_county[village.township.county.code])

    def person(self, village: Village, *, reuse: float = 0.0, **kwargs: Any) -> Person:
        if self.cast and self.rng.random() < reuse:
            return self.rng.choice(self.cast)
        person = self.factory.person(village, **kwargs)
        self.cast.append(person)
        return person

    def worker(self, grid: Grid, village: Village) -> Person:
        """The grid's 网格员: the same person for every event of the grid, in any run."""
        if grid.code not in self.workers:
            rng = random.Random(int(grid.code) * 131 + self.world.seed)
            pools = self.factory.pools
            male = rng.random() < 0.4
            given = rng.choice(pools.male_given if male else pools.female_given)
            birth = self.factory.today - timedelta(days=rng.randint(25 * 365, 55 * 365))
            id_number = resident_id(village.township.county.code, birth, rng.randrange(500), male)
            home = Address(village, grid, village.streets[0] if village.urban else "",
                           rng.randint(1, 99), 1, 1, 1, 101)
            self.workers[grid.code] = Person(f"W{grid.code}", rng.choice(pools.surnames) + given,
                                             male, birth, id_number, (grid.worker_phone,), home)
        return self.workers[grid.code]

    def instant(self, earliest: datetime, latest: datetime) -> datetime:
        span = int((latest - earliest).total_seconds())
        return earliest + timedelta(seconds=self.rng.randint(0, max(span, 0)))

    def start_time(self, room_days: int = 0) -> datetime:
        """When a storyline starts, leaving ``room_days`` for its later steps where possible."""
        earliest, latest = self.window
        latest_start = max(earliest, latest - timedelta(days=room_days))
        return self.instant(earliest, latest_start)

    def later(self, moment: datetime, min_hours: float, max_hours: float) -> datetime:
        step = timedelta(seconds=self.rng.randint(int(min_hours * 3600), int(max_hours * 3600)))
        return min(moment + step, self.window[1])

    @property
    def latest(self) -> datetime:
        return self.window[1]

    def millis(self, moment: datetime) -> datetime:
        return min(moment + timedelta(milliseconds=self.rng.randint(0, 999)), self.latest)

    # --- recording ------------------------------------------------------------------------
    def emit(self, system: SourceSystem, key: str, payload: dict[str, Any],
             updated_at: datetime, matter: Matter, parties: Sequence[tuple[Party, str]],
             *, export_day: date | None = None, version: int = 1, deleted: bool = False,
             first_payload: dict[str, Any] | None = None) -> SourceRecord:
        record = SourceRecord(system, key, updated_at, payload, version, deleted, export_day,
                              first_payload)
        self.world.records[system].append(record)
        self.world.truth[(system, key)] = RecordTruth(
            system, key, matter.matter_id, matter.storyline,
            [PartyTruth(party.person_id, role) for party, role in parties])
        people = self.world.people
        for party, _ in parties:
            if party.person_id not in people:
                people[party.person_id] = party.truth()
        return record

