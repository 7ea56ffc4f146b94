"""Each legacy system's own code tables (源系统代码表), as documented in sandbox/README.md.

The sandbox writes these codes into payloads; connectors map them onto the unified
``DisputeCategory`` / ``CaseStatus`` in their own data tables. Keys here are the
generator's internal topics ("neighbour", "family", ...), never sent to anyone.
"""

from __future__ import annotations

# --- 110 接处警平台: three-level 警情类别 (JQLBDM / JQLXDM / JQXLDM) ----------------------
POLICE_CATEGORY_NAMES: dict[str, str] = {
    "010000": "刑事案件", "010100": "盗窃", "010101": "入室盗窃", "010102": "盗窃电动车",
    "010200": "诈骗", "010201": "电信网络诈骗",
    "020000": "治安案件", "020100": "殴打他人", "020101": "殴打他人",
    "020200": "扰乱公共秩序", "020201": "噪声扰民",
    "030000": "纠纷", "030100": "家庭纠纷", "030101": "夫妻纠纷", "030102": "家庭成员纠纷",
    "030200": "邻里纠纷", "030201": "相邻关系纠纷", "030202": "邻里口角",
    "030300": "经济纠纷", "030301": "劳资纠纷", "030302": "债务纠纷",
    "030400": "物业纠纷", "030401": "物业服务纠纷",
    "030500": "交通纠纷", "030501": "交通事故纠纷", "030600": "消费纠纷", "030601": "消费纠纷",
    "040000": "群众求助", "040100": "求助", "040101": "群众求助",
    "050000": "交通事故", "050100": "交通事故", "050101": "财产损失事故",
}
"""All three levels in one table: ``XX0000`` 类别, ``XXYY00`` 类型, ``XXYYZZ`` 细类."""

POLICE_TOPIC_CODES: dict[str, tuple[str, ...]] = {
    "family": ("030101", "030102"),
    "neighbour": ("030201", "030202", "020201"),
    "labour": ("030301",),
    "debt": ("030302",),
    "property_mgmt": ("030401",),
    "traffic": ("030501", "050101"),
    "consumer": ("030601",),
    "theft": ("010101", "010102"),
    "fraud": ("010201",),
    "assault": ("020101",),
    "help": ("040101",),
}
POLICE_LONE_TOPICS = ("family", "neighbour", "debt", "traffic", "consumer", "theft", "fraud",
                      "assault", "help", "property_mgmt", "labour")
POLICE_LONE_WEIGHTS = (14, 16, 8, 10, 6, 10, 6, 8, 14, 5, 3)

POLICE_STATES: dict[str, str] = {"1": "已接警", "2": "已派警", "3": "已到场", "4": "已处结"}
"""CJZT 处警状态."""

# --- 网格化服务管理平台 ---------------------------------------------------------------------
GRID_EVENT_TYPES: dict[str, str] = {
    "JF01": "婚姻家庭纠纷", "JF02": "邻里纠纷", "JF03": "物业纠纷", "JF04": "劳资纠纷",
    "JF05": "土地山林纠纷", "JF06": "房屋宅基地纠纷", "JF07": "消费纠纷", "JF99": "其他纠纷",
    "AQ01": "安全隐患", "HJ01": "环境卫生", "SS01": "公共设施损坏",
}
GRID_TOPIC_TYPES: dict[str, str] = {
    "family": "JF01", "neighbour": "JF02", "property_mgmt": "JF03", "labour": "JF04",
    "land": "JF05", "housing": "JF06", "consumer": "JF07", "other": "JF99",
    "safety": "AQ01", "sanitation": "HJ01", "facility": "SS01",
}
GRID_LONE_TOPICS = ("neighbour", "family", "property_mgmt", "land", "housing", "consumer",
                    "other", "safety", "sanitation", "facility")
GRID_LONE_WEIGHTS = (20, 10, 10, 6, 8, 4, 6, 12, 14, 10)
GRID_STATUSES: dict[str, str] = {
    "01": "已上报", "02": "已受理", "03": "处置中", "04": "已办结", "05": "已归档", "06": "已退回",
}

