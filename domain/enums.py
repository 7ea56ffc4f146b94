"""The unified vocabulary every source is mapped onto (统一编码).

Each member's value is its stable name; the Chinese term sits beside it in ``LABELS``.
"""

from __future__ import annotations

from enum import StrEnum


class SourceSystem(StrEnum):
    """The five legacy systems govhub pulls from (数据来源系统)."""

    MEDIATION = "MEDIATION"  # 人民调解信息管理平台
    GRID = "GRID"  # 网格化服务管理平台
    POLICE_110 = "POLICE_110"  # 110 接处警平台
    PETITION = "PETITION"  # 信访信息系统
    COURT = "COURT"  # 法院案件系统 / 调解平台


class RecordKind(StrEnum):
    """The five record kinds (记录类型); each source delivers exactly one kind."""

    DISPUTE = "DISPUTE"  # 矛盾纠纷 / 人民调解案件
    GRID_EVENT = "GRID_EVENT"  # 网格事件
    POLICE_ALERT = "POLICE_ALERT"  # 110 警情
    PETITION = "PETITION"  # 信访件
    COURT_FILING = "COURT_FILING"  # 诉讼 / 诉前调解案件



class Role(StrEnum):
    """Roles (角色); what each may read and do is data in ``domain.roles`` and ``domain.kinds``."""

    ADMIN = "admin"  # 系统管理员
    CENTER_STAFF = "center_staff"  # 综治中心工作人员
    MEDIATOR = "mediator"  # 人民调解员
    PARTNER_POLICE = "partner_police"  # 公安
    PARTNER_COURT = "partner_court"  # 法院
    PARTNER_PETITION = "partner_petition"  # 信访局
    PARTNER_JUDICIAL = "partner_judicial"  # 司法局
    DASHBOARD_VIEWER = "dashboard_viewer"  # 大屏/看板
    AUDITOR = "auditor"  # 审计员


class DisputeCategory(StrEnum):
    """Dispute categories (纠纷类别)."""

    MARRIAGE_FAMILY = "MARRIAGE_FAMILY"  # 婚姻家庭
    NEIGHBOUR = "NEIGHBOUR"  # 邻里
    HOUSING_HOMESTEAD = "HOUSING_HOMESTEAD"  # 房屋宅基地
    CONTRACT = "CONTRACT"  # 合同
    BUSINESS = "BUSINESS"  # 生产经营
    DAMAGES = "DAMAGES"  # 损害赔偿
    LAND_FOREST = "LAND_FOREST"  # 山林土地
    LAND_ACQUISITION = "LAND_ACQUISITION"  # 征地拆迁
    ENVIRONMENT = "ENVIRONMENT"  # 环境污染
    LABOUR = "LABOUR"  # 劳动争议
    CONSUMER = "CONSUMER"  # 消费
    MEDICAL = "MEDICAL"  # 医疗
    TRAFFIC = "TRAFFIC"  # 道路交通事故
    PROPERTY_MGMT = "PROPERTY_MGMT"  # 物业
    OTHER = "OTHER"  # 其他


class CaseStatus(StrEnum):
    """The closed loop 采集→上报→研判→分流→处置→反馈→核查→回访 (案件状态)."""

    REPORTED = "REPORTED"  # 已上报
    ACCEPTED = "ACCEPTED"  # 已受理
    ASSESSED = "ASSESSED"  # 已研判
    DISPATCHED = "DISPATCHED"  # 已分流
    IN_PROGRESS = "IN_PROGRESS"  # 处置中
    RESOLVED = "RESOLVED"  # 化解成功
    FAILED = "FAILED"  # 化解不成功
    CLOSED = "CLOSED"  # 已办结
    REVISITED = "REVISITED"  # 已回访
    WITHDRAWN = "WITHDRAWN"  # 已撤回


class RiskLevel(StrEnum):
    """Risk levels (风险等级); rules and response deadlines are configuration."""

    RED = "RED"  # 红色
    YELLOW = "YELLOW"  # 黄色
    BLUE = "BLUE"  # 蓝色
    NONE = "NONE"  # 无


class PartyRole(StrEnum):
    """The role a person or organisation plays in one source record (当事人角色)."""

    APPLICANT = "APPLICANT"  # 申请人
    RESPONDENT = "RESPONDENT"  # 被申请人
    PLAINTIFF = "PLAINTIFF"  # 原告
    DEFENDANT = "DEFENDANT"  # 被告
    CALLER = "CALLER"  # 报警人
    PETITIONER = "PETITIONER"  # 信访人
    REPORTER = "REPORTER"  # 上报人
    INVOLVED = "INVOLVED"  # 涉事人
    THIRD_PARTY = "THIRD_PARTY"  # 第三人


class RegionLevel(StrEnum):
    """Levels of the administrative and grid tree (行政区划层级)."""

    PROVINCE = "PROVINCE"  # 省
    CITY = "CITY"  # 市
    COUNTY = "COUNTY"  # 县/区
    TOWNSHIP = "TOWNSHIP"  # 乡镇/街道
    VILLAGE = "VILLAGE"  # 村/社区
    GRID = "GRID"  # 网格


class RecordChangeKind(StrEnum):
    """What a sync did to a record (记录变更类型), as announced to subscribers."""

    CREATED = "CREATED"  # 新增
    UPDATED = "UPDATED"  # 更新
    WITHDRAWN = "WITHDRAWN"  # 来源撤销/删除


LABELS: dict[str, str] = {
    **{
        m.value: label
        for m, label in zip(
            SourceSystem,
            [
                "人民调解信息管理平台",
                "网格化服务管理平台",
                "110接处警平台",
                "信访信息系统",
                "法院案件系统",
            ],
            strict=True,
        )
    },
    **{
        m.value: label
        for m, label in zip(
            DisputeCategory,
            [
                "婚姻家庭",
                "邻里",
                "房屋宅基地",
                "合同",
                "生产经营",
                "损害赔偿",
                "山林土地",
                "征地拆迁",
                "环境污染",
                "劳动争议",
                "消费",
                "医疗",
                "道路交通事故",
                "物业",
                "其他",
            ],
            strict=True,
        )
    },
    **{m.value: label for m, label in zip(RiskLevel, ["红色", "黄色", "蓝色", "无"], strict=True)},
}
