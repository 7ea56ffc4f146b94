"""The ``recordChanges`` subscription (记录变更推送): bus messages, filtered to the subscriber."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from db.queries import region_prefix
from domain.enums import RecordKind
from domain.events import (
    MATTERS_CHANNEL,
    RECORDS_CHANNEL,
    MatterEventKind,
    read_change_message,
    read_matter_message,
)
from domain.workflow.visibility import MatterScope
from resolvers.filters import checked_region
from resolvers.rows import TYPE_OF_KIND, global_id
from schema.changes import RecordChange
from schema.context import Info
from schema.errors import Forbidden, ServiceUnavailable
from schema.matters import MATTER_TYPE_NAME, MatterEventNotice


async def resolve_record_changes(
    info: Info,
    kinds: Annotated[
        list[RecordKind] | None,
        strawberry.argument(
            description="Only these kinds (记录类型), each one you read; default all you read."
        ),
    ] = None,
    region: Annotated[
        str | None,
        strawberry.argument(
            description="Only this region and everything beneath it (区划代码)."
        ),
    ] = None,
) -> AsyncGenerator[RecordChange, None]:
    scope = info.context.security.scope
    if not scope.kinds:
        raise Forbidden("This role reads no records, so it has no changes to follow.")
    refused = [kind.value for kind in dict.fromkeys(kinds or ()) if kind not in scope.kinds]
    if refused:  # as ``records(filter: {kind})`` answers: an error, not a silent stream
        raise Forbidden(f"This role may not read {', '.join(refused)} records (kinds).")
    wanted = frozenset(kinds) if kinds else scope.kinds
    region = checked_region(region, "region")
    prefix = region_prefix(region) if region is not None else None
    bus = info.context.bus
    if bus is None:
        raise ServiceUnavailable("Subscriptions need the running server (govhub serve).")
    async for message in bus.subscribe(RECORDS_CHANNEL):
        for event in read_change_message(message):
            change = event.record
            if change.kind not in wanted or not scope.admits(change.kind, change.region_code):
                continue
            if prefix is not None and not (change.region_code or "").startswith(prefix):
                continue
            yield RecordChange(
                record_id=global_id(TYPE_OF_KIND[change.kind].__name__, change.record_id),
                kind=change.kind,
                source=change.source,
                region_code=change.region_code,
                change=change.change,
                committed_at=event.announced_at,
            )


async def resolve_matter_events(
    info: Info,
    kinds: Annotated[
        list[MatterEventKind] | None,
        strawberry.argument(description="Only these events (事件类型); default all."),
    ] = None,
    region: Annotated[
        str | None,
        strawberry.argument(
            description="Only this region and everything beneath it (区划代码)."
        ),
    ] = None,
) -> AsyncGenerator[MatterEventNotice, None]:
    """Matter events within the subscriber's matter scope (jurisdiction, own organisation)."""
    scope = MatterScope.of(info.context.security.principal)
    if scope.nothing:
        raise Forbidden("This role follows no matters.")
    wanted = frozenset(kinds) if kinds else frozenset(MatterEventKind)
    region = checked_region(region, "region")
    prefix = region_prefix(region) if region is not None else None
    bus = info.context.bus
    if bus is None:
        raise ServiceUnavailable("Subscriptions need the running server (govhub serve).")
    async for message in bus.subscribe(MATTERS_CHANNEL):
        for event in read_matter_message(message):
            if event.kind not in wanted or not (
                scope.admits(event.region_code, event.assigned_org)
                or (event.previous_org is not None
                    and scope.admits(event.region_code, event.previous_org))
            ):  # fmt: skip
                continue
            if prefix is not None and not (event.region_code or "").startswith(prefix):
                continue
            yield MatterEventNotice(
                matter_id=global_id(MATTER_TYPE_NAME, event.matter_id),
                kind=event.kind,
                step=event.step,
                region_code=event.region_code,
                detail=event.detail,
                at=event.at,
            )
