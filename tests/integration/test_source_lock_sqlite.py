"""One sync per source on embedded SQLite across processes: a lock file beside the database."""

from __future__ import annotations

from pathlib import Path

from connectors.locks import source_lock
from db.engine import create_engine
from domain.enums import SourceSystem


async def test_two_engines_on_one_sqlite_file_never_sync_a_source_at_once(
    tmp_path: Path,
) -> None:
    # two engines stand for two processes (each opens the lock file on its own)
    url = f"sqlite+aiosqlite:///{tmp_path / 'govhub.db'}"
    first, second = create_engine(url), create_engine(url)
    try:
        async with source_lock(first, SourceSystem.COURT) as held:
            assert held
            async with source_lock(second, SourceSystem.COURT) as other:
                assert not other  # the second finds the source busy
            async with source_lock(second, SourceSystem.GRID) as grid:
                assert grid  # another source is free
        async with source_lock(second, SourceSystem.COURT) as again:
            assert again  # released when the first run ended
    finally:
        await first.dispose()
        await second.dispose()
    assert (tmp_path / "govhub.db.sync-COURT.lock").exists()
