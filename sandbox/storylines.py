"""Matters that cross systems (跨系统事项), each with one truth matter id.

- ``neighbour_quarrel``: 110 alert → grid event → mediation (alertNo) → agreement → judicial
  confirmation at the county court (民特 or 诉前调确, mediationCaseNo).
- ``domestic_repeat``: 3–5 家庭纠纷 alerts at one address over weeks (民转刑 warning sign).
- ``wage_arrears``: 3–12 workers vs a company → mediation fails → group petition (关联案号
  often the mediation caseNo) → court filings, one per worker or a few groups.
- ``property_dispute``: grid event → mediation between residents and the 物业 company.
- ``mediation_to_lawsuit``: failed mediation → 民初 lawsuit with the same parties.
- ``litigation_petition``: a decided 民初 case → a 涉法涉诉 petition citing its 案号.
- ``grid_to_court``: a grid event the 网格员 hands to the township committee (still 处置中 at
  the grid) → the mediation fails → the county court's 诉前调解 (mediationCaseNo) succeeds.
"""

from __future__ import annotations

from domain.enums import RiskLevel
from sandbox.alerts import grid_event, petition, police_alert
from sandbox.casefiles import court_case, mediation_case
from sandbox.codes import COURT_CAUSES
from sandbox.forge import Forge
from sandbox.people import Party
from sandbox.texts import (
    ALERT_STORIES,
    GRID_CONTENT,
    MEDIATION_DESCRIPTIONS,
    PETITION_DEMANDS,
    describe,
)