# --- 人民调解信息管理平台: 2-digit 纠纷类型 -------------------------------------------------
MEDIATION_TYPES: dict[str, str] = {
    "01": "婚姻家庭纠纷", "02": "邻里纠纷", "03": "房屋宅基地纠纷", "04": "合同纠纷",
    "05": "生产经营纠纷", "06": "损害赔偿纠纷", "07": "山林土地纠纷", "08": "征地拆迁纠纷",
    "09": "环境污染纠纷", "10": "劳动争议纠纷", "11": "消费纠纷", "12": "医疗纠纷",
    "13": "道路交通事故纠纷", "14": "物业纠纷", "99": "其他纠纷",
}
MEDIATION_TOPIC_TYPES: dict[str, str] = {
    "family": "01", "neighbour": "02", "housing": "03", "contract": "04", "business": "05",
    "damages": "06", "land": "07", "acquisition": "08", "environment": "09", "labour": "10",
    "consumer": "11", "medical": "12", "traffic": "13", "property_mgmt": "14", "other": "99",
    "debt": "04",
}
MEDIATION_LONE_TOPICS = ("family", "neighbour", "housing", "contract", "business", "damages",
                         "land", "acquisition", "environment", "labour", "consumer", "medical",
                         "traffic", "property_mgmt", "other")
MEDIATION_LONE_WEIGHTS = (18, 22, 9, 8, 3, 8, 5, 2, 2, 5, 4, 2, 5, 4, 3)
MEDIATION_STATES = ("受理", "调解中")
"""案件状态 while a case is open."""
MEDIATION_OUTCOMES: dict[str, str] = {"success": "调解成功", "failed": "调解失败", "ended": "终止"}
"""案件状态 of a closed case, by the generator's outcome."""

# --- 信访信息系统 --------------------------------------------------------------------------
PETITION_FORMS = ("来信", "来访", "网上信访", "电话", "传真")
PETITION_FORM_WEIGHTS = (20, 30, 40, 9, 1)
PETITION_TOPIC_CLASSES: dict[str, str] = {
    "labour": "劳动和社会保障/拖欠工资", "property_mgmt": "城乡建设/物业管理",
    "land": "农村农业/土地承包", "acquisition": "城乡建设/征地拆迁",
    "environment": "生态环境/环境污染", "litigation": "政法/涉法涉诉",
    "neighbour": "其他/邻里纠纷", "housing": "城乡建设/住房保障", "other": "其他/其他",
}
PETITION_LONE_TOPICS = ("land", "acquisition", "environment", "litigation", "neighbour",
                        "housing", "property_mgmt", "labour", "other")
PETITION_LONE_WEIGHTS = (14, 12, 8, 12, 8, 12, 10, 12, 12)
PETITION_STATES = ("待受理", "已受理", "办理中", "已答复", "已办结")

# --- 法院案件系统 ---------------------------------------------------------------------------
COURT_CASE_TYPE_CODES: dict[str, str] = {
    "民初": "民初", "民特": "民特", "诉前调解": "民诉前调", "诉前调确": "诉前调确",
}
"""caseType → the 类型代字 inside the 案号."""
COURT_CAUSES: dict[str, str] = {
    "family": "离婚纠纷", "neighbour": "相邻关系纠纷", "housing": "房屋租赁合同纠纷",
    "contract": "买卖合同纠纷", "debt": "民间借贷纠纷", "business": "合伙协议纠纷",
    "damages": "生命权、身体权、健康权纠纷", "labour": "追索劳动报酬纠纷",
    "traffic": "机动车交通事故责任纠纷", "property_mgmt": "物业服务合同纠纷",
    "consumer": "买卖合同纠纷", "land": "土地承包经营权纠纷", "other": "民间借贷纠纷",
    "medical": "医疗损害责任纠纷", "confirmation": "申请司法确认调解协议",
}
COURT_LONE_TOPICS = ("debt", "family", "contract", "traffic", "housing", "property_mgmt",
                     "labour", "damages", "business")
COURT_LONE_WEIGHTS = (24, 18, 14, 12, 8, 8, 6, 6, 4)
COURT_STATES = ("已立案", "审理中", "已结案")
COURT_PRE_MEDIATION_OUTCOMES = ("调解成功", "调解不成", "撤回申请")
"""结案方式 of a closed 诉前调解."""
COURT_LITIGATION_OUTCOMES = ("判决", "判决", "调解结案", "准许撤诉")
"""结案方式 of a closed lawsuit (判决 twice: it is the commonest)."""
COURT_CONFIRMATION_OUTCOME = "确认调解协议有效"
"""结案方式 of a granted 司法确认."""
