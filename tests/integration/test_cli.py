"""The command line: migrate with the region seed, configuration errors, sync's refusals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for variable in ("GOVHUB_DATABASE_URL", "GOVHUB_PII_KEY", "GOVHUB_JWT_SECRET", "GOVHUB_ENV"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def test_migrate_creates_the_embedded_database_and_seeds_regions(workdir: Path) -> None:
    result = runner.invoke(app, ["migrate", "--seed-regions"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        (name,) = connection.execute("SELECT name FROM regions WHERE code='510129'").fetchone()
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert name == "大邑县"
    assert revision
    assert (workdir / "data" / "pii.key").exists()


def test_prod_without_keys_stops_naming_the_variable(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVHUB_ENV", "prod")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "GOVHUB_PII_KEY" in result.output


def test_sync_without_a_sources_file_says_so(workdir: Path) -> None:
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 2
    assert "GOVHUB_SOURCES_FILE" in result.output


def test_sync_with_a_bad_sources_file_names_the_key(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = workdir / "sources.toml"
    sources.write_text('[sources.COURT]\nbase_url = "http://x"\ntimeout_seconds = -1\n')
    monkeypatch.setenv("GOVHUB_SOURCES_FILE", str(sources))
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 2
    assert "sources.COURT.timeout_seconds" in result.output
