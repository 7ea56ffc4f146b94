"""Sync health per source system (同步状态)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.enums import SourceSystem


@strawberry.type(description="One sync run of a source, with its counts (同步批次).")
class SyncRunSummary:
    status: str = strawberry.field(
        description="RUNNING, SUCCEEDED, FAILED, ABANDONED (its process died) or INCOMPLETE "
        "(matter intake could not take in all it wrote: the next run does) (运行状态)."
    )
    full: bool = strawberry.field(description="A full rather than incremental sync (全量同步).")
    started_at: datetime = strawberry.field(description="Started at (开始时间).")
    finished_at: datetime | None = strawberry.field(description="Finished at (结束时间).")
    fetched: int = strawberry.field(description="Records fetched from the source (拉取数).")
    inserted: int = strawberry.field(description="New records stored (新增数).")
    updated: int = strawberry.field(description="Stored records changed (更新数).")
    unchanged: int = strawberry.field(description="Re-deliveries with no change (未变数).")
    deleted: int = strawberry.field(description="Records withdrawn by the source (删除数).")
    dead_lettered: int = strawberry.field(description="Records set aside as dead letters (死信数).")
    retries: int = strawberry.field(description="Requests retried (重试次数).")
    error: str | None = strawberry.field(
        description="Why the run failed, in one line naming the source; no personal data "
        "(失败原因)."
    )


@strawberry.type(description="Where syncing one source system stands (数据源同步状态).")
class SourceSyncStatus:
    source: SourceSystem = strawberry.field(description="Source system (来源系统).")
    watermark: str | None = strawberry.field(
        description="Where the next incremental sync resumes (同步水位)."
    )
    breaker_state: str = strawberry.field(
        description="Circuit breaker: CLOSED, OPEN or HALF_OPEN (熔断器状态)."
    )
    consecutive_failures: int = strawberry.field(
        description="Requests in a row that failed with their retries spent (连续失败次数)."
    )
    breaker_opened_at: datetime | None = strawberry.field(
        description="When the breaker last opened (熔断时间)."
    )
    last_run_at: datetime | None = strawberry.field(description="Last run started (最近同步).")
    last_success_at: datetime | None = strawberry.field(
        description="Last run that succeeded (最近成功同步)."
    )
    last_run: SyncRunSummary | None = strawberry.field(
        description="The counts of the newest run (最近一次同步批次)."
    )
    open_dead_letters: int = strawberry.field(
        description="Dead letters not yet replayed or resolved (未处理死信数)."
    )
