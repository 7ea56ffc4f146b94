"""The sandbox's world generator: determinism, validity, storylines, truth, noise, mutation."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from domain.enums import SourceSystem
from domain.validators import parse_case_number, validate_resident_id, validate_uscc
from sandbox.model import World
from sandbox.people import PeopleFactory, name_pools
from sandbox.regions import build_region_tree
from sandbox.world import generate_world, mutate_world, world_fingerprint, write_truth

TODAY = date(2026, 11, 1)
BEIJING = timezone(timedelta(hours=8))
PARTY_FIELDS = {SourceSystem.MEDIATION: ("idNo", "mobile"), SourceSystem.GRID: ("idCard", "phone"),
                SourceSystem.COURT: ("idNumber", "phone")}


@lru_cache(maxsize=2)
def _world(seed: int = 11, scale: int = 1500) -> World:
    return generate_world(seed, scale)


def _id_numbers(world: World) -> list[tuple[str, str]]:
    """(id number, true person id) for every non-empty ID field naming a person."""
    found: list[tuple[str, str]] = []
    for (system, key), truth in world.truth.items():
        record = next(r for r in world.records[system] if r.key == key)
        p = record.payload
        if system is SourceSystem.POLICE_110:
            ids = [p["BJRSFZH"]]
        elif system is SourceSystem.PETITION:
            ids = p["证件号码"].split(";")
        else:
            ids = [party[PARTY_FIELDS[system][0]] for party in p["parties"]]
            if system is SourceSystem.GRID:
                ids = ["", *ids]  # the reporter (上报人) leads the truth's party list
        found += [(i, t.person_id) for i, t in zip(ids, truth.parties, strict=True) if i]
    return found


def _party_count(system: SourceSystem, payload: dict[str, Any]) -> int:
    if system is SourceSystem.POLICE_110:
        return 1
    if system is SourceSystem.PETITION:
        return len(payload["信访人"].split("、"))
    return len(payload["parties"]) + (1 if system is SourceSystem.GRID else 0)


def test_same_seed_gives_the_same_world_and_another_seed_another() -> None:
    first = generate_world(3, 400)
    again = generate_world(3, 400)
    other = generate_world(4, 400)

    assert world_fingerprint(first) == world_fingerprint(again)
    assert world_fingerprint(first) != world_fingerprint(other)
    assert first.now == again.now


def test_scale_is_about_the_number_of_source_records() -> None:
    for scale in (300, 1500):
        world = _world(11, 1500) if scale == 1500 else generate_world(11, scale)
        total = sum(len(records) for records in world.records.values())
        assert scale <= total <= scale + 15
        assert all(world.records[system] for system in SourceSystem)


def test_every_person_id_number_passes_mod_11_2_and_organisations_carry_a_uscc() -> None:
    world = _world()
    ids = _id_numbers(world)
    people = [i for i, pid in ids if not pid.startswith("O")]
    orgs = [i for i, pid in ids if pid.startswith("O")]

    assert len(people) > 500 and orgs
    assert all(validate_resident_id(i, today=TODAY) == i for i in people)
    assert all(validate_uscc(i) == i for i in orgs)
    assert all(world.people[pid].id_number == i for i, pid in ids)


def test_no_two_companies_share_a_registered_name() -> None:
    # one registration authority never registers a name twice (企业名称登记管理规定)
    world = _world()
    companies = [p for p in world.people.values() if p.person_id.startswith("O")]
    assert len(companies) > 50
    assert len({c.name for c in companies}) == len(companies)


def test_company_names_stay_unique_once_every_trade_name_of_a_trade_is_taken() -> None:
    # given one city with more property companies than Faker has trade names (字号, about 80)
    village = build_region_tree(8080).villages[0]
    factory = PeopleFactory(random.Random(8080), name_pools(8080), TODAY)
    # when the factory registers them all
    names = [factory.company(village, "property").name for _ in range(200)]
    # then no name is registered twice, in a world as large as that too
    assert len(set(names)) == len(names)
    world = generate_world(8080, 2500)
    companies = [p.name for p in world.people.values() if p.person_id.startswith("O")]
    assert len(set(companies)) == len(companies)


def test_region_codes_nest_under_the_seeded_counties() -> None:
    world = _world()
    levels = Counter(len(r.code) for r in world.regions)

    assert set(levels) == {9, 12, 15}
    assert all(r.code.startswith(r.parent_code) and r.population > 0 for r in world.regions)
    assert any(r.code == "411202001" and r.name.endswith("街道") for r in world.regions)


def test_every_court_case_number_parses_and_carries_its_courts_code() -> None:
    world = _world()
    for record in world.records[SourceSystem.COURT]:
        case = parse_case_number(record.key, today=TODAY)
        assert case.normalized == record.key
        assert case.court_code == record.payload["courtCode"]
        assert re.fullmatch(r"(豫12|川01)\d\d", case.court_code)


def test_storylines_cross_systems() -> None:
    world = _world()
    mediation_keys = {r.key for r in world.records[SourceSystem.MEDIATION]}
    alert_keys = {r.key for r in world.records[SourceSystem.POLICE_110]}
    cited = [r for r in world.records[SourceSystem.COURT]
             if r.payload["mediationCaseNo"] in mediation_keys]
    from_alerts = [r for r in world.records[SourceSystem.MEDIATION]
                   if r.payload["alertNo"] in alert_keys]
    confirmed = [r for r in cited if r.payload["caseType"] in ("民特", "诉前调确")]

    assert cited and from_alerts and confirmed
    for court in cited:
        mediation_truth = world.truth[(SourceSystem.MEDIATION, court.payload["mediationCaseNo"])]
        assert world.truth[(SourceSystem.COURT, court.key)].matter_id == mediation_truth.matter_id


def test_domestic_storyline_repeats_alerts_at_one_address() -> None:
    world = _world()
    alerts_by_matter: dict[str, list[str]] = defaultdict(list)
    for (system, key), truth in world.truth.items():
        if truth.storyline == "domestic_repeat":
            assert system is SourceSystem.POLICE_110
            alerts_by_matter[truth.matter_id].append(key)
    records = {r.key: r for r in world.records[SourceSystem.POLICE_110]}

    assert alerts_by_matter
    repeated_addresses = 0
    for keys in alerts_by_matter.values():
        assert 3 <= len(keys) <= 5
        assert len({records[k].payload["XZQHDM"] for k in keys}) == 1
        assert all(records[k].payload["JQLXDM"] == "030100" for k in keys)
        addresses = Counter(records[k].payload["FSDZ"] for k in keys)
        repeated_addresses += addresses.most_common(1)[0][1] >= 2
    assert repeated_addresses > 0


def test_wage_arrears_reaches_mediation_petition_and_court() -> None:
    world = _world()
    systems_by_matter: dict[str, set[SourceSystem]] = defaultdict(set)
    for (system, _), truth in world.truth.items():
        if truth.storyline == "wage_arrears":
            systems_by_matter[truth.matter_id].add(system)

    assert any(systems == {SourceSystem.MEDIATION, SourceSystem.PETITION, SourceSystem.COURT}
               for systems in systems_by_matter.values())


def test_grid_to_court_hands_a_grid_event_on_to_mediation_then_to_the_court() -> None:
    world = _world()
    chains: dict[str, dict[SourceSystem, Any]] = defaultdict(dict)
    for system, records in world.records.items():
        for record in records:
            truth = world.truth[(system, record.key)]
            if truth.storyline == "grid_to_court":
                assert system not in chains[truth.matter_id]  # one record per system
                chains[truth.matter_id][system] = record
    complete = [c for c in chains.values() if SourceSystem.COURT in c]

    assert complete and all(SourceSystem.GRID in c and SourceSystem.MEDIATION in c
                            for c in chains.values())
    for chain in complete:
        grid, mediation = chain[SourceSystem.GRID], chain[SourceSystem.MEDIATION]
        court = chain[SourceSystem.COURT].payload
        assert grid.payload["status"] == "03"  # still 处置中 at the grid: it opens a matter
        assert mediation.payload["status"] == "调解失败"
        assert (court["caseType"], court["status"], court["outcome"]) == (
            "诉前调解", "已结案", "调解成功")
        assert court["mediationCaseNo"] == mediation.key
        # the same two people in all three (the grid names its 网格员 too, as reporter)
        people = {s: {p.person_id for p in world.truth[(s, r.key)].parties if p.role != "上报人"}
                  for s, r in chain.items()}
        assert len(people[SourceSystem.MEDIATION]) == 2
        assert people[SourceSystem.GRID] == people[SourceSystem.MEDIATION] == people[
            SourceSystem.COURT]


def test_most_matters_are_singletons() -> None:
    world = _world()
    sizes = Counter(truth.matter_id for truth in world.truth.values())
    singleton_records = sum(1 for n in sizes.values() if n == 1)

    assert singleton_records / len(world.truth) > 0.6


def test_truth_covers_every_record_and_party(tmp_path: Path) -> None:
    world = _world()
    path = tmp_path / "truth.json"
    write_truth(world, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    by_key = {(r["system"], r["key"]): r for r in document["records"]}

    for system, records in world.records.items():
        for record in records:
            entry = by_key[(system.value, record.key)]
            assert len(entry["parties"]) == _party_count(system, record.payload)
            assert all(party["person"] in document["people"] for party in entry["parties"])
            assert entry["matter"].startswith("M") and entry["storyline"]
    assert len(by_key) == sum(len(records) for records in world.records.values())
    assert list(by_key) == sorted(by_key)


def test_mentions_carry_noise_against_the_canonical_person() -> None:
    world = _world()
    differing = 0
    for record in world.records[SourceSystem.MEDIATION]:
        truth = world.truth[(SourceSystem.MEDIATION, record.key)]
        for party, true in zip(record.payload["parties"], truth.parties, strict=True):
            differing += party["name"] != world.people[true.person_id].name
    blank_ids = Counter(r.payload["BJRSFZH"] == "" for r in world.records[SourceSystem.POLICE_110])
    polite = [r for r in world.records[SourceSystem.POLICE_110]
              if r.payload["BJRXM"].endswith(("先生", "女士"))]

    assert differing > 0
    assert 0.7 < blank_ids[True] / sum(blank_ids.values()) < 0.9
    assert polite  # 110 operators often log a caller as 王先生 / 李女士


def test_updated_at_is_what_the_payload_says_and_not_after_now() -> None:
    world = _world()
    for record in world.records[SourceSystem.GRID]:
        moment = record.updated_at
        assert record.payload["updateTime"] == (int(moment.timestamp()) * 1000
                                                + moment.microsecond // 1000)
    for record in world.records[SourceSystem.POLICE_110]:
        assert record.payload["GXSJ"] == record.updated_at.strftime("%Y%m%d%H%M%S")
    for record in world.records[SourceSystem.MEDIATION]:
        assert datetime.fromisoformat(record.payload["updatedAt"]) == record.updated_at
    for record in world.records[SourceSystem.COURT]:
        assert datetime.fromisoformat(record.payload["modifiedAt"]) == record.updated_at
    for record in world.records[SourceSystem.PETITION]:
        stamp = datetime.strptime(record.payload["更新时间"], "%Y-%m-%d %H:%M:%S")
        assert stamp.replace(tzinfo=BEIJING) == record.updated_at
    assert all(r.updated_at <= world.now for rs in world.records.values() for r in rs)


def test_mutations_bump_versions_and_tombstone_mediation_cases() -> None:
    world = generate_world(5, 600)
    rng = random.Random(99)
    at = world.now + timedelta(hours=2)
    before = {s: {r.key: r.version for r in world.records[s]} for s in SourceSystem}
    deleted = 0
    for step in range(8):
        moment = at + timedelta(hours=step)
        for system in SourceSystem:
            changed = mutate_world(world, system, rng, moment, count=5)
            assert changed and all(r.updated_at == moment for r in changed)
            assert all((system, r.key) in world.truth for r in changed)
            updates = [r for r in changed if r.key in before[system]]
            assert all(r.version > before[system][r.key] for r in updates)
            deleted += sum(r.deleted for r in changed if system is SourceSystem.MEDIATION)
            before[system].update({r.key: r.version for r in changed})

    assert deleted > 0
    assert any(v > 1 for versions in before.values() for v in versions.values())


def test_mutation_is_deterministic_for_the_same_rng() -> None:
    worlds = [generate_world(6, 300), generate_world(6, 300)]
    for world in worlds:
        mutate_world(world, SourceSystem.PETITION, random.Random(1), world.now + timedelta(1))

    assert world_fingerprint(worlds[0]) == world_fingerprint(worlds[1])
