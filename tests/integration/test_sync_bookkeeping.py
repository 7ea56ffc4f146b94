"""Sync bookkeeping under hostile deliveries and crashes: stale dead letters stay resolved,
runs a killed process left RUNNING are marked ABANDONED, and a deleted record has one shape
however it was first seen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

import connectors.sync
from connectors.base import Batch
from connectors.sync import sync_source
from db.engine import session_factory
from db.models import DeadLetter, Dispute, RiskAssessment, SyncRun
from domain.enums import CaseStatus, SourceSystem
from domain.events import ChangedRecord, FollowUpIncomplete
from tests.integration.test_sync_engine import T0, ListConnector, _case


class VersionedConnector(ListConnector):
    """Reads a payload's version even when it does not parse, as the real connectors do."""

    def updated_at_of(self, raw: Any) -> Any:
        return T0 + timedelta(minutes=raw["v"]) if isinstance(raw.get("v"), int) else None


@pytest.fixture
def sessions(committing_engine: AsyncEngine) -> async_sessionmaker[Any]:
    return session_factory(committing_engine)


async def _letters(sessions: async_sessionmaker[Any]) -> list[tuple[str | None, bool]]:
    async with sessions() as session:
        rows = (await session.scalars(select(DeadLetter).order_by(DeadLetter.id))).all()
        return [(row.source_key, row.resolved_at is None) for row in rows]


@pytest.mark.parametrize("connector_type", [VersionedConnector, ListConnector])
async def test_a_stale_malformed_delivery_does_not_reopen_a_resolved_dead_letter(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any], connector_type: type
) -> None:
    # given a malformed version of A, then A's deletion, which resolves its dead letter
    bad = _case("A", 1, idNo="bad")
    pages = [[bad], [_case("A", 2, deleted=True)]]
    await sync_source(committing_engine, sessions, connector_type(pages))
    assert await _letters(sessions) == [("A", False)]
    # when the stale malformed copy arrives again, out of order
    await sync_source(committing_engine, sessions, connector_type([[bad]]), full=True)
    # then the letter stays resolved and none is opened
    assert await _letters(sessions) == [("A", False)]


