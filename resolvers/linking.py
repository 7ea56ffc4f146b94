"""Resolvers of linked records and person timelines (关联记录、人员时间线), scoped in SQL.

The request's ``RecordScope`` goes down to :mod:`db.timeline`: records the principal may not
read are simply absent. An anchor (record or person) outside the scope answers null with a
``NOT_FOUND`` error, exactly like one that does not exist (as ``node`` does).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from db import timeline as db_timeline
from db.timeline import linked_records
from domain.linking.errors import LinkingNotFound
from domain.scope import RecordScope
from resolvers.cursors import parse_global_id
from resolvers.dataloaders import Loaders
from resolvers.rows import KIND_OF_TYPE_NAME, global_id, read_session, record_from_row
from resolvers.selection import timeline_reads_kind_fields
from schema.context import Info
from schema.enums import LinkDirection
from schema.errors import BadUserInput, Forbidden, NotFound
from schema.linking import LINK_TYPE_NAME, MENTION_TYPE_NAME, RecordLink, TimelineEntry
from schema.loading import loaded_or_load
from schema.makers import maker_of
from schema.records import Record


def _scope(info: Info) -> RecordScope:
    return info.context.security.scope


async def resolve_linked_records(
    info: Info,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="A record's global id (记录 ID).")
    ],
) -> list[RecordLink] | None:
    type_name, record_id = parse_global_id(id)
    kind = KIND_OF_TYPE_NAME.get(type_name)
    if kind is None:
        raise BadUserInput("Invalid id: not a record.")
    anchor = await info.context.loaders.record.load(record_id)
    if anchor is None or anchor.kind != kind:
        raise NotFound("No record has this id.")
    scope = _scope(info)
    async with read_session(info.context.sessions) as session:
        try:
            entries = await linked_records(
                session,
                record_id,
                region_prefixes=scope.region_prefixes,
                kinds=scope.kinds,
                unplaced=scope.unplaced,
            )
        except LinkingNotFound as exc:
            raise NotFound("No record has this id.") from exc
    links = []
    for entry in entries:
        # The rows are read already: the record loader answers from them, not from SQL again.
        info.context.loaders.record.prime(entry.record_id, record_from_row(entry.row))
        links.append(
            RecordLink(
                id=global_id(LINK_TYPE_NAME, entry.link_id),
                direction=LinkDirection[entry.direction],
                link_kind=entry.link_kind,
                confidence=entry.confidence,
                evidence=cast("JSON", entry.evidence),
                decision=entry.decision,
                other_record_id=entry.record_id,
            )
        )
    return links


def timeline_entries(
    info: Info, person_id: int
) -> list[TimelineEntry] | Awaitable[list[TimelineEntry]]:
    """The person's records the principal may read, by occurrence; merges followed.

    The entries themselves when the operation loaded them already (a page's persons'
    timelines are prefetched together), else an awaitable of them. Each entry says the person
    is a party to the record, so its record goes into the audit row's record ids, as when
    parties are read.
    """
    principal = info.context.security.principal
    if principal is None or not principal.policy.parties:
        raise Forbidden("This role may not read persons.")
    # Batched: the persons of a page's parties read their timelines together.
    loaders = cast("Loaders", info.context.loaders)
    found = loaded_or_load(loaders.timelines, person_id)
    if isinstance(found, list) or found is None:
        if found and not found[0].full and timeline_reads_kind_fields(info._raw_info):
            return _full_timeline(info, loaders, found)
        return _timeline(info, found)

    async def later() -> list[TimelineEntry]:
        return _timeline(info, await found)

    return later()


def _timeline(
    info: Info,
    entries: list[db_timeline.TimelineEntry] | None,
    records: list[Record | None] | None = None,
) -> list[TimelineEntry]:
    if entries is None:
        raise NotFound("No person has this id.")
    info.context.security.pii_record_ids.update(entry.record_id for entry in entries)
    return [
        _make_entry(
            {
                "occurred_at": entry.occurred_at,
                "kind": entry.kind,
                "roles": list(entry.roles),
                "mention_ids": [global_id(MENTION_TYPE_NAME, mid) for mid in entry.mention_ids],
                "record": _record(entry, None if records is None else records[index]),
            }
        )
        for index, entry in enumerate(entries)
    ]


# A person's timeline entries, some seventy for the persons of ten records, made as plain
# objects (schema.makers).
_make_entry = maker_of(TimelineEntry, ("occurred_at", "kind", "roles", "mention_ids", "record"))


def _record(entry: db_timeline.TimelineEntry, read: Record | None) -> Record:
    """The entry's record: as read again in full, else from the entry's own row."""
    return read if read is not None else record_from_row(entry.row, kind_columns=entry.full)


async def _full_timeline(
    info: Info, loaders: Loaders, entries: list[db_timeline.TimelineEntry]
) -> list[TimelineEntry]:
    """Entries a page read without their records' kind columns, for a timeline field that
    reads a kind's own field: the records again through the record loader (same scope)."""
    records = await loaders.record.load_many([entry.record_id for entry in entries])
    return _timeline(info, entries, list(records))


async def resolve_person_timeline(
    info: Info,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The person's global id (人员 ID).")
    ],
) -> list[TimelineEntry] | None:
    type_name, person_id = parse_global_id(id)
    if type_name != "Person":
        raise BadUserInput("Invalid id: not a Person.")
    found = timeline_entries(info, person_id)
    entries = found if isinstance(found, list) else await found
    if not entries:  # a person no record within reach names lies outside the jurisdiction
        raise NotFound("No person has this id.")
    return entries
