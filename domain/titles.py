"""Which title a role is shown (标题脱敏).

A source's title is free text, and it usually names the parties ("谢生健与王婷房屋宅基地纠纷")
or the place (every 110 alert's title is its incident address). A role that may not read
parties *and* free text is shown a title made of what it may read instead: the category and
the region, e.g. "房屋宅基地纠纷 · 湖滨区".
"""

from __future__ import annotations

from domain.enums import LABELS, DisputeCategory
from domain.roles import RolePolicy

SEPARATOR = " · "


def reads_source_title(policy: RolePolicy | None) -> bool:
    """The source's own title needs both rights it may touch: parties and free text."""
    return policy is not None and policy.parties and policy.free_text


def redacted_title(category: DisputeCategory, region_name: str | None) -> str:
    """The title shown instead: "<category>纠纷 · <region>" ("其他纠纷" when uncategorised)."""
    label = LABELS[category.value]
    label = label if label.endswith(("纠纷", "争议")) else f"{label}纠纷"
    return f"{label}{SEPARATOR}{region_name}" if region_name else label
