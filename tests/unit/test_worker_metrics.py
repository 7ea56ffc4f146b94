"""The metrics directory of ``serve --workers N``: emptied of an earlier run's metric files
(and of nothing else), refused by name when it cannot be written."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import ConfigErrorCode, SettingsError
from hub.worker_metrics import fresh_metrics_dir, release_metrics_dir


def test_an_earlier_runs_metric_files_are_removed_and_nothing_else(tmp_path: Path) -> None:
    # given a directory holding an earlier run's metric files beside someone else's files
    earlier = ["counter_4711.db", "histogram_4711.db", "gauge_livesum_4712.db"]
    others = ["govhub.db", "counter.txt", "notes.md"]
    for name in earlier + others:
        (tmp_path / name).write_bytes(b"x")
    # when serve prepares it
    directory = fresh_metrics_dir(tmp_path)
    # then only the metric files are gone
    assert directory == tmp_path.resolve()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(others)


def test_a_missing_directory_is_created_for_this_user_only(tmp_path: Path) -> None:
    directory = fresh_metrics_dir(tmp_path / "data" / "metrics")
    assert directory.is_dir()
    assert directory.stat().st_mode & 0o777 == 0o700


def test_a_directory_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a file", encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        fresh_metrics_dir(tmp_path / "plain" / "metrics")
    assert refused.value.code is ConfigErrorCode.INVALID_SETTING
    assert str(refused.value) == (
        f"GOVHUB_METRICS_DIR {tmp_path / 'plain' / 'metrics'} cannot be written: Not a directory"
    )


def test_a_directory_another_serve_holds_is_refused_and_left_alone(tmp_path: Path) -> None:
    # given a serve running on the directory, its workers' files in it
    fresh_metrics_dir(tmp_path)
    try:
        (tmp_path / "counter_4711.db").write_bytes(b"x")
        # when a second serve prepares the same directory
        with pytest.raises(SettingsError) as refused:
            fresh_metrics_dir(tmp_path)
        # then it is refused by name, and the running serve's files are still there
        assert refused.value.code is ConfigErrorCode.INVALID_SETTING
        assert str(refused.value) == (
            f"GOVHUB_METRICS_DIR {tmp_path.resolve()} is in use by another running serve: "
            "one serve per directory"
        )
        assert (tmp_path / "counter_4711.db").exists()
    finally:
        release_metrics_dir(tmp_path)
    # and once the first has stopped, the next one has it
    assert fresh_metrics_dir(tmp_path) == tmp_path.resolve()
    release_metrics_dir(tmp_path)
