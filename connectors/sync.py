"""The sync engine (同步引擎): incremental, idempotent, crash-safe, one source at a time.

Each batch — its records, its dead letters, its run counts and the checkpoint that covers it —
is committed in one transaction, so a crash between batches loses nothing and duplicates
nothing: the next run resumes from the last committed checkpoint and re-applies at most one
batch, which the idempotent upsert absorbs.

Once about :data:`RESOLVE_EVERY` changed records have committed (and at the end of every
run), the new party mentions of the source are resolved to persons and those records re-linked
(人员归一、事项关联), in a transaction of its own under the linking lock. Resolving per chunk
of the run rather than per batch keeps the fixed cost of a resolution pass (loading the
candidate persons of the counties involved) from being paid by every small batch or CSV file.
That step can fail without losing anything: the mentions stay unresolved and the source's next
resolution (the next chunk, or the catch-up at the end of every run) picks them up, because it
resolves every unresolved mention of the source, not only the chunk's.

After each resolution pass (each batch when the run does not resolve) the records changed
since the last grading are graded (风险研判, ``db.risk``): they, the records linked to them and
the persons they name, in a transaction of its own under the grading lock: one grading pass
at a time (two would both add the first grade of a shared person), while another source's
resolution goes on. Every resolution pass is followed by its own source's grading pass, so the
last grade of whatever a pass changed is computed after it, whatever another pass read
half-way. Grades that rose to the alert level are announced to ``on_risk_alerts``. A failed
grading step is tried again for its records with the next pass, and at the end of the run; it
never fails the sync. So is matter intake (``after_linking``) for the records it reports it
could not take in (:class:`domain.events.FollowUpIncomplete`), at the end a few times more
(:data:`FOLLOW_UP_RETRY_DELAYS`); a run that still could not hand them all on ends
``INCOMPLETE``, and the next run hands on again what it wrote.

While a run inserts, the planner's statistics are refreshed each time govhub's tables have
doubled (``db.statistics``): a first load otherwise keeps the plans made for empty tables.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.base import Batch, Connector
from connectors.breaker import BreakerState, CircuitBreaker
from connectors.errors import ConnectorError, RecordError, error_code
from connectors.locks import source_lock
from db.fit import TooLong, fit_columns, text_length
from db.ingest import IngestCounts, ingest_records
from db.linking_facts import MentionRow
from db.linking_lock import grading_lock, linking_lock
from db.models import DeadLetter, Record, SyncRun, SyncState
from db.regions import seed_regions, upsert_regions
from db.resolution import resolve_new_mentions
from db.risk import RiskConfig, grade_touched
from db.statistics import note_growth
from db.storable import distinct_text, storable_text
from domain.enums import RecordChangeKind, SourceSystem
from domain.events import ChangedRecord, FollowUpIncomplete
from domain.records import ParsedRecord
from domain.risk.alerts import RiskAlert

log = structlog.get_logger(__name__)

RESOLVE_EVERY = 1000
"""Changed records committed between two resolution passes of one run."""

FOLLOW_UP_RETRY_DELAYS = (0.5, 5.0)
"""Seconds before each further try, at the end of a run, to hand ``after_linking`` (matter
intake) the changes it could not finish (its transaction failed)."""

Progress = Callable[["RunResult"], None]
ChangeListener = Callable[[SourceSystem, Sequence[ChangedRecord]], Awaitable[None]]
RiskListener = Callable[[Sequence[RiskAlert]], Awaitable[None]]


@dataclass
class RunResult:
    """What one run did (mirrors the ``sync_runs`` row)."""

    source: SourceSystem
    run_id: int | None = None
    status: str = "RUNNING"
    fetched: int = 0
    counts: IngestCounts = field(default_factory=IngestCounts)
    dead_lettered: int = 0
    retries: int = 0
    batches: int = 0
    error: str | None = None
    resolved_mentions: int = 0
    resolution_failures: int = 0
    risk_alerts: int = 0
    grading_failures: int = 0
    grading_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in {"SUCCEEDED", "SKIPPED"}


def _now() -> datetime:
    return datetime.now(UTC)


def parse_items(
    connector: Connector, batch: Batch
) -> tuple[list[ParsedRecord], list[tuple[str | None, str, str, Any]]]:
    """Split a batch into parsed records and (key, code, reason, raw) failures."""
    parsed: list[ParsedRecord] = []
    failures: list[tuple[str | None, str, str, Any]] = []
    for item in batch.items:
        if item.problem is not None:
            failures.append((item.key, "MALFORMED", item.problem, item.raw))
            continue
        try:
            parsed.append(parse_record(connector, item.raw))
        except RecordError as exc:
            failures.append((exc.key or item.key, exc.code, exc.reason, item.raw))
    return parsed, failures


def parse_record(connector: Connector, raw: Any) -> ParsedRecord:
    """``raw`` mapped by ``connector`` and fitted to govhub's columns (``db.fit``: free text
    cut); raises :class:`RecordError` (``FIELD_TOO_LONG`` for an identifier or code that does
    not fit)."""
    parsed = connector.parse(raw)
    try:
        return fit_columns(parsed)
    except TooLong as exc:
        raise RecordError("FIELD_TOO_LONG", str(exc), key=parsed.source_key) from exc


VersionOf = Callable[[Any], datetime | None]


_KEY_LENGTH = text_length(DeadLetter.__table__.c.source_key)
_WATERMARK_LENGTH = text_length(SyncState.__table__.c.watermark)


async def record_dead_letters(
    session: AsyncSession,
    source: SourceSystem,
    failures: list[tuple[str | None, str, str, Any]],
    run_id: int | None,
    version_of: VersionOf | None = None,
) -> None:
    """Keep each failure whole; a repeat of an open one bumps its attempt count.

    A failure for a key whose stored record is as new or newer — its update time, read with
    ``version_of`` even from a payload that does not parse, is not after the stored one's, or
    it repeats a letter already resolved — is a stale delivery, out of order: no letter is
    (re)opened for it. A newer failure for such a key opens one as usual.
    """
    for given, code, reason, raw in failures:
        # a key longer than its column (itself refused as FIELD_TOO_LONG) is kept cut, with a
        # digest of the whole: two such keys are two letters
        key = given if given is None else distinct_text(given, _KEY_LENGTH)
        existing = None
        if key is not None:
            existing = await session.scalar(
                select(DeadLetter).where(
                    DeadLetter.source == source,
                    DeadLetter.source_key == key,
                    DeadLetter.resolved_at.is_(None),
                )
            )
            if existing is None and await _superseded(session, source, key, raw, version_of):
                log.info("stale_dead_letter_ignored", source=source.value)
                continue
        if existing is not None:
            existing.attempts += 1
            existing.error_code, existing.reason, existing.raw = code, reason, raw
            existing.last_seen_at, existing.run_id = _now(), run_id
        else:
            session.add(
                DeadLetter(
                    source=source,
                    source_key=key,
                    error_code=code,
                    reason=reason,
                    raw=raw,
                    run_id=run_id,
                )
            )


async def _superseded(
    session: AsyncSession, source: SourceSystem, key: str, raw: Any, version_of: VersionOf | None
) -> bool:
    """Whether a failed delivery of ``key`` is older than (or a repeat of) what is stored."""
    stored = (
        await session.execute(
            select(Record.id, Record.source_updated_at).where(
                Record.source == source, Record.source_key == key
            )
        )
    ).first()
    if stored is None:
        return False
    delivered = version_of(raw) if version_of is not None else None
    if delivered is not None:
        stored_at: datetime = stored.source_updated_at
        return delivered <= stored_at
    resolved = await session.scalars(
        select(DeadLetter).where(
            DeadLetter.source == source,
            DeadLetter.source_key == key,
            DeadLetter.resolved_at.is_not(None),
        )
    )
    return any(letter.raw == raw for letter in resolved)


async def abandon_stale_runs(session: AsyncSession, source: SourceSystem) -> int:
    """Mark the source's runs still ``RUNNING`` as ``ABANDONED``; call it holding the source's
    lock, when no run of it can be alive (its process was killed, ``kill -9``)."""
    result = await session.execute(
        update(SyncRun)
        .where(SyncRun.source == source, SyncRun.status == "RUNNING")
        .values(
            status="ABANDONED",
            finished_at=_now(),
            error="ABANDONED: its process ended without finishing the run",
        )
    )
    abandoned = int(getattr(result, "rowcount", 0) or 0)
    if abandoned:
        log.warning("sync_runs_abandoned", source=source.value, runs=abandoned)
    return abandoned


async def _state(session: AsyncSession, source: SourceSystem) -> SyncState:
    state = await session.get(SyncState, source)
    if state is None:
        state = SyncState(source=source, breaker_state="CLOSED", consecutive_failures=0)
        session.add(state)
        await session.flush()
    return state


def _restore_breaker(breaker: CircuitBreaker | None, state: SyncState) -> None:
    if breaker is None:
        return
    breaker.state = BreakerState(state.breaker_state)
    breaker.consecutive_failures = state.consecutive_failures
    breaker.opened_at = state.breaker_opened_at.timestamp() if state.breaker_opened_at else None


def _persist_breaker(breaker: CircuitBreaker | None, state: SyncState) -> None:
    if breaker is None:
        return
    state.breaker_state = breaker.state.value
    state.consecutive_failures = breaker.consecutive_failures
    state.breaker_opened_at = (
        datetime.fromtimestamp(breaker.opened_at, UTC) if breaker.opened_at is not None else None
    )


async def resolve_after_batch(
    sessions: async_sessionmaker[AsyncSession],
    source: SourceSystem,
    record_ids: Collection[int],
    result: RunResult,
    fresh: Mapping[int, MentionRow] | None = None,
) -> bool:
    """Resolve the source's unresolved mentions and re-link ``record_ids``; never raises.
    ``fresh``: mentions as the run's batches wrote them, by id (not read back).

    Returns False when the step failed (and was rolled back).
    """
    try:
        async with sessions.begin() as session, linking_lock(session):
            counts = await resolve_new_mentions(
                session, source=source, relink=record_ids, fresh=fresh
            )
    except Exception as exc:  # the batch is committed; the next step retries these mentions
        result.resolution_failures += 1
        # the type only: a database error's text can carry bound values
        log.warning("resolution_failed", source=source.value, error=type(exc).__name__)
        return False
    result.resolved_mentions += counts.mentions
    return True


async def grade_after_batch(
    sessions: async_sessionmaker[AsyncSession],
    source: SourceSystem,
    record_ids: Collection[int],
    result: RunResult,
    risk: RiskConfig,
    listener: RiskListener | None,
) -> bool:
    """Grade what ``record_ids`` affect and announce the alerts; never raises.

    Returns False when the step failed (and was rolled back).
    """
    if not record_ids:
        return True
    started = 0.0
    try:
        async with sessions.begin() as session, grading_lock(session):
            started = time.perf_counter()  # the wait for the lock is not grading
            alerts = await grade_touched(session, record_ids, risk)
    except Exception as exc:  # the batch is committed; the run's catch-up grades these again
        result.grading_failures += 1
        log.warning("grading_failed", source=source.value, error=type(exc).__name__)
        return False
    finally:
        if started:
            result.grading_seconds += time.perf_counter() - started
    result.risk_alerts += len(alerts)
    if listener is not None and alerts:
        try:
            await listener(alerts)
        except Exception as exc:  # subscribers miss these alerts; the grades are committed
            log.warning("risk_alert_failed", source=source.value, error=type(exc).__name__)
    return True


async def _store_batch(
    sessions: async_sessionmaker[AsyncSession],
    connector: Connector,
    batch: Batch,
    result: RunResult,
) -> IngestCounts:
    """Commit one batch; returns its counts with the records it inserted, changed or withdrew."""
    parsed, failures = parse_items(connector, batch)
    async with sessions.begin() as session:
        if batch.extras.get("regions"):
            # Region rows a connector delivers (the grid's tree) commit with their batch;
            # townships hang under the seeded counties, so make sure those are there.
            await seed_regions(session)
            await upsert_regions(session, batch.extras["regions"])
        counts = await ingest_records(session, parsed)
        await record_dead_letters(
            session,
            connector.source,
            failures,
            result.run_id,
            getattr(connector, "updated_at_of", None),
        )
        state = await _state(session, connector.source)
        if batch.checkpoint is not None:
            state.cursor = batch.checkpoint
        if batch.watermark is not None:  # shown, never compared: cut to its column
            state.watermark = storable_text(batch.watermark, _WATERMARK_LENGTH)
        _persist_breaker(connector.client.breaker, state)
        result.fetched += len(batch.items)
        result.counts.add(counts)
        result.dead_lettered += len(failures)
        result.retries = connector.client.retries
        result.batches += 1
        run = await session.get(SyncRun, result.run_id)
        assert run is not None
        _write_counts(run, result)
    return counts


def _write_counts(run: SyncRun, result: RunResult) -> None:
    run.fetched = result.fetched
    run.inserted = result.counts.inserted
    run.updated = result.counts.updated
    run.unchanged = result.counts.unchanged
    run.deleted = result.counts.deleted
    run.dead_lettered = result.dead_lettered
    run.retries = result.retries


async def sync_source(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    connector: Connector,
    *,
    full: bool = False,
    progress: Progress | None = None,
    resolve: bool = True,
    on_changes: ChangeListener | None = None,
    risk: RiskConfig | None = None,
    on_risk_alerts: RiskListener | None = None,
    after_linking: ChangeListener | None = None,
) -> RunResult:
    """Run one sync of one source; never raises for source failures (see ``result.error``).

    With ``resolve`` (the default) new party mentions are resolved every
    :data:`RESOLVE_EVERY` changed records and at the end of the run (see the module
    docstring); without it they wait for a full :func:`db.resolution.resolve_all`.
    ``on_changes`` hears of each committed batch's changed records (subscriptions); it cannot
    fail the sync. ``risk`` (the shipped rules by default) grades each batch's records after
    resolution; ``on_risk_alerts`` hears of grades that rose to the alert level.
    ``after_linking`` hears of the changed records once their links are stored, after each
    resolution pass (matters open and follow their records there); it cannot fail the sync
    either.
    """
    source = connector.source
    risk = risk or RiskConfig.default()
    result = RunResult(source=source)
    async with source_lock(engine, source) as held:
        if not held:
            result.status = "SKIPPED"
            result.error = "SOURCE_BUSY: another process is syncing this source"
            return result
        async with sessions.begin() as session:
            abandoned_since = await _follow_up_owed_since(session, source)
            await abandon_stale_runs(session, source)
            state = await _state(session, source)
            checkpoint = None if full else state.cursor
            _restore_breaker(connector.client.breaker, state)
            state.last_run_at = _now()
            run = SyncRun(source=source, full=full, status="RUNNING")
            session.add(run)
            await session.flush()
            result.run_id = run.id
        connector.client.retries = 0
        pending: set[int] = set()  # changed records not yet through a resolution pass
        fresh: dict[int, MentionRow] = {}  # their new mentions as written, by id
        ungraded: set[int] = set()  # changed records not yet graded
        unheard: list[ChangedRecord] = []  # changes ``after_linking`` has not heard of yet
        if abandoned_since is not None:  # what a killed run committed but never followed up
            recovered = await changed_since(sessions, source, abandoned_since)
            ungraded.update(change.record_id for change in recovered)
            unheard.extend(recovered)
            if resolve:
                pending.update(change.record_id for change in recovered)
        try:
            async for batch in connector.fetch(checkpoint, full=full):
                counts = await _store_batch(sessions, connector, batch, result)
                await _announce(on_changes, source, counts.changes)
                ungraded.update(counts.changed_ids)
                unheard.extend(counts.changes)
                if resolve:
                    pending.update(counts.changed_ids)
                    fresh.update((mention.mention_id, mention) for mention in counts.mentions)
                if len(pending) >= RESOLVE_EVERY:
                    if await resolve_after_batch(sessions, source, pending, result, fresh):
                        pending.clear()  # on failure they stay pending for the next pass
                    fresh.clear()  # resolved, or read back by the next pass
                # once the chunk's parties are resolved and its records linked (every batch
                # without resolution): grade, then let matters open and follow their records
                if not pending:
                    if ungraded and await grade_after_batch(
                        sessions, source, ungraded, result, risk, on_risk_alerts
                    ):
                        ungraded.clear()
                    await _follow_up(after_linking, source, unheard)
                await note_growth(engine, counts.inserted)
                if progress is not None:
                    progress(result)
        except ConnectorError as exc:
            result.status, result.error = "FAILED", f"{error_code(exc)}: {exc}"
            log.warning("sync_failed", source=source.value, error=result.error)
        except Exception as exc:  # recorded as a failed run rather than left RUNNING
            result.status = "FAILED"
            result.error = f"INTERNAL: internal error ({type(exc).__name__})"
            log.exception("sync_crashed", source=source.value)
        else:
            result.status = "SUCCEEDED"
        if resolve:  # the last chunk, and mentions an earlier pass (or a crash) left unresolved
            await resolve_after_batch(sessions, source, pending, result, fresh)
        await grade_after_batch(sessions, source, ungraded, result, risk, on_risk_alerts)
        await _follow_up(after_linking, source, unheard)
        for delay in FOLLOW_UP_RETRY_DELAYS:  # what it could not finish, a few times more
            if not unheard:
                break
            await asyncio.sleep(delay)
            await _follow_up(after_linking, source, unheard)
        if unheard:  # the next run hands on whatever this one wrote (_follow_up_owed_since)
            log.error("follow_up_owed", source=source.value, records=len(unheard))
            owed = (f"matter intake could not take in {len({c.record_id for c in unheard})} "
                    "records: the next run hands them on")  # fmt: skip
            result.status = "INCOMPLETE"
            result.error = f"{result.error}; {owed}" if result.error else owed
        await _finish(sessions, connector, result)
    return result


async def _follow_up_owed_since(session: AsyncSession, source: SourceSystem) -> datetime | None:
    """When the oldest run whose follow-up may be missing began: a run still marked RUNNING
    (its process is gone: we hold the source's lock), or one marked ABANDONED or INCOMPLETE
    (matter intake could not take all it wrote in) since the last run that finished (a run
    that finishes, even FAILED, has graded and handed on all it holds, the records it
    recovered included; one killed while recovering has not)."""
    finished = await session.scalar(
        select(func.max(SyncRun.started_at))
        .where(SyncRun.source == source, SyncRun.status.in_(["SUCCEEDED", "FAILED"]))
    )
    owed = select(func.min(SyncRun.started_at)).where(
        SyncRun.source == source, SyncRun.status.in_(["RUNNING", "ABANDONED", "INCOMPLETE"])
    )
    if finished is not None:
        owed = owed.where(SyncRun.started_at > finished)
    since: datetime | None = await session.scalar(owed)
    return since


async def changed_since(
    sessions: async_sessionmaker[AsyncSession], source: SourceSystem, since: datetime
) -> list[ChangedRecord]:
    """The source's records written since ``since`` (when a run that was killed began): its
    batches are committed, but the grades, links and matters that follow a batch were kept
    in the dead process's memory. A run that finds such a run re-linking, grading and handing
    these records to matter intake again loses nothing; the steps are idempotent, so records
    another writer touched meanwhile are only done twice."""
    async with sessions() as session:
        rows = await session.execute(
            select(Record.id, Record.kind, Record.source, Record.region_code, Record.deleted)
            .where(Record.source == source, Record.updated_at >= since)
            .order_by(Record.id)
        )
        changes = [
            ChangedRecord(record_id, kind, origin, region,
                          RecordChangeKind.WITHDRAWN if deleted else RecordChangeKind.UPDATED)
            for record_id, kind, origin, region, deleted in rows
        ]  # fmt: skip
    if changes:
        log.warning("sync_resuming_follow_up", source=source.value, records=len(changes))
    return changes


def _drain(changes: list[ChangedRecord]) -> list[ChangedRecord]:
    """The changes, leaving the list empty."""
    drained = list(changes)
    changes.clear()
    return drained


async def _announce(
    listener: ChangeListener | None,
    source: SourceSystem,
    changes: Sequence[ChangedRecord],
    passing: tuple[type[Exception], ...] = (),
) -> None:
    """Tell ``listener`` what a committed batch changed; a failure is logged, never raised
    (but those of the ``passing`` types)."""
    if listener is None or not changes:
        return
    try:
        await listener(source, changes)
    except passing:
        raise
    except Exception as exc:  # subscribers miss this batch; the data itself is committed
        log.warning("change_announcement_failed", source=source.value, error=type(exc).__name__)


async def _follow_up(
    listener: ChangeListener | None, source: SourceSystem, unheard: list[ChangedRecord]
) -> None:
    """Hand ``unheard`` to ``after_linking`` (matter intake), leaving in it what the listener
    reports it could not finish (:class:`FollowUpIncomplete`: its transaction failed), for
    the next pass and the end of the run; any other failure is logged as for subscribers."""
    changes = _drain(unheard)
    try:
        await _announce(listener, source, changes, passing=(FollowUpIncomplete,))
    except FollowUpIncomplete as exc:
        unheard.extend(exc.remaining)
        log.warning("follow_up_incomplete", source=source.value, records=len(exc.remaining),
                    error=exc.cause)  # fmt: skip


async def _finish(
    sessions: async_sessionmaker[AsyncSession], connector: Connector, result: RunResult
) -> None:
    async with sessions.begin() as session:
        run = await session.get(SyncRun, result.run_id)
        assert run is not None
        result.retries = connector.client.retries
        _write_counts(run, result)
        run.status, run.error, run.finished_at = result.status, result.error, _now()
        state = await _state(session, connector.source)
        _persist_breaker(connector.client.breaker, state)
        if result.status == "SUCCEEDED":
            state.last_success_at = run.finished_at
    # One line per run that changed something or failed; a quiet run (the scheduler's
    # every 30 s, nothing new) is debug, so a log shows what happened, not that time passed.
    changed = (
        result.counts.inserted or result.counts.updated or result.counts.deleted
        or result.dead_lettered or result.status != "SUCCEEDED"
    )  # fmt: skip
    (log.info if changed else log.debug)(
        "sync_finished",
        source=result.source.value,
        status=result.status,
        fetched=result.fetched,
        inserted=result.counts.inserted,
        updated=result.counts.updated,
        deleted=result.counts.deleted,
        dead_lettered=result.dead_lettered,
        risk_alerts=result.risk_alerts,
        grading_seconds=round(result.grading_seconds, 3),
    )