async def test_a_newer_malformed_version_still_opens_a_dead_letter(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    pages = [[_case("A", 1)], [_case("A", 2, idNo="bad")], [_case("B", 1, idNo="bad")]]
    await sync_source(committing_engine, sessions, VersionedConnector(pages))
    assert await _letters(sessions) == [("A", True), ("B", True)]
    # and an older malformed copy of a stored key opens none
    stale = [[_case("C", 2)], [_case("C", 1, idNo="bad")]]
    await sync_source(committing_engine, sessions, VersionedConnector(stale), full=True)
    assert await _letters(sessions) == [("A", True), ("B", True)]


async def test_runs_left_running_by_a_killed_process_are_abandoned_at_the_next_sync(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given two runs a killed process left RUNNING (one of another source)
    async with sessions.begin() as session:
        session.add(SyncRun(source=SourceSystem.MEDIATION, status="RUNNING"))
        session.add(SyncRun(source=SourceSystem.COURT, status="RUNNING"))
    # when the source's lock is next taken
    result = await sync_source(committing_engine, sessions, ListConnector([[_case("A", 1)]]))
    assert result.ok
    # then its stale run is ABANDONED, finished, with a reason; the other source's is untouched
    async with sessions() as session:
        runs = (await session.scalars(select(SyncRun).order_by(SyncRun.id))).all()
    assert [(r.source, r.status) for r in runs] == [
        (SourceSystem.MEDIATION, "ABANDONED"),
        (SourceSystem.COURT, "RUNNING"),
        (SourceSystem.MEDIATION, "SUCCEEDED"),
    ]
    assert runs[0].finished_at is not None
    assert (runs[0].error or "").startswith("ABANDONED: ")


class Killed(BaseException):
    """What ``kill -9`` leaves: nothing after the committed batch runs."""


class KilledAfterFirstBatch(ListConnector):
    async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
        async for batch in super().fetch(checkpoint, full=full):
            yield batch
            raise Killed


async def test_what_a_killed_run_committed_is_graded_and_followed_up_by_the_next(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given a run killed right after its first batch committed: no grade, no matter intake
    with pytest.raises(Killed):
        await sync_source(committing_engine, sessions,
                          KilledAfterFirstBatch([[_case("A", 1), _case("B", 1)], [_case("C", 1)]]))
    async with sessions() as session:
        assert (await session.scalars(select(RiskAssessment))).all() == []
        stored = {r.source_key: r.id for r in (await session.scalars(select(Dispute))).all()}
    assert set(stored) == {"A", "B"}
    # and the run that would have followed them up killed too, after a batch of its own
    with pytest.raises(Killed):
        await sync_source(committing_engine, sessions,
                          KilledAfterFirstBatch([[_case("A", 1), _case("B", 1)], [_case("D", 1)]]))
    async with sessions() as session:
        stored = {r.source_key: r.id for r in (await session.scalars(select(Dispute))).all()}
    assert set(stored) == {"A", "B", "D"}
    # when the next run finds nothing new at the source
    heard: list[ChangedRecord] = []

    async def intake(_source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
        heard.extend(changes)

    result = await sync_source(committing_engine, sessions, ListConnector([]),
                               after_linking=intake)
    # then both killed runs' records are graded and handed to matter intake all the same
    assert result.ok
    async with sessions() as session:
        graded = set(await session.scalars(
            select(RiskAssessment.target_id).where(RiskAssessment.target_kind == "RECORD")
        ))
    assert graded == set(stored.values())
    assert sorted(change.record_id for change in heard) == sorted(stored.values())
    # and a run after a clean one recovers nothing again
    heard.clear()
    await sync_source(committing_engine, sessions, ListConnector([]), after_linking=intake)
    assert heard == []


async def test_a_deleted_record_has_one_shape_however_it_was_first_seen(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given B held and then deleted, and C first seen already deleted
    pages = [[_case("B", 1)], [_case("B", 2, deleted=True), _case("C", 3, deleted=True)]]
    await sync_source(committing_engine, sessions, ListConnector(pages))
    async with sessions() as session:
        rows = {r.source_key: r for r in (await session.scalars(select(Dispute))).all()}
    # then both are deleted and WITHDRAWN at their deletion's time; B keeps its last content
    for key, minutes in (("B", 2), ("C", 3)):
        row = rows[key]
        assert (row.deleted, row.status) == (True, CaseStatus.WITHDRAWN), key
        assert row.source_updated_at == T0 + timedelta(minutes=minutes), key
    assert rows["B"].title == "B v1" and rows["C"].region_code is None


async def test_what_matter_intake_could_not_take_in_is_handed_to_it_again(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any]
) -> None:
    # given an intake whose first hearing fails after taking in one record (its database
    # went away, say): it names the changes it did not finish
    calls: list[list[str]] = []
    taken: list[int] = []

    async def intake(_source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
        calls.append([c.change.value for c in changes])
        if len(calls) == 1:
            taken.append(changes[0].record_id)
            raise FollowUpIncomplete(changes[1:], "OperationalError")
        taken.extend(change.record_id for change in changes)

    # when a run's records are followed up
    pages = [[_case("A", 1), _case("B", 1)], [_case("C", 1)]]
    result = await sync_source(committing_engine, sessions, ListConnector(pages),
                               after_linking=intake)
    # then the ones it did not finish are handed to it again within the run, once each
    assert result.ok
    async with sessions() as session:
        stored = set(await session.scalars(select(Dispute.id)))
    assert sorted(taken) == sorted(stored) and len(taken) == 3
    assert len(calls) == 2


async def test_what_matter_intake_never_took_in_is_handed_to_the_next_run(
    committing_engine: AsyncEngine, sessions: async_sessionmaker[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a run whose matter intake fails every time it is tried (its database away for
    # longer than the run's tries)
    monkeypatch.setattr(connectors.sync, "FOLLOW_UP_RETRY_DELAYS", (0.0, 0.0))

    async def failing(_source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
        raise FollowUpIncomplete(changes, "OperationalError")

    pages = [[_case("A", 1), _case("B", 1)]]
    first = await sync_source(committing_engine, sessions, ListConnector(pages),
                              after_linking=failing)
    # then the run says it did not finish
    assert not first.ok and first.status == "INCOMPLETE", first
    assert first.error == "matter intake could not take in 2 records: the next run hands them on"
    # when the next run finds nothing new, its intake working again
    heard: list[int] = []

    async def intake(_source: SourceSystem, changes: Sequence[ChangedRecord]) -> None:
        heard.extend(change.record_id for change in changes)

    second = await sync_source(committing_engine, sessions, ListConnector(pages),
                               after_linking=intake)
    # then it hands the first run's records to intake, and is done with them
    assert second.ok and second.counts.inserted == 0
    async with sessions() as session:
        stored = set(await session.scalars(select(Dispute.id)))
    assert sorted(heard) == sorted(stored) and len(stored) == 2
    heard.clear()
    await sync_source(committing_engine, sessions, ListConnector(pages), after_linking=intake)
    assert heard == []
