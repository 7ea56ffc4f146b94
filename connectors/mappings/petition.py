"""信访信息系统 code tables: 内容分类 and 办理状态."""

from __future__ import annotations

from typing import Final

from domain.enums import CaseStatus, DisputeCategory

CATEGORY_BY_CLASS: Final[dict[str, DisputeCategory]] = {
    # 内容分类 "大类/小类": the full text first, then the 大类 alone; anything else is OTHER.
    "劳动和社会保障/拖欠工资": DisputeCategory.LABOUR,
    "城乡建设/物业管理": DisputeCategory.PROPERTY_MGMT,
    "农村农业/土地承包": DisputeCategory.LAND_FOREST,
    "城乡建设/征地拆迁": DisputeCategory.LAND_ACQUISITION,
    "生态环境/环境污染": DisputeCategory.ENVIRONMENT,
    "城乡建设/住房保障": DisputeCategory.HOUSING_HOMESTEAD,
    "其他/邻里纠纷": DisputeCategory.NEIGHBOUR,
    "政法/涉法涉诉": DisputeCategory.OTHER,
    "劳动和社会保障": DisputeCategory.LABOUR,
    "生态环境": DisputeCategory.ENVIRONMENT,
    "农村农业": DisputeCategory.LAND_FOREST,
}

STATUS_BY_NAME: Final[dict[str, CaseStatus]] = {
    "待受理": CaseStatus.REPORTED,
    "已受理": CaseStatus.ACCEPTED,
    "办理中": CaseStatus.IN_PROGRESS,
    "已答复": CaseStatus.RESOLVED,  # 答复意见已出 (反馈): the bureau's answer was given
    "已办结": CaseStatus.CLOSED,
}
