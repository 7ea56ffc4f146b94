"""网格化服务管理平台 code tables: 事件类型 (eventType) and 事件状态 (status)."""

from __future__ import annotations

from typing import Final

from domain.enums import CaseStatus, DisputeCategory, RegionLevel

CATEGORY_BY_EVENT_TYPE: Final[dict[str, DisputeCategory]] = {
    "JF01": DisputeCategory.MARRIAGE_FAMILY,  # 婚姻家庭纠纷
    "JF02": DisputeCategory.NEIGHBOUR,  # 邻里纠纷
    "JF03": DisputeCategory.PROPERTY_MGMT,  # 物业纠纷
    "JF04": DisputeCategory.LABOUR,  # 劳资纠纷
    "JF05": DisputeCategory.LAND_FOREST,  # 土地山林纠纷
    "JF06": DisputeCategory.HOUSING_HOMESTEAD,  # 房屋宅基地纠纷
    "JF07": DisputeCategory.CONSUMER,  # 消费纠纷
    "JF99": DisputeCategory.OTHER,  # 其他纠纷
    "AQ01": DisputeCategory.OTHER,  # 安全隐患: not a dispute, kept as a grid event
    "HJ01": DisputeCategory.ENVIRONMENT,  # 环境卫生
    "SS01": DisputeCategory.OTHER,  # 公共设施损坏
}

STATUS_BY_CODE: Final[dict[str, tuple[CaseStatus, str]]] = {
    # status → (unified status, the source's own label kept as ``source_status``)
    "01": (CaseStatus.REPORTED, "已上报"),
    "02": (CaseStatus.ACCEPTED, "已受理"),
    "03": (CaseStatus.IN_PROGRESS, "处置中"),
    "04": (CaseStatus.CLOSED, "已办结"),
    "05": (CaseStatus.CLOSED, "已归档"),
    "06": (CaseStatus.WITHDRAWN, "已退回"),  # sent back to the reporter: no longer handled
}

REGION_LEVELS: Final[dict[str, RegionLevel]] = {
    # ``level`` of a node of ``GET /api/v2/grids``
    "TOWNSHIP": RegionLevel.TOWNSHIP,
    "VILLAGE": RegionLevel.VILLAGE,
    "GRID": RegionLevel.GRID,
}

PARTY_ROLE_LABEL: Final = "当事人"
REPORTER_ROLE_LABEL: Final = "上报人"
