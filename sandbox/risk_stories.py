"""Escalation storylines with the grade a careful analyst would give (风险研判真值), and decoys
that look alarming to a substring search or a blind counter but are not.

- ``threat_escalation`` (RED): a quarrel brings the police twice; on the second call the other
  side threatens to use a knife or take revenge (民转刑 signs).
- ``self_harm_petition`` (RED): a petition whose demand says the petitioner will jump or burn
  themselves unless it is resolved.
- ``negated_threat`` (decoy, NONE): a quarrel calmed on the spot; the clerk writes that the
  parties will not take revenge and nobody carried a knife.
- ``benign_repeat`` (decoy, NONE): one person calls 110 three or four times in a month for
  help — keys locked in, a parent wandered off, a bicycle stolen.
"""

from __future__ import annotations

from domain.enums import RiskLevel
from sandbox.alerts import grid_event, petition, police_alert
from sandbox.casefiles import mediation_case
from sandbox.forge import Forge
from sandbox.texts import GRID_CONTENT, NEIGHBOUR_CAUSES, describe

THREATS = (
    "报警人称邻居{other}因{cause}与其争吵，对方扬言要拿刀砍死他",
    "报警人称{other}手持菜刀到其家门口叫骂，扬言要报复",
    "报警人称{other}多次上门吵闹，扬言不赔钱就弄死他全家",
)
FIRST_CALLS = (
    "报警人称与邻居{other}因{cause}发生纠纷",
    "报警人称与邻居{other}因{cause}发生口角",
)
SELF_HARM_DEMANDS = (
    "对征地补偿标准有异议，称如不解决将到市政府跳楼",
    "反映承包地被侵占多年未解决，扬言要自焚",
    "请求解决拖欠工程款问题，称再不给钱就喝农药",
)
CALM_CALLS = (
    "报警人称与邻居{other}因{cause}发生口角，民警到场后双方表示不会报复",
    "报警人称与{other}因{cause}发生争执，经查双方并未携带刀具，没有过激行为",
    "报警人称邻居{other}{cause}，双方情绪平稳，当事人否认曾扬言报复",
)
HELP_CALLS = (
    "报警人称钥匙反锁在屋内，请求帮助",
    "报警人称家中老人走失，请求帮助寻找",
    "报警人称其停放在楼下的电动车被盗",
)


def threat_escalation(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("threat_escalation")
    village = f.village()
    caller = f.person(village)
    other = f.person(village, near=caller.home)
    alias_other = other.name[0] + "某"
    t0 = f.start_time(room_days=60)
    first = describe(rng.choice(FIRST_CALLS), rng, "neighbour", other=alias_other)
    police_alert(f, matter, caller, caller.home, "neighbour", t0, story=first)
    t1 = f.later(t0, 24 * 3, 24 * 20)
    threat = rng.choice(THREATS).format(other=alias_other, cause=rng.choice(NEIGHBOUR_CAUSES))
    police_alert(f, matter, caller, caller.home, "neighbour", t1, story=threat)
    f.grade(matter, RiskLevel.RED, t1, "二次报警且对方扬言持刀/报复")
    if rng.random() < 0.6:
        grid_event(f, matter, [caller, other], caller.home, "neighbour", f.later(t1, 12, 72),
                   content=describe(GRID_CONTENT["neighbour"], rng, "neighbour",
                                    name=caller.name))  # fmt: skip


def self_harm_petition(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("self_harm_petition")
    village = f.village()
    petitioner = f.person(village)
    at = f.start_time(room_days=30)
    topic = rng.choice(("acquisition", "land"))
    petition(f, matter, [petitioner], 1, topic, at, petitioner.home,
             demand=rng.choice(SELF_HARM_DEMANDS))
    f.grade(matter, RiskLevel.RED, at, "信访诉求中扬言自伤")


def negated_threat(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("negated_threat")
    village = f.village()
    caller = f.person(village)
    other = f.person(village, near=caller.home)
    t0 = f.start_time(room_days=40)
    story = describe(rng.choice(CALM_CALLS), rng, "neighbour", other=other.name[0] + "某")
    alert = police_alert(f, matter, caller, caller.home, "neighbour", t0, story=story)
    if rng.random() < 0.5:
        mediation_case(f, matter, [caller], [other], "neighbour", t0, caller.home,
                       outcome="success", alert_no=alert.key, amount=0.0,
                       description="双方系邻居，经调解表示不再追究，没有报复想法")  # fmt: skip


def benign_repeat(f: Forge) -> None:
    rng = f.rng
    matter = f.matter("benign_repeat")
    caller = f.person(f.village())
    moment = f.start_time(room_days=40)
    for _ in range(rng.randint(3, 4)):
        story = rng.choice(HELP_CALLS)
        topic = "theft" if "被盗" in story else "help"
        police_alert(f, matter, caller, caller.home, topic, moment, story=story)
        moment = f.later(moment, 24 * 2, 24 * 10)
