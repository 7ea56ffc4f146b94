"""Per-operation batch loaders of what matters hold (事项数据批量加载): clocks, timeline,
supervision orders, record ids and intake parties, each one statement for every matter a page
asked for.

Which matters may be read was decided when they were listed (``resolvers.matters``); the
records themselves go through the record loader, within the principal's record scope.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer
from strawberry.dataloader import DataLoader

from db.models import (
    ClockRow,
    MatterEvent,
    MatterParty,
    MatterRecord,
    OutboxMessage,
    SealedParty,
    Supervision,
)
from resolvers.reads import read_session
from resolvers.weak_batch import weak_batch


class MatterLoaders:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.clocks: DataLoader[int, list[ClockRow]] = DataLoader(
            weak_batch(self, MatterLoaders._clocks)
        )
        self.events: DataLoader[int, list[MatterEvent]] = DataLoader(
            weak_batch(self, MatterLoaders._events)
        )
        self.supervisions: DataLoader[int, list[Supervision]] = DataLoader(
            weak_batch(self, MatterLoaders._supervisions)
        )
        self.record_ids: DataLoader[int, list[int]] = DataLoader(
            weak_batch(self, MatterLoaders._record_ids)
        )
        self.parties: DataLoader[int, list[SealedParty]] = DataLoader(
            weak_batch(self, MatterLoaders._parties)
        )
        self.writebacks: DataLoader[str, list[OutboxMessage]] = DataLoader(
            weak_batch(self, MatterLoaders._writebacks)
        )

    async def _grouped(
        self, model: Any, key: Any, order: Any, matter_ids: Sequence[int]
    ) -> list[list[Any]]:
        grouped: dict[int, list[Any]] = defaultdict(list)
        async with read_session(self._sessions) as session:
            for row in await session.scalars(
                select(model).where(key.in_(matter_ids)).order_by(order)
            ):
                grouped[row.matter_id].append(row)
        return [grouped[matter_id] for matter_id in matter_ids]

    async def _clocks(self, matter_ids: Sequence[int]) -> list[list[ClockRow]]:
        return await self._grouped(ClockRow, ClockRow.matter_id, ClockRow.id, matter_ids)

    async def _events(self, matter_ids: Sequence[int]) -> list[list[MatterEvent]]:
        return await self._grouped(MatterEvent, MatterEvent.matter_id, MatterEvent.id, matter_ids)

    async def _supervisions(self, matter_ids: Sequence[int]) -> list[list[Supervision]]:
        return await self._grouped(Supervision, Supervision.matter_id, Supervision.id, matter_ids)

    async def _record_ids(self, matter_ids: Sequence[int]) -> list[list[int]]:
        grouped: dict[int, list[int]] = defaultdict(list)
        async with read_session(self._sessions) as session:
            rows = await session.execute(
                select(MatterRecord.matter_id, MatterRecord.record_id)
                .where(MatterRecord.matter_id.in_(matter_ids)).order_by(MatterRecord.id)
            )  # fmt: skip
            for matter_id, record_id in rows:
                grouped[matter_id].append(record_id)
        return [grouped[matter_id] for matter_id in matter_ids]

    async def _parties(self, matter_ids: Sequence[int]) -> list[list[SealedParty]]:
        """Intake parties in their order, identifiers as stored (sealed): a field opens them
        only when it is selected."""
        grouped: dict[int, list[SealedParty]] = defaultdict(list)
        table = MatterParty.__table__.c
        async with read_session(self._sessions) as session:
            rows = await session.execute(
                select(table.matter_id, table.role, table.name,
                       type_coerce(table.id_number, Text), type_coerce(table.phone, Text))
                .where(table.matter_id.in_(matter_ids))
                .order_by(table.matter_id, table.position)
            )  # fmt: skip
            for matter_id, role, name, sealed_id, sealed_phone in rows:
                grouped[matter_id].append(SealedParty(role, name, sealed_id, sealed_phone))
        return [grouped[matter_id] for matter_id in matter_ids]

    async def _writebacks(self, numbers: Sequence[str]) -> list[list[OutboxMessage]]:
        """Outbox rows by matter number, oldest first; the sealed payload is not loaded."""
        grouped: dict[str, list[OutboxMessage]] = defaultdict(list)
        o = OutboxMessage
        async with read_session(self._sessions) as session:
            for row in await session.scalars(
                select(o)
                .options(defer(o.payload))
                .where(o.aggregate_type == "matter", o.aggregate_id.in_(numbers))
                .order_by(o.id)
            ):
                grouped[str(row.aggregate_id)].append(row)
        return [grouped[number] for number in numbers]
