"""Source values longer than their columns (超长字段): free text is cut to fit, an identifier
that does not fit sends its record to the dead letters; the batch is stored either way, on
both databases (PostgreSQL refused the whole batch before)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from connectors.deadletters import replay_dead_letters
from connectors.sync import sync_source
from db.engine import session_factory
from db.fit import TooLong, fit_columns
from db.models import DeadLetter, Dispute, PartyMention, SyncState
from db.storable import distinct_text
from domain.enums import PartyRole
from domain.records import ParsedParty
from tests.integration.test_linking_storage import mediation
from tests.integration.test_sync_engine import ListConnector, _case

LONG_KEY = "TJ" + "9" * 80


@pytest.fixture
def sessions(committing_engine: AsyncEngine) -> async_sessionmaker[Any]:
    return session_factory(committing_engine)


def test_a_record_that_fits_is_itself() -> None:
    record = mediation("TJ1", None)
    assert fit_columns(record) is record


def test_free_text_is_cut_and_identifiers_are_refused() -> None:
    # given a record with a long address and mediator, and a party with a long address
    record = replace(mediation("TJ1", None), address="长" * 300)
    record.fields["mediator"] = "调" * 100
    record.parties[1] = replace(record.parties[1], address="址" * 300, source_role="角" * 40)
    # when it is fitted
    fitted = fit_columns(record)
    # then each is cut to its column, ending with an ellipsis, and the rest is untouched
    assert fitted.address == "长" * 255 + "…" and fitted.fields["mediator"] == "调" * 63 + "…"
    assert fitted.parties[1].address == "址" * 255 + "…"
    assert fitted.parties[1].source_role == "角" * 31 + "…"
    assert fitted.parties[0] is record.parties[0] and fitted.title == record.title
    assert record.address == "长" * 300  # the source's record is not changed
    # and an identifier that does not fit is refused, named by its field
    with pytest.raises(TooLong, match=r"parties\[2\]\.uscc"):
        fit_columns(replace(record, parties=[*record.parties[:2], replace(
            record.parties[2], uscc="9" * 30)]))  # fmt: skip
    with pytest.raises(TooLong, match="alert_number"):
        fit_columns(replace(record, fields={"alert_number": "J" * 65}))


async def test_a_sync_stores_the_batch_around_an_overlong_record(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given a page with a long mediator, a key longer than its column, and a plain case
    page = [_case("A", 1, mediator="调" * 100), _case(LONG_KEY, 1), _case("B", 1)]
    # when it is synced
    result = await sync_source(committing_engine, sessions, ListConnector([page]))
    # then the run succeeds with both good cases stored, the long mediator cut
    assert result.ok and result.counts.inserted == 2 and result.dead_lettered == 1
    async with sessions() as session:
        stored = {d.source_key: d.mediator for d in await session.scalars(select(Dispute))}
        assert stored == {"A": "调" * 63 + "…", "B": None}
        # and the overlong key is a dead letter, its key cut to the column, the field named
        letter = await session.scalar(select(DeadLetter))
        assert letter is not None and letter.error_code == "FIELD_TOO_LONG"
        assert letter.source_key == distinct_text(LONG_KEY, 64) and len(letter.source_key) == 64
        assert letter.reason == "source_key is longer than its 64 characters"
    # and a second run counts another attempt on the same letter, and replaying it fails again
    await sync_source(committing_engine, sessions, ListConnector([page]), full=True)
    replayed = await replay_dead_letters(sessions, ListConnector([page]))
    assert replayed.still_failing == 1
    async with sessions() as session:
        letters = (await session.scalars(select(DeadLetter))).all()
        assert [(lt.attempts, lt.resolved_at) for lt in letters] == [(3, None)]


async def test_party_text_is_cut_where_it_is_stored(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given a case whose party gives an address longer than its column
    class LongAddress(ListConnector):
        def parse(self, raw: Any) -> Any:
            parsed = super().parse(raw)
            parsed.parties = [
                ParsedParty(role=PartyRole.APPLICANT, name="张三", address="址" * 300)
            ]
            return parsed

    result = await sync_source(committing_engine, sessions, LongAddress([[_case("A", 1)]]))
    assert result.ok and result.counts.inserted == 1
    async with sessions() as session:
        assert await session.scalar(select(PartyMention.address)) == "址" * 255 + "…"


async def test_two_long_keys_alike_are_two_letters_and_a_long_watermark_is_cut(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given two keys longer than the column, the same over its first 63 characters
    class LongWatermark(ListConnector):
        async def fetch(self, checkpoint: str | None, *, full: bool) -> Any:
            async for batch in super().fetch(checkpoint, full=full):
                batch.watermark = "时" * 300  # a source's garbage update time, shown as is
                yield batch

    page = [_case(LONG_KEY + "1", 1), _case(LONG_KEY + "2", 1), _case("A", 1)]
    # when they are synced
    result = await sync_source(committing_engine, sessions, LongWatermark([page]))
    # then the batch is stored with its watermark cut, and each key has its own letter
    assert result.ok and result.counts.inserted == 1 and result.dead_lettered == 2
    async with sessions() as session:
        keys = (await session.scalars(select(DeadLetter.source_key))).all()
        assert len(set(keys)) == 2 and all(len(key or "") == 64 for key in keys)
        state = await session.get(SyncState, ListConnector.source)
        assert state is not None and state.watermark == "时" * 255 + "…"
