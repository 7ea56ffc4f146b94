"""Helpers for tests that sync from the sandbox over real HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.config import SourceConfig, parse_sources
from db.models import DeadLetter, Record
from domain.enums import SourceSystem
from hub.demo import render_sources_file
from sandbox.runner import Sandbox


def sources_document(
    sb: Sandbox,
    *,
    page_size: int = 50,
    timeout: float = 5.0,
    attempts: int = 8,
    breaker_threshold: int = 1000,
    cooldown: float = 0.5,
) -> str:
    """A sources file (TOML) for the running sandbox, with waits short enough for tests."""
    document = render_sources_file(sb.urls, sb.credentials, page_size=page_size)
    document = document.replace("timeout_seconds = 10", f"timeout_seconds = {timeout}")
    return document.replace(
        "\ncredentials",
        f"\nretry = {{ attempts = {attempts}, total_seconds = 60, initial_wait = 0.01, "
        f"max_wait = 0.05, jitter = 0.01 }}\nbreaker = {{ threshold = {breaker_threshold}, "
        f"cooldown_seconds = {cooldown} }}\ncredentials",
    )


def sources_for(
    sb: Sandbox,
    *,
    page_size: int = 50,
    timeout: float = 5.0,
    attempts: int = 8,
    breaker_threshold: int = 1000,
    cooldown: float = 0.5,
) -> dict[SourceSystem, SourceConfig]:
    """:func:`sources_document`, parsed."""
    return parse_sources(sources_document(
        sb, page_size=page_size, timeout=timeout, attempts=attempts,
        breaker_threshold=breaker_threshold, cooldown=cooldown))


async def control(sb: Sandbox, source: SourceSystem, **settings: Any) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{sb.urls[source]}/_sandbox/control", json=settings)
        response.raise_for_status()


async def stats(sb: Sandbox, source: SourceSystem) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sb.urls[source]}/_sandbox/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


async def sandbox_versions(sb: Sandbox, source: SourceSystem, keys: list[str]) -> dict[str, str]:
    """The sandbox's latest update time of each key (ISO), read record by record."""
    found: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=sb.urls[source]) as client:
        for key in keys:
            response = await client.get(f"/_sandbox/records/{key}")
            response.raise_for_status()
            found[key] = response.json()["updatedAt"]
    return found


async def hub_state(
    sessions: async_sessionmaker[AsyncSession], source: SourceSystem
) -> tuple[dict[str, datetime], set[str], set[str]]:
    """(live key → source_updated_at, deleted keys, keys with an open dead letter)."""
    async with sessions() as session:
        rows = (await session.execute(
            select(Record.source_key, Record.source_updated_at, Record.deleted).where(
                Record.source == source
            )
        )).all()  # fmt: skip
        letters = (await session.scalars(
            select(DeadLetter.source_key).where(
                DeadLetter.source == source, DeadLetter.resolved_at.is_(None)
            )
        )).all()  # fmt: skip
    live = {key: updated for key, updated, deleted in rows if not deleted}
    deleted = {key for key, _, is_deleted in rows if is_deleted}
    return live, deleted, {key for key in letters if key is not None}
