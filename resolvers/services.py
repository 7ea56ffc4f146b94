"""The services schema types reach through the context (``schema.context.TypeServices``).

Types never import resolvers or the database's sealing; they ask the context, and the
context carries these.
"""

from __future__ import annotations

from collections.abc import Awaitable

from db.pii import cipher
from resolvers.linking import timeline_entries
from schema.context import Info
from schema.linking import TimelineEntry


class TypeServices:
    def open_sealed(self, sealed: str) -> str:
        return cipher().open(sealed).decode("utf-8")

    def person_records(
        self, info: Info, person_id: int
    ) -> list[TimelineEntry] | Awaitable[list[TimelineEntry]]:
        return timeline_entries(info, person_id)


SERVICES = TypeServices()
