"""GraphQL enums, mapped one to one from the unified vocabulary in ``domain.enums`` (枚举).

The domain enums are registered as they are, so a resolver returns the stored member and the
schema shows its name; each description lists the Chinese term beside every value.
"""

from __future__ import annotations

from enum import Enum, StrEnum

import strawberry

from domain.enums import (
    LABELS,
    CaseStatus,
    DisputeCategory,
    PartyRole,
    RecordChangeKind,
    RecordKind,
    RegionLevel,
    RiskLevel,
    SourceSystem,
)
from domain.kinds import KINDS


def _described(title: str, labels: dict[str, str]) -> str:
    return title + ": " + ", ".join(f"{name} {label}" for name, label in labels.items()) + "."


def _labelled(enum: type[StrEnum]) -> dict[str, str]:
    return {member.value: LABELS[member.value] for member in enum}


strawberry.enum(
    RecordChangeKind,
    description=_described(
        "What a sync did to a record (记录变更类型)",
        {"CREATED": "新增", "UPDATED": "更新", "WITHDRAWN": "来源撤销"},
    ),
)
strawberry.enum(
    SourceSystem, description=_described("Source system (数据来源系统)", _labelled(SourceSystem))
)
strawberry.enum(
    DisputeCategory,
    description=_described("Dispute category (纠纷类别)", _labelled(DisputeCategory)),
)
strawberry.enum(
    RecordKind,
    description=_described(
        "Record kind (记录类型)", {spec.kind.value: spec.label for spec in KINDS}
    ),
)
strawberry.enum(
    CaseStatus,
    description=_described(
        "Case status in the closed loop 采集→上报→研判→分流→处置→反馈→核查→回访 (案件状态)",
        {
            "REPORTED": "已上报",
            "ACCEPTED": "已受理",
            "ASSESSED": "已研判",
            "DISPATCHED": "已分流",
            "IN_PROGRESS": "处置中",
            "RESOLVED": "化解成功",
            "FAILED": "化解不成功",
            "CLOSED": "已办结",
            "REVISITED": "已回访",
            "WITHDRAWN": "已撤回",
        },
    ),
)
strawberry.enum(
    RiskLevel,
    description=_described("Risk level (风险等级)", _labelled(RiskLevel)),
)
strawberry.enum(
    PartyRole,
    description=_described(
        "Role of a party in one source record (当事人角色)",
        {
            "APPLICANT": "申请人",
            "RESPONDENT": "被申请人",
            "PLAINTIFF": "原告",
            "DEFENDANT": "被告",
            "CALLER": "报警人",
            "PETITIONER": "信访人",
            "REPORTER": "上报人",
            "INVOLVED": "涉事人",
            "THIRD_PARTY": "第三人",
        },
    ),
)
strawberry.enum(
    RegionLevel,
    description=_described(
        "Level in the administrative and grid tree (行政区划层级)",
        {
            "PROVINCE": "省",
            "CITY": "市",
            "COUNTY": "县/区",
            "TOWNSHIP": "乡镇/街道",
            "VILLAGE": "村/社区",
            "GRID": "网格",
        },
    ),
)


@strawberry.enum(
    description="Sort order of a record list (排序); ties are broken by id in the same direction."
)
class RecordOrder(Enum):
    OCCURRED_AT_DESC = strawberry.enum_value(
        "OCCURRED_AT_DESC",
        description="Newest first by when it happened (发生时间倒序); the default.",
    )
    OCCURRED_AT_ASC = strawberry.enum_value(
        "OCCURRED_AT_ASC",
        description="Oldest first by when it happened (发生时间正序).",
    )
    REPORTED_AT_DESC = strawberry.enum_value(
        "REPORTED_AT_DESC",
        description="Newest first by when it was reported (上报时间倒序); without one, occurredAt.",
    )
    REPORTED_AT_ASC = strawberry.enum_value(
        "REPORTED_AT_ASC",
        description="Oldest first by when it was reported (上报时间正序); without one, occurredAt.",
    )
    UPDATED_AT_DESC = strawberry.enum_value(
        "UPDATED_AT_DESC",
        description="Most recently changed in govhub first (更新时间倒序).",
    )
    UPDATED_AT_ASC = strawberry.enum_value(
        "UPDATED_AT_ASC",
        description="Least recently changed in govhub first (更新时间正序).",
    )


@strawberry.enum(description="Which way a link points from the record it is read on (关联方向).")
class LinkDirection(Enum):
    OUTGOING = strawberry.enum_value(
        "OUTGOING",
        description="This record is the link's source (本记录指向对方).",
    )
    INCOMING = strawberry.enum_value(
        "INCOMING",
        description="The other record links to this one (对方指向本记录).",
    )
