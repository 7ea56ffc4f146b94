"""Free-text fragments the clerks of each system write (简要案情, 事件描述, 诉求)."""

from __future__ import annotations

import random

ALERT_STORIES: dict[str, tuple[str, ...]] = {
    "family": ("报警人称其丈夫{other}酒后殴打她",
               "报警人称与丈夫{other}因家务琐事发生争吵，对方动手",
               "报警人称丈夫{other}扬言要打她，请求民警到场",
               "报警人称与家人{other}因赡养问题发生争执"),
    "neighbour": ("报警人称与邻居{other}因{cause}发生纠纷",
                  "报警人称邻居{other}{cause}，双方发生口角"),
    "labour": ("报警人称{other}拖欠其工资未付，现场情绪激动",),
    "debt": ("报警人称{other}欠款不还，双方发生争执",),
    "property_mgmt": ("报警人称与小区物业因{cause}发生纠纷",),
    "traffic": ("报警人称其车辆与{other}的车辆发生剐蹭，双方对责任有争议",),
    "consumer": ("报警人称在商店购物与店主{other}发生纠纷",),
    "theft": ("报警人称其家中财物被盗", "报警人称其停放在楼下的电动车被盗"),
    "fraud": ("报警人称接到自称客服的电话被骗转账",),
    "assault": ("报警人称被{other}殴打致轻微伤",),
    "help": ("报警人称家中老人走失，请求帮助寻找", "报警人称钥匙反锁在屋内，请求帮助"),
}
NEIGHBOUR_CAUSES = ("楼上漏水", "噪音扰民", "占用公共通道", "楼道堆放杂物", "宅基地界址",
                    "排水沟堵塞", "饲养宠物", "违章搭建遮挡采光")
PROPERTY_CAUSES = ("物业费收取", "电梯长期故障", "停车位管理", "小区绿化被毁", "公共收益分配")

GRID_CONTENT: dict[str, str] = {
    "family": "网格员走访发现{name}家庭因琐事矛盾激化，需跟进化解",
    "neighbour": "{name}反映与邻居因{cause}发生矛盾，双方多次争吵",
    "property_mgmt": "{name}等居民反映{cause}问题，与物业公司发生矛盾",
    "labour": "{name}反映被拖欠工资",
    "land": "{name}反映与他人因承包地界址发生争议",
    "housing": "{name}反映与邻居因宅基地使用发生争议",
    "consumer": "{name}反映购买商品存在质量问题，商家拒绝退换",
    "other": "{name}反映矛盾纠纷，请求协调",
    "safety": "网格巡查发现楼道电动车违规充电，存在安全隐患",
    "sanitation": "网格巡查发现背街小巷垃圾堆积，影响环境卫生",
    "facility": "网格巡查发现小区路灯损坏，需维修",
}
MEDIATION_DESCRIPTIONS: dict[str, str] = {
    "family": "双方系家庭成员，因{cause}产生矛盾，申请人请求调解",
    "neighbour": "双方系邻居，因{cause}产生矛盾，多次协商未果",
    "labour": "申请人在被申请人处务工，被申请人拖欠工资，申请人请求支付",
    "property_mgmt": "申请人系小区业主，与被申请人因{cause}产生纠纷",
}
PETITION_DEMANDS: dict[str, str] = {
    "labour": "请求督促{other}支付拖欠的工资",
    "property_mgmt": "请求解决小区{cause}问题",
    "land": "请求确认承包地界址，停止侵占",
    "acquisition": "对征地补偿标准有异议，请求重新核定",
    "environment": "反映附近企业排放异味，请求整治",
    "litigation": "对法院{case}案件处理结果不服，请求复查",
    "neighbour": "请求协调解决与邻居的矛盾",
    "housing": "请求落实保障性住房申请",
    "other": "反映个人困难，请求帮助",
}


def alias(rng: random.Random, surnames: tuple[str, ...]) -> str:
    """Someone named only in free text, as clerks write them: 王某."""
    return rng.choice(surnames) + "某"


def cause_for(rng: random.Random, topic: str) -> str:
    return rng.choice(PROPERTY_CAUSES if topic == "property_mgmt" else NEIGHBOUR_CAUSES)


def describe(template: str, rng: random.Random, topic: str, **names: str) -> str:
    return template.format(cause=cause_for(rng, topic), **names)
