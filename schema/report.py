"""The monthly review as a file to download (月研判报表文件): ``monthlyReport``'s answer."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import strawberry


@strawberry.type(
    description=(
        "A workbook to download (报表文件): the monthly review (月研判报表) of a region and "
        "period as XLSX, the figures the caller's role and jurisdiction may see."
    )
)
class ReportFile:
    filename: str = strawberry.field(
        description="The name to save it under (文件名), e.g. 月研判-411202-2026-11.xlsx."
    )
    content_type: str = strawberry.field(description="Its media type (文件类型): the XLSX one.")
    sheets: list[str] = strawberry.field(
        description=(
            "Its sheets' titles in order (工作表): 指标, 按区划, 按类别, 按类型, 风险等级, 趋势, "
            "指标口径."
        )
    )
    content_base64: str = strawberry.field(
        description="The file's bytes, base64-encoded (文件内容, Base64)."
    )

    @classmethod
    def of(
        cls, filename: str, content_type: str, sheets: Sequence[str], content: bytes
    ) -> ReportFile:
        return cls(
            filename=filename,
            content_type=content_type,
            sheets=list(sheets),
            content_base64=base64.b64encode(content).decode("ascii"),
        )
