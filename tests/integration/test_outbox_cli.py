"""``govhub outbox list|retry|cancel|purge`` on the embedded database."""

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
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    with sqlite3.connect(tmp_path / "data" / "govhub.db") as connection:
        connection.execute(
            "INSERT INTO outbox (target, operation, idempotency_key, payload, status, attempts,"
            " lookups, created_at, last_error_code, last_error, aggregate_id)"
            " VALUES ('COURT', 'court.filing', 'GH-M1-D1', 'sealed', 'DEAD', 8, 0,"
            " '2026-11-30 10:00:00', 'TIMEOUT', 'gave up after 8 attempts', 'M1')")
    return tmp_path


def status(workdir: Path) -> str:
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        (value,) = connection.execute("SELECT status FROM outbox").fetchone()
    return str(value)


def test_list_shows_a_dead_write_with_its_reason(workdir: Path) -> None:
    result = runner.invoke(app, ["outbox", "list", "--state", "dead"], env={"COLUMNS": "250"})

    assert result.exit_code == 0, result.output
    assert "GH-M1-D1" in result.stdout and "TIMEOUT" in result.stdout  # a result: stdout
    assert "GH-M1-D1" not in result.stderr


def test_retry_restarts_a_dead_write_as_unknown_and_cancel_stops_it(workdir: Path) -> None:
    retried = runner.invoke(app, ["outbox", "retry", "1"])
    assert retried.exit_code == 0, retried.output
    assert "reset 1 of 1" in retried.stdout
    assert status(workdir) == "UNKNOWN"  # read back before any resend

    cancelled = runner.invoke(app, ["outbox", "cancel", "1"])
    assert "cancelled 1 of 1" in cancelled.output
    assert status(workdir) == "CANCELLED"


@pytest.mark.parametrize("command", ["retry", "replay", "cancel"])
def test_an_unknown_id_is_named_and_fails_when_none_exists(workdir: Path, command: str) -> None:
    result = runner.invoke(app, ["outbox", command, "999"])

    assert result.exit_code == 1, result.output
    assert "no write-back with id 999" in result.stderr
    assert status(workdir) == "DEAD"


def test_unknown_ids_beside_a_known_one_are_named_but_the_known_one_is_retried(
    workdir: Path,
) -> None:
    result = runner.invoke(app, ["outbox", "retry", "1", "998", "999"])

    assert result.exit_code == 0, result.output
    assert "reset 1 of 3" in result.stdout
    assert "no write-backs with ids 998, 999" in result.stderr
    assert status(workdir) == "UNKNOWN"


def test_list_shows_a_long_reference_whole_off_a_terminal(workdir: Path) -> None:
    # given a write whose reference is as long as a reference gets, with a long error beside it
    reference = "GH-" + "2026112300000123" * 3 + "-12-COUR"
    reference = reference[:64]
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        connection.execute(
            "UPDATE outbox SET idempotency_key = ?, aggregate_id = ?, last_error = ?",
            (reference, "M" * 40, "gave up after 8 attempts " * 4))
    # when it is listed into a log (no terminal: 160 columns)
    result = runner.invoke(app, ["outbox", "list"])
    # then the reference is on one line, uncut
    assert result.exit_code == 0, result.output
    assert reference in result.stdout


def test_purge_deletes_only_delivered_and_cancelled_writes_older_than_asked(
    workdir: Path,
) -> None:
    # given beside the DEAD write: two confirmed and one cancelled long ago, one confirmed now
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        for key, state, updated in (
            ("GH-OLD-1", "CONFIRMED", "2020-01-01 00:00:00"),
            ("GH-OLD-2", "SENT", "2020-01-01 00:00:00"),
            ("GH-OLD-3", "CANCELLED", "2020-01-01 00:00:00"),
            ("GH-NEW-1", "CONFIRMED", "2999-01-01 00:00:00"),
        ):
            connection.execute(
                "INSERT INTO outbox (target, operation, idempotency_key, payload, status,"
                " attempts, lookups, created_at, updated_at) VALUES ('GRID', 'grid.assign', ?,"
                " 'sealed', ?, 1, 0, ?, ?)", (key, state, updated, updated))

    # when writes settled more than 30 days ago are purged
    result = runner.invoke(app, ["outbox", "purge", "--older-than", "30"])

    # then the old delivered and cancelled ones are gone; the DEAD one and the recent one stay
    assert result.exit_code == 0, result.output
    assert "3" in result.output
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        left = {key for (key,) in connection.execute("SELECT idempotency_key FROM outbox")}
    assert left == {"GH-M1-D1", "GH-NEW-1"}


def test_list_gives_times_in_beijing_time_with_their_offset(workdir: Path) -> None:
    # given a write due again at 10:00 UTC (stored as UTC), that is 18:00 in Beijing
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        connection.execute("UPDATE outbox SET status = 'UNKNOWN',"
                           " next_attempt_at = '2026-11-30 10:00:00.000000'")

    result = runner.invoke(app, ["outbox", "list"], env={"COLUMNS": "250"})

    # then the operator in the centre reads the time as it is there, and says which it is
    assert result.exit_code == 0, result.output
    assert "2026-11-30 18:00:00+08:00" in result.stdout
    assert "10:00:00" not in result.stdout
