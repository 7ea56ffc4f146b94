"""法院案件系统 code tables: 案件类型, 案件状态/结案方式, 案由 (cause) and 诉讼地位."""

from __future__ import annotations

from typing import Final

from domain.enums import CaseStatus, DisputeCategory, PartyRole

CASE_TYPES: Final[dict[str, str]] = {
    # caseType → its 类型代字 in the 案号
    "民初": "民初",  # 民事一审
    "民特": "民特",  # 民事特别程序 (司法确认)
    "诉前调解": "民诉前调",
    "诉前调确": "诉前调确",  # 诉前调解司法确认
}

STATUS_BY_LABEL: Final[dict[str, CaseStatus]] = {
    "已立案": CaseStatus.ACCEPTED,
    "审理中": CaseStatus.IN_PROGRESS,
    "已结案": CaseStatus.CLOSED,  # refined by the outcome below
}

STATUS_BY_OUTCOME: Final[dict[str, CaseStatus]] = {
    # 结案方式 of a closed case; a suffix such as （已生效） is ignored
    "判决": CaseStatus.CLOSED,
    "调解结案": CaseStatus.RESOLVED,
    "准许撤诉": CaseStatus.WITHDRAWN,
    "确认调解协议有效": CaseStatus.RESOLVED,
    "调解成功": CaseStatus.RESOLVED,  # 诉前调解
    "调解不成": CaseStatus.FAILED,  # 诉前调解
    "撤回申请": CaseStatus.WITHDRAWN,  # 诉前调解
}

CATEGORY_BY_CAUSE: Final[dict[str, DisputeCategory]] = {
    # 案由 (民事案件案由规定); exact names first, then the keywords below
    "离婚纠纷": DisputeCategory.MARRIAGE_FAMILY,
    "相邻关系纠纷": DisputeCategory.NEIGHBOUR,
    "房屋租赁合同纠纷": DisputeCategory.CONTRACT,
    "买卖合同纠纷": DisputeCategory.CONTRACT,
    "民间借贷纠纷": DisputeCategory.CONTRACT,
    "合伙协议纠纷": DisputeCategory.BUSINESS,
    "生命权、身体权、健康权纠纷": DisputeCategory.DAMAGES,
    "追索劳动报酬纠纷": DisputeCategory.LABOUR,
    "机动车交通事故责任纠纷": DisputeCategory.TRAFFIC,
    "物业服务合同纠纷": DisputeCategory.PROPERTY_MGMT,
    "土地承包经营权纠纷": DisputeCategory.LAND_FOREST,
    "医疗损害责任纠纷": DisputeCategory.MEDICAL,
    "申请司法确认调解协议": DisputeCategory.OTHER,  # the underlying dispute is not named
}

CATEGORY_BY_CAUSE_KEYWORD: Final[tuple[tuple[str, DisputeCategory], ...]] = (
    # the first keyword contained in an unlisted 案由 decides; none → OTHER
    ("婚", DisputeCategory.MARRIAGE_FAMILY),
    ("抚养", DisputeCategory.MARRIAGE_FAMILY),
    ("继承", DisputeCategory.MARRIAGE_FAMILY),
    ("相邻", DisputeCategory.NEIGHBOUR),
    ("宅基地", DisputeCategory.HOUSING_HOMESTEAD),
    ("物业", DisputeCategory.PROPERTY_MGMT),
    ("劳动", DisputeCategory.LABOUR),
    ("劳务", DisputeCategory.LABOUR),
    ("交通事故", DisputeCategory.TRAFFIC),
    ("医疗", DisputeCategory.MEDICAL),
    ("征收", DisputeCategory.LAND_ACQUISITION),
    ("拆迁", DisputeCategory.LAND_ACQUISITION),
    ("土地", DisputeCategory.LAND_FOREST),
    ("林", DisputeCategory.LAND_FOREST),
    ("污染", DisputeCategory.ENVIRONMENT),
    ("消费", DisputeCategory.CONSUMER),
    ("产品责任", DisputeCategory.CONSUMER),
    ("权纠纷", DisputeCategory.DAMAGES),
    ("损害", DisputeCategory.DAMAGES),
    ("合同", DisputeCategory.CONTRACT),
    ("借", DisputeCategory.CONTRACT),
)

ROLE_BY_LABEL: Final[dict[str, PartyRole]] = {
    "原告": PartyRole.PLAINTIFF,
    "被告": PartyRole.DEFENDANT,
    "申请人": PartyRole.APPLICANT,
    "被申请人": PartyRole.RESPONDENT,
    "第三人": PartyRole.THIRD_PARTY,
}

ORGANISATION_PARTY_TYPE: Final = "法人"


def category_of_cause(cause: str) -> DisputeCategory:
    """The category of a 案由: the table, else its first keyword, else OTHER."""
    exact = CATEGORY_BY_CAUSE.get(cause)
    if exact is not None:
        return exact
    return next(
        (c for word, c in CATEGORY_BY_CAUSE_KEYWORD if word in cause), DisputeCategory.OTHER
    )
