"""110 接处警平台 code tables: 警情类别 (JQLBDM / JQLXDM / JQXLDM) and 处警状态 (CJZT)."""

from __future__ import annotations

from typing import Final

from domain.enums import CaseStatus, DisputeCategory

CATEGORY_BY_CODE_PREFIX: Final[dict[str, DisputeCategory]] = {
    # Keys are prefixes of the 6-digit 细类 code; the longest match wins. Codes under no
    # prefix (刑事案件 01, most of 治安案件 02, 群众求助 04) map to OTHER.
    "0301": DisputeCategory.MARRIAGE_FAMILY,  # 家庭纠纷: 夫妻, 家庭成员
    "0302": DisputeCategory.NEIGHBOUR,  # 邻里纠纷: 相邻关系, 邻里口角
    "030301": DisputeCategory.LABOUR,  # 劳资纠纷
    "030302": DisputeCategory.CONTRACT,  # 债务纠纷
    "0304": DisputeCategory.PROPERTY_MGMT,  # 物业纠纷
    "0305": DisputeCategory.TRAFFIC,  # 交通纠纷
    "0306": DisputeCategory.CONSUMER,  # 消费纠纷
    "05": DisputeCategory.TRAFFIC,  # 交通事故
    "020201": DisputeCategory.NEIGHBOUR,  # 噪声扰民: a neighbour dispute logged as 治安案件
}

CATEGORY_NAMES: Final[dict[str, str]] = {
    # 警情类别名称 for the title when the payload's JQLBMC is blank.
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
}  # fmt: skip

STATUS_BY_CJZT: Final[dict[str, tuple[CaseStatus, str]]] = {
    # CJZT → (unified status, the source's own label kept as ``source_status``)
    "1": (CaseStatus.ACCEPTED, "已接警"),
    "2": (CaseStatus.DISPATCHED, "已派警"),
    "3": (CaseStatus.IN_PROGRESS, "已到场"),
    "4": (CaseStatus.CLOSED, "已处结"),
}
