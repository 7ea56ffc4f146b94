"""Matters that only one system ever sees — most records, as in reality: a lone 110 alert,
grid event, mediation case, petition or court case."""

from __future__ import annotations

from domain.enums import RiskLevel
from sandbox.alerts import grid_event, petition, police_alert
from sandbox.casefiles import court_case, mediation_case
from sandbox.codes import (
    COURT_LONE_TOPICS,
    COURT_LONE_WEIGHTS,
    GRID_LONE_TOPICS,
    GRID_LONE_WEIGHTS,
    MEDIATION_LONE_TOPICS,
    MEDIATION_LONE_WEIGHTS,
    MEDIATION_TOPIC_TYPES,
    MEDIATION_TYPES,
    PETITION_LONE_TOPICS,
    PETITION_LONE_WEIGHTS,
    POLICE_LONE_TOPICS,
    POLICE_LONE_WEIGHTS,
)
from sandbox.forge import Forge
from sandbox.formats import stamp_update
from sandbox.people import Party, Person
from sandbox.texts import (
    ALERT_STORIES,
    GRID_CONTENT,
    MEDIATION_DESCRIPTIONS,
    PETITION_DEMANDS,
    alias,
    describe,
)

REUSE = 0.04
"""How often a lone matter's party is someone already in the world (linkable across matters)."""
_NEAR_TOPICS = frozenset({"family", "neighbour", "housing", "land"})
_COMPANY_TOPICS = frozenset({"business", "labour", "consumer", "property_mgmt", "environment",
                             "medical", "contract"})
_HANDLERS = {"labour": "人力资源和社会保障局", "property_mgmt": "住房和城乡建设局",
             "land": "农业农村局", "acquisition": "自然资源局", "environment": "生态环境分局"}


def _counterpart(f: Forge, first: Person, topic: str) -> Party:
    """The other side: a neighbour for neighbourly topics, a company for commercial ones."""
    village = first.home.village
    if topic in _NEAR_TOPICS:
        return f.person(village, near=first.home)
    if topic in _COMPANY_TOPICS and f.rng.random() < 0.7:
        return f.factory.company(village, "property" if topic == "property_mgmt" else "employer")
    return f.person(f.neighbour_village(village), reuse=REUSE)


def lone_alert(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("lone_alert")
    caller = f.person(f.village(), reuse=REUSE)
    topic = rng.choices(POLICE_LONE_TOPICS, POLICE_LONE_WEIGHTS)[0]
    story = describe(rng.choice(ALERT_STORIES[topic]), rng, topic,
                     other=alias(rng, f.factory.pools.surnames))
    at = f.start_time()
    police_alert(f, matter, caller, caller.home, topic, at, story=story)
    if "扬言" in story:  # a threat of violence at home: watched (黄)
        f.grade(matter, RiskLevel.YELLOW, at, "家庭纠纷中扬言殴打")


def lone_grid_event(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("lone_grid_event")
    topic = rng.choices(GRID_LONE_TOPICS, GRID_LONE_WEIGHTS)[0]
    village = f.village()
    parties: list[Party] = []
    if topic not in ("safety", "sanitation", "facility"):
        first = f.person(village, reuse=REUSE)
        parties = [first] if rng.random() < 0.4 else [first, _counterpart(f, first, topic)]
    place = parties[0].home if parties else f.factory.address(village)
    content = describe(GRID_CONTENT[topic], rng, topic, name=parties[0].name if parties else "")
    grid_event(f, matter, parties, place, topic, f.start_time(), content=content)


def lone_mediation(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("lone_mediation")
    topic = rng.choices(MEDIATION_LONE_TOPICS, MEDIATION_LONE_WEIGHTS)[0]
    applicant = f.person(f.village(), reuse=REUSE)
    respondent = _counterpart(f, applicant, topic)
    label = MEDIATION_TYPES[MEDIATION_TOPIC_TYPES[topic]]
    template = MEDIATION_DESCRIPTIONS.get(topic, f"双方发生{label}，协商未果，申请人请求调解")
    outcome = rng.choices(("success", "failed", "ended"), (80, 14, 6))[0]
    amount = float(rng.choice((0, 0, 500, 2000, 8000, 30000, 120000)) * rng.uniform(0.5, 1.5))
    record, _ = mediation_case(f, matter, [applicant], [respondent], topic, f.start_time(),
                               applicant.home, outcome=outcome,
                               description=describe(template, rng, topic), amount=amount)
    if amount >= 100000:  # the rubric's 金额 10–100万: watched (黄)
        f.grade(matter, RiskLevel.YELLOW, record.updated_at, "涉案金额10万元以上")
    if rng.random() < 0.01:
        # entered by mistake and deleted later: the platform keeps a tombstone
        record.deleted = True
        stamp_update(record, f.later(record.updated_at, 1, 72))


def lone_petition(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("lone_petition")
    topic = rng.choices(PETITION_LONE_TOPICS, PETITION_LONE_WEIGHTS)[0]
    first = f.person(f.village(), reuse=REUSE * 2)
    head_count = 1 if rng.random() < 0.85 else rng.randint(3, 40)
    reps = [first, *(f.person(first.home.village) for _ in range(min(head_count, 5) - 1))]
    county = first.home.village.township.county
    handler = (county.name + _HANDLERS[topic] if topic in _HANDLERS and rng.random() < 0.6
               else first.home.village.township.name + "人民政府" if rng.random() < 0.3
               else county.petition_bureau)
    demand = describe(PETITION_DEMANDS[topic], rng, topic,
                      other=alias(rng, f.factory.pools.surnames), case="")
    repeat = 0 if rng.random() < 0.7 else rng.randint(1, 6)
    at = f.start_time()
    petition(f, matter, reps, head_count, topic, at, first.home, demand=demand,
             repeat=repeat, handler=handler)
    # the rubric: a third petition or ten people and more 红, a second or five people 黄
    if repeat >= 2 or head_count >= 10:
        f.grade(matter, RiskLevel.RED, at, "重复信访或集体访")
    elif repeat == 1 or head_count >= 5:
        f.grade(matter, RiskLevel.YELLOW, at, "再次信访或多人信访")


def lone_court_case(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("lone_court_case")
    topic = rng.choices(COURT_LONE_TOPICS, COURT_LONE_WEIGHTS)[0]
    first = f.person(f.village(), reuse=REUSE)
    other = _counterpart(f, first, topic)
    plaintiffs: list[Party] = [first]
    defendants: list[Party] = [other]
    if topic == "property_mgmt" and other.person_id.startswith("O"):
        plaintiffs, defendants = [other], [first]  # the 物业 sues an owner for unpaid fees
    case_type = "民初" if rng.random() < 0.85 else "诉前调解"
    amount = float(rng.choice((3000, 10000, 50000, 200000)) * rng.uniform(0.3, 1.5))
    court_case(f, matter, plaintiffs, defendants, topic, f.start_time(),
               first.home.village.township.county, case_type=case_type, amount=amount)