def neighbour_quarrel(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("neighbour_quarrel")
    village = f.village()
    a = f.person(village)
    b = f.person(village, near=a.home)
    county = village.township.county
    t0 = f.start_time(room_days=90)
    story = describe(rng.choice(ALERT_STORIES["neighbour"]), rng, "neighbour",
                     other=b.name[0] + "某")
    alert = police_alert(f, matter, a, a.home, "neighbour", t0, story=story)
    t1 = f.later(t0, 12, 72)
    grid_event(f, matter, [a, b], a.home, "neighbour", t1, final_status="04",
               content=describe(GRID_CONTENT["neighbour"], rng, "neighbour", name=a.name))
    confirm_as = rng.choice(("民特", "民特", "诉前调确")) if rng.random() < 0.8 else None
    mediation, confirmation = mediation_case(
        f, matter, [a], [b], "neighbour", t0, a.home, outcome="success",
        description=describe(MEDIATION_DESCRIPTIONS["neighbour"], rng, "neighbour"),
        amount=float(rng.randint(0, 50) * 100), alert_no=alert.key, confirm_as=confirm_as,
        accepted=f.later(t1, 24, 24 * 6))
    if confirmation is not None:
        agreement = mediation.payload["agreement"]
        court_case(f, matter, [a], [b], "neighbour", confirmation.applied, county,
                   case_type=confirmation.case_type, case_no=confirmation.case_no,
                   mediation_case_no=mediation.key, amount=float(agreement["amount"]),
                   decided=confirmation.confirmed)


def domestic_repeat(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("domestic_repeat")
    village = f.village()
    victim = f.person(village, male=False, ages=(22, 60))
    husband = victim.name[0] if rng.random() < 0.1 else rng.choice(f.factory.pools.surnames)
    neighbour: Party | None = None
    count = rng.randint(3, 5)
    moment = f.start_time(room_days=count * 25)
    usual_address = None
    for call in range(count):
        caller: Party = victim
        if rng.random() < 0.15:
            neighbour = neighbour or f.person(village, near=victim.home)
            caller = neighbour
        story = rng.choice(ALERT_STORIES["family"]).format(other=husband + "某")
        text = usual_address if usual_address and rng.random() < 0.7 else None
        alert = police_alert(f, matter, caller, victim.home, "family", moment, story=story,
                             address_text=text)
        usual_address = usual_address or str(alert.payload["FSDZ"])
        if call == 2:  # the third call to one home: 民转刑 warning
            f.grade(matter, RiskLevel.RED, moment, "同一住址多次家庭纠纷报警")
        moment = f.later(moment, 24 * 4, 24 * 25)


def wage_arrears(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("wage_arrears")
    village = f.village()
    county = village.township.county
    company = f.factory.company(village)
    workers: list[Party] = [
        f.person(f.neighbour_village(village), male=rng.random() < 0.75, ages=(20, 58))
        for _ in range(rng.randint(3, 12))]
    wages = [float(rng.randint(20, 300) * 100) for _ in workers]
    mediation, _ = mediation_case(
        f, matter, workers, [company], "labour", f.start_time(room_days=200), company.home,
        outcome="failed", description=MEDIATION_DESCRIPTIONS["labour"], amount=sum(wages))
    if mediation.payload["status"] != "调解失败":
        if sum(wages) >= 50000 or len(workers) >= 10:
            f.grade(matter, RiskLevel.YELLOW, mediation.updated_at, "多人欠薪，调解未结")
        return
    t_petition = f.later(mediation.updated_at, 24 * 2, 24 * 30)
    f.grade(matter, RiskLevel.RED, t_petition, "欠薪调解失败后集体信访")
    petition(f, matter, workers[:5], len(workers), "labour", t_petition, company.home,
             demand=PETITION_DEMANDS["labour"].format(other=company.name),
             related_case=mediation.key if rng.random() < 0.6 else "",
             handler=f"{county.name}人力资源和社会保障局")
    t_court = f.later(t_petition, 24 * 10, 24 * 60)
    cite = mediation.key if rng.random() < 0.5 else None
    if rng.random() < 0.5:
        groups = [[i] for i in range(len(workers))]
    else:
        size = max(1, len(workers) // rng.randint(1, 3))
        groups = [list(range(i, min(i + size, len(workers))))
                  for i in range(0, len(workers), size)]
    for group in groups:
        court_case(f, matter, [workers[i] for i in group], [company], "labour",
                   f.later(t_court, 0, 72), county, mediation_case_no=cite,
                   amount=sum(wages[i] for i in group))


def property_dispute(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("property_dispute")
    village = f.village(urban=True)
    company = f.factory.company(village, "property")
    first = f.person(village)
    residents: list[Party] = [first, *(f.person(village, near=first.home)
                                       for _ in range(rng.randint(0, 2)))]
    t0 = f.start_time(room_days=60)
    content = describe(GRID_CONTENT["property_mgmt"], rng, "property_mgmt", name=first.name)
    grid_event(f, matter, [*residents, company], first.home, "property_mgmt", t0,
               content=content, final_status="04")
    mediation_case(f, matter, residents, [company], "property_mgmt", t0, first.home,
                   outcome="success" if rng.random() < 0.6 else "failed",
                   description=describe(MEDIATION_DESCRIPTIONS["property_mgmt"], rng,
                                        "property_mgmt"),
                   amount=float(rng.randint(5, 80) * 100), accepted=f.later(t0, 24, 24 * 8))


def mediation_to_lawsuit(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("mediation_to_lawsuit")
    topic = rng.choice(("debt", "contract", "damages", "housing", "family", "traffic"))
    village = f.village()
    a = f.person(village)
    b: Party = (f.person(village, near=a.home) if topic in ("housing", "family")
                else f.factory.company(village) if topic == "contract" and rng.random() < 0.3
                else f.person(f.neighbour_village(village)))
    amount = float(rng.randint(20, 2000) * 100)
    mediation, _ = mediation_case(
        f, matter, [a], [b], topic, f.start_time(room_days=200), a.home, outcome="failed",
        description=f"双方因{COURT_CAUSES[topic].removesuffix('纠纷')}问题多次协商未果，申请人请求调解",
        amount=amount)
    if mediation.payload["status"] != "调解失败":
        return
    filed = f.later(mediation.updated_at, 24 * 7, 24 * 60)
    court_case(f, matter, [a], [b], topic, filed, village.township.county,
               mediation_case_no=mediation.key, amount=amount)
    f.grade(matter, RiskLevel.YELLOW, filed, "调解失败后起诉")


def litigation_petition(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("litigation_petition")
    village = f.village()
    a = f.person(village)
    b = f.person(f.neighbour_village(village))
    case = court_case(f, matter, [a], [b], "debt", f.start_time(room_days=200),
                      village.township.county, amount=float(rng.randint(50, 3000) * 100))
    if case.payload["status"] != "已结案":
        return
    cited = case.key if rng.random() < 0.5 else case.key.replace("(", "（").replace(")", "）")
    petitioner = rng.choice((a, b))
    at, repeat = f.later(case.updated_at, 24 * 5, 24 * 60), rng.randint(0, 3)
    petition(f, matter, [petitioner], 1, "litigation", at, petitioner.home,
             demand=PETITION_DEMANDS["litigation"].format(case=cited), related_case=cited,
             repeat=repeat, handler=village.township.county.court)
    if repeat >= 1:  # 重复信访: a second time YELLOW, a third or more RED
        f.grade(matter, RiskLevel.RED if repeat >= 2 else RiskLevel.YELLOW, at, "涉法涉诉重复信访")


def grid_to_court(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("grid_to_court")
    topic = "neighbour"
    village = f.village()
    a = f.person(village)
    b = f.person(village, near=a.home)
    t0 = f.start_time(room_days=120)
    content = describe(GRID_CONTENT[topic], rng, topic, name=a.name)
    # the 网格员 registers the parties with their ID numbers before handing the dispute on,
    # and the event stays 处置中 at the grid while the committee and the court work on it
    grid_event(f, matter, [a, b], a.home, topic, t0, content=content, final_status="03",
               id_blank=0.05)
    amount = float(rng.randint(10, 300) * 100)
    mediation, _ = mediation_case(
        f, matter, [a], [b], topic, t0, a.home, outcome="failed",
        description=describe(MEDIATION_DESCRIPTIONS[topic], rng, topic),
        amount=amount, accepted=f.later(t0, 24, 24 * 5))
    if mediation.payload["status"] != "调解失败":
        return
    filed = f.later(mediation.updated_at, 24 * 2, 24 * 20)
    court_case(f, matter, [a], [b], topic, filed, village.township.county,
               case_type="诉前调解", mediation_case_no=mediation.key, amount=amount,
               decided=f.later(filed, 24 * 5, 24 * 28), outcome="调解成功")
    f.grade(matter, RiskLevel.YELLOW, filed, "调解失败后转法院诉前调解")
