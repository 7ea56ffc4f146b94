"""The sync engine on both databases, with an in-memory connector standing in for a source."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from connectors.base import Batch, FetchedItem
from connectors.errors import RecordError, SourceServerError
from connectors.http import SourceClient
from connectors.sync import sync_source
from db.engine import session_factory
from db.models import DeadLetter, Dispute, PartyMention, Record, SyncRun, SyncState
from domain.enums import CaseStatus, DisputeCategory, PartyRole, SourceSystem
from domain.events import ChangedRecord
from domain.records import ParsedParty, ParsedRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class ListConnector:
    """Serves pages of dicts; a page can be made to fail once fetched."""

    source = SourceSystem.MEDIATION

    def __init__(self, pages: list[list[dict[str, Any]]], fail_at: int | None = None) -> None:
        self.pages = pages
        self.fail_at = fail_at
        self.client = SourceClient(SourceSystem.MEDIATION, httpx.AsyncClient())
        self.started_from: list[str | None] = []

    async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        self.started_from.append(checkpoint)
        start = 0 if checkpoint is None else int(checkpoint)
        for index in range(start, len(self.pages)):
            if index == self.fail_at:
                raise SourceServerError(self.source, "server error 503")
            items = [FetchedItem(key=item.get("caseNo"), raw=item) for item in self.pages[index]]
            yield Batch(items=items, checkpoint=str(index + 1), watermark=f"page {index + 1}")

    def parse(self, raw: Any) -> ParsedRecord:
        if "caseNo" not in raw:
            raise RecordError("MISSING_FIELD", "caseNo is missing")
        if raw.get("idNo") == "bad":
            raise RecordError("INVALID_ID_NUMBER", "check character mismatch", key=raw["caseNo"])
        return ParsedRecord(
            source=self.source,
            source_key=raw["caseNo"],
            source_updated_at=T0 + timedelta(minutes=raw["v"]),
            raw=raw,
            deleted=raw.get("deleted", False),
            category=DisputeCategory.NEIGHBOUR,
            title=raw.get("title", ""),
            status=CaseStatus.ACCEPTED,
            fields={"mediator": raw.get("mediator")},
            parties=[ParsedParty(role=PartyRole.APPLICANT, name="张三", phone="13812345678")],
        )


def _case(key: str, v: int, **extra: Any) -> dict[str, Any]:
    return {"caseNo": key, "v": v, "title": f"{key} v{v}", **extra}


async def _records(sessions: async_sessionmaker[Any]) -> dict[str, tuple[str, bool]]:
    async with sessions() as session:
        rows = (await session.scalars(select(Dispute))).all()
        return {r.source_key: (r.title, r.deleted) for r in rows}


@pytest.fixture
def sessions(committing_engine: AsyncEngine) -> async_sessionmaker[Any]:
    return session_factory(committing_engine)


async def test_first_sync_inserts_and_records_the_run(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    connector = ListConnector([[_case("A", 1), _case("B", 1)], [_case("C", 1)]])
    result = await sync_source(committing_engine, sessions, connector)
    assert result.ok and result.counts.inserted == 3 and result.fetched == 3
    assert await _records(sessions) == {
        "A": ("A v1", False), "B": ("B v1", False), "C": ("C v1", False),
    }  # fmt: skip
    async with sessions() as session:
        run = await session.scalar(select(SyncRun))
        assert run is not None and (run.status, run.inserted, run.fetched) == ("SUCCEEDED", 3, 3)
        state = await session.get(SyncState, SourceSystem.MEDIATION)
        assert state is not None and state.cursor == "2" and state.last_success_at is not None
        mentions = await session.scalar(select(func.count()).select_from(PartyMention))
        assert mentions == 3


async def test_a_rerun_with_no_change_writes_nothing(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    pages = [[_case("A", 1), _case("B", 1)]]
    await sync_source(committing_engine, sessions, ListConnector(pages))
    async with sessions() as session:
        before = {r.source_key: r.updated_at for r in (await session.scalars(select(Record)))}
    result = await sync_source(committing_engine, sessions, ListConnector(pages), full=True)
    assert (result.counts.inserted, result.counts.updated, result.counts.unchanged) == (0, 0, 2)
    async with sessions() as session:
        after = {r.source_key: r.updated_at for r in (await session.scalars(select(Record)))}
    assert after == before


async def test_records_stored_with_the_earlier_hexadecimal_digest_are_not_rewritten(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # Records a version before base64 digests stored: their re-delivery changes nothing, a
    # change of content with the same version still updates them.
    pages = [[_case("A", 1), _case("B", 1)]]
    connector = ListConnector(pages)
    await sync_source(committing_engine, sessions, connector)
    async with sessions() as session:
        for record in await session.scalars(select(Record)):
            parsed = connector.parse(_case(record.source_key, 1))
            record.content_hash = parsed.legacy_content_hash()
        await session.commit()
    result = await sync_source(committing_engine, sessions, ListConnector(pages), full=True)
    assert (result.counts.updated, result.counts.unchanged) == (0, 2)
    changed = [[_case("A", 1, title="A v1, corrected"), _case("B", 1)]]
    result = await sync_source(committing_engine, sessions, ListConnector(changed), full=True)
    assert (result.counts.updated, result.counts.unchanged) == (1, 1)
    async with sessions() as session:
        digests = {r.source_key: r.content_hash for r in await session.scalars(select(Record))}
    assert digests["A"] == connector.parse(changed[0][0]).content_hash()  # the new form
    assert len(digests["B"] or "") == 64  # unchanged: as it was stored


async def test_older_versions_never_overwrite_newer_and_tombstones_delete(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    pages = [
        [_case("A", 5), _case("B", 1)],
        [_case("A", 3), _case("B", 2, deleted=True), _case("A", 5)],  # late old A, B deleted
    ]
    result = await sync_source(committing_engine, sessions, ListConnector(pages))
    assert await _records(sessions) == {"A": ("A v5", False), "B": ("B v1", True)}
    assert result.counts.deleted == 1


async def test_malformed_records_are_dead_lettered_without_blocking_the_batch(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    pages = [[_case("A", 1), {"v": 1, "title": "no key"}, _case("B", 1, idNo="bad"), _case("C", 1)]]
    result = await sync_source(committing_engine, sessions, ListConnector(pages))
    assert result.dead_lettered == 2 and result.counts.inserted == 2
    async with sessions() as session:
        letters = (await session.scalars(select(DeadLetter).order_by(DeadLetter.id))).all()
    assert [(d.source_key, d.error_code) for d in letters] == [
        (None, "MISSING_FIELD"), ("B", "INVALID_ID_NUMBER"),
    ]  # fmt: skip
    assert letters[1].raw["caseNo"] == "B"  # kept whole for replay


async def test_a_failure_mid_run_keeps_committed_batches_and_resumes(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    pages = [[_case("A", 1)], [_case("B", 1)], [_case("C", 1)]]
    failing = ListConnector(pages, fail_at=2)
    first = await sync_source(committing_engine, sessions, failing)
    assert (first.status, first.error) == ("FAILED", "SERVER_ERROR: MEDIATION: server error 503")
    assert set(await _records(sessions)) == {"A", "B"}
    resumed = ListConnector(pages)
    second = await sync_source(committing_engine, sessions, resumed)
    assert second.ok and resumed.started_from == ["2"]
    assert set(await _records(sessions)) == {"A", "B", "C"}


async def test_each_committed_batch_announces_what_it_changed(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given a listener (the event bus in the app) and a run that creates, updates, withdraws
    heard: list[list[tuple[str, str]]] = []

    async def listen(source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
        assert source is SourceSystem.MEDIATION
        async with sessions() as session:  # the batch is committed before it is announced
            keys = {r.id: r.source_key for r in (await session.scalars(select(Record)))}
        heard.append([(keys[c.record_id], c.change.value) for c in changes])

    pages = [
        [_case("A", 1), _case("B", 1), _case("A", 2)],  # A created then changed: still CREATED
        [_case("A", 3), _case("B", 2, deleted=True), _case("C", 1), _case("C", 1)],
        [_case("C", 1)],  # nothing changed: nothing announced
    ]
    result = await sync_source(committing_engine, sessions, ListConnector(pages), on_changes=listen)
    assert result.ok
    assert heard == [
        [("A", "CREATED"), ("B", "CREATED")],
        [("A", "UPDATED"), ("B", "WITHDRAWN"), ("C", "CREATED")],
    ]


async def test_a_failing_listener_never_fails_the_sync(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    async def broken(_source: SourceSystem, _changes: Sequence[ChangedRecord]) -> None:
        raise ConnectionError("redis is down")

    result = await sync_source(
        committing_engine, sessions, ListConnector([[_case("A", 1)]]), on_changes=broken
    )
    assert result.ok and result.counts.inserted == 1
    assert await _records(sessions) == {"A": ("A v1", False)}


async def test_a_record_created_and_changed_in_one_batch_is_stored_once_with_its_last_version(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given one batch holding a new record, a second new one, then the first one again, newer
    pages = [[_case("D1", 1), _case("D2", 1), _case("D1", 2), _case("D3", 1, deleted=True)]]
    result = await sync_source(committing_engine, sessions, ListConnector(pages), resolve=False)
    # then each key is one record, the first at its last version, with one mention each
    assert result.ok and result.counts.inserted == 2 and result.counts.updated == 1
    assert await _records(sessions) == {
        "D1": ("D1 v2", False),
        "D2": ("D2 v1", False),
        "D3": ("D3 v1", True),  # a tombstone for a record never held
    }
    async with sessions() as session:
        mentions = (await session.scalars(select(PartyMention.record_id))).all()
    assert len(mentions) == len(set(mentions)) == 2
