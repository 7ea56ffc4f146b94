"""The ``recordChanges`` subscription (记录变更推送): bus messages, filtered to the subscriber."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from db.queries import region_prefix
from domain.enums import RecordKind
from domain.events import RECORDS_CHANNEL, read_change_message
from resolvers.filters import checked_region
from resolvers.rows import TYPE_OF_KIND, global_id
from schema.changes import RecordChange
from schema.context import Info
from schema.errors import Forbidden, ServiceUnavailable


async def resolve_record_changes(
    info: Info,
    kinds: Annotated[
        list[RecordKind] | None,
        strawberry.argument(description="Only these kinds (记录类型); default all you read."),
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
    wanted = scope.kinds & frozenset(kinds) if kinds else scope.kinds
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
