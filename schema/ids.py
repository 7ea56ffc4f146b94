"""Global ids (全局 ID): base64 of ``Type:number``, as Relay expects."""

from __future__ import annotations

import strawberry
from strawberry.relay.utils import to_base64


def global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(to_base64(type_name, pk))
