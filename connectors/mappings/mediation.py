"""人民调解信息管理平台 code tables: 纠纷类型 (disputeType), 案件状态 and 当事人角色."""

from __future__ import annotations

from typing import Final

from domain.enums import CaseStatus, DisputeCategory, PartyRole

CATEGORY_BY_DISPUTE_TYPE: Final[dict[str, DisputeCategory]] = {
    # one to one onto the unified categories
    "01": DisputeCategory.MARRIAGE_FAMILY,  # 婚姻家庭
    "02": DisputeCategory.NEIGHBOUR,  # 邻里
    "03": DisputeCategory.HOUSING_HOMESTEAD,  # 房屋宅基地
    "04": DisputeCategory.CONTRACT,  # 合同
    "05": DisputeCategory.BUSINESS,  # 生产经营
    "06": DisputeCategory.DAMAGES,  # 损害赔偿
    "07": DisputeCategory.LAND_FOREST,  # 山林土地
    "08": DisputeCategory.LAND_ACQUISITION,  # 征地拆迁
    "09": DisputeCategory.ENVIRONMENT,  # 环境污染
    "10": DisputeCategory.LABOUR,  # 劳动争议
    "11": DisputeCategory.CONSUMER,  # 消费
    "12": DisputeCategory.MEDICAL,  # 医疗
    "13": DisputeCategory.TRAFFIC,  # 道路交通事故
    "14": DisputeCategory.PROPERTY_MGMT,  # 物业
    "99": DisputeCategory.OTHER,  # 其他
}

STATUS_BY_LABEL: Final[dict[str, CaseStatus]] = {
    "受理": CaseStatus.ACCEPTED,
    "调解中": CaseStatus.IN_PROGRESS,
    "调解成功": CaseStatus.RESOLVED,
    "调解失败": CaseStatus.FAILED,
    "终止": CaseStatus.CLOSED,  # 终止调解: ended without an agreement or a failure finding
}

ROLE_BY_LABEL: Final[dict[str, PartyRole]] = {
    "申请人": PartyRole.APPLICANT,
    "被申请人": PartyRole.RESPONDENT,
    "第三人": PartyRole.THIRD_PARTY,
}

ORGANISATION_PARTY_TYPE: Final = "法人"
DATE_FORMAT: Final = "%Y/%m/%d"
