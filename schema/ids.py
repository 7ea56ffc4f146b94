"""Global ids (全局 ID): base64 of ``Type:number``, as Relay expects."""

from __future__ import annotations

from base64 import b64encode

import strawberry


def global_id(type_name: str, pk: int) -> strawberry.ID:
    """``strawberry.relay.utils.to_base64(type_name, pk)`` for a type's name, without its
    checks of what kind of type it was given: a page encodes some two hundred ids."""
    return strawberry.ID(b64encode(f"{type_name}:{pk}".encode()).decode())
