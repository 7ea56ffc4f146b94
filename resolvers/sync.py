"""``syncStatus``: one entry per source, from sync_state, sync_runs and dead_letters."""

from __future__ import annotations

from db import status_queries
from domain.enums import SourceSystem
from resolvers.rows import fetch_all
from schema.context import Info
from schema.sync import SourceSyncStatus, SyncRunSummary

_RUN_COUNTS = (
    "status", "full", "started_at", "finished_at", "fetched", "inserted", "updated",
    "unchanged", "deleted", "dead_lettered", "retries", "error",
)  # fmt: skip


async def resolve_sync_status(info: Info) -> list[SourceSyncStatus]:
    sessions = info.context.sessions
    # One resolver, so these three run one after another: no session is shared concurrently.
    state_rows = await fetch_all(sessions, status_queries.sync_states())
    run_rows = await fetch_all(sessions, status_queries.latest_sync_runs())
    states = {row["source"]: row for row in state_rows}
    runs = {row["source"]: row for row in run_rows}
    dead_rows = await fetch_all(sessions, status_queries.open_dead_letter_counts())
    dead = {row["source"]: int(row["open_count"]) for row in dead_rows}
    statuses = []
    for source in SourceSystem:
        state, run = states.get(source), runs.get(source)
        statuses.append(
            SourceSyncStatus(
                source=source,
                watermark=state["watermark"] if state else None,
                breaker_state=state["breaker_state"] if state else "CLOSED",
                consecutive_failures=state["consecutive_failures"] if state else 0,
                breaker_opened_at=state["breaker_opened_at"] if state else None,
                last_run_at=state["last_run_at"] if state else None,
                last_success_at=state["last_success_at"] if state else None,
                last_run=SyncRunSummary(**{name: run[name] for name in _RUN_COUNTS})
                if run
                else None,
                open_dead_letters=dead.get(source, 0),
            )
        )
    return statuses
