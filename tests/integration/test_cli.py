"""The command line: migrate with the region seed, configuration errors, sync's refusals."""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from db.audit import AuditEvent, append_events, configure_audit_key
from db.audit_checkpoints import CheckpointFile, write_checkpoint
from db.engine import create_engine, session_factory
from db.pii import configure_pii
from domain.enums import SourceSystem
from hub.cli import app
from hub.demo import render_sources_file
from sandbox.runner import DEFAULT_CREDENTIALS, bind_socket
from tests.conftest import service_missing

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


def test_migrate_on_a_database_a_newer_version_migrated_stops_in_one_line(
    workdir: Path,
) -> None:
    # given the embedded database migrated by a newer govhub (a revision this one lacks)
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0999'")
    # when this version migrates it
    result = runner.invoke(app, ["migrate"])
    # then it stops with one line saying so, and leaves the database as it found it
    assert result.exit_code == 2, result.output
    refusal = [line for line in result.output.splitlines() if "database error" in line]
    assert len(refusal) == 1 and refusal[0].startswith(
        "database error: the database's schema is at revision 0999, which this version of "
        "govhub does not know"
    )
    assert "Traceback" not in result.output
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == "0999"


def test_prod_without_keys_stops_naming_the_variable(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVHUB_ENV", "prod")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "configuration error (MISSING_SETTING): GOVHUB_PII_KEY" in result.output


def test_a_setting_govhub_cannot_use_is_coded(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in (("GOVHUB_PII_KEY", "not base64!"), ("GOVHUB_AUDIT_KEY", "c2hvcnQ=")):
        monkeypatch.setenv(variable, value)
        result = runner.invoke(app, ["migrate"])
        assert result.exit_code == 2, result.output
        assert f"configuration error (INVALID_SETTING): {variable}" in result.output
        assert value not in result.output and "Traceback" not in result.output
        monkeypatch.delenv(variable)


def test_sync_without_a_sources_file_says_so(workdir: Path) -> None:
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 2
    assert "(MISSING_SETTING): GOVHUB_SOURCES_FILE is not set" in result.output


def test_sync_with_a_bad_sources_file_names_the_key(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = workdir / "sources.toml"
    sources.write_text('[sources.COURT]\nbase_url = "http://x"\ntimeout_seconds = -1\n')
    monkeypatch.setenv("GOVHUB_SOURCES_FILE", str(sources))
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 2
    assert "configuration error (INVALID_SOURCES_FILE)" in result.output
    assert "sources.COURT.timeout_seconds" in result.output


@pytest.mark.parametrize("command", [["sync"], ["serve", "--port", "9"]])
def test_a_missing_credential_is_a_sources_file_error_before_anything_runs(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    _sources_never_asked(workdir, monkeypatch)
    sources = workdir / "sources.toml"
    text = sources.read_text(encoding="utf-8")
    without = re.sub(r', password = "[^"]*"', "", text, count=1)  # the police system's
    assert without != text
    sources.write_text(without, encoding="utf-8")
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "configuration error (INVALID_SOURCES_FILE)" in result.output
    assert "credentials.password is required" in result.output
    assert not (workdir / "data" / "govhub.db").exists()  # nothing ran


def test_a_command_for_one_source_checks_that_source_only(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, pii_key: bytes
) -> None:
    _sources_never_asked(workdir, monkeypatch)
    sources = workdir / "sources.toml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(re.sub(r', password = "[^"]*"', "", text, count=1), encoding="utf-8")
    try:  # the police system's password is missing; replaying the court's letters needs none
        result = runner.invoke(app, ["deadletter", "replay", "--source", "COURT"])
    finally:
        configure_pii(pii_key)
        configure_audit_key(None)
    assert result.exit_code == 0, result.output
    assert "INVALID_SOURCES_FILE" not in result.output


def _sources_never_asked(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid sources file whose systems are never reached (the command stops before)."""
    sources = workdir / "sources.toml"
    urls = {s: f"http://127.0.0.1:9/{s.value}" for s in SourceSystem}
    sources.write_text(render_sources_file(urls, DEFAULT_CREDENTIALS), encoding="utf-8")
    monkeypatch.setenv("GOVHUB_SOURCES_FILE", str(sources))


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["sync", "GRID"], "sources.GRID: not in the sources file"),
        (["sync", "COURT", "MEDIATION"], "sources.COURT.enabled is false"),
        (["deadletter", "replay", "--source", "GRID"], "sources.GRID: not in the sources file"),
    ],
)
def test_a_source_named_but_not_configured_is_refused_not_skipped_in_silence(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], says: str
) -> None:
    # given a sources file without the grid and with the court switched off
    _sources_never_asked(workdir, monkeypatch)
    sources = workdir / "sources.toml"
    text = sources.read_text(encoding="utf-8")
    grid = re.search(r"\[sources\.GRID\].*?(?=\[sources\.|\Z)", text, re.S)
    assert grid is not None
    text = text.replace(grid.group(0), "").replace(
        "[sources.COURT]\n", "[sources.COURT]\nenabled = false\n")
    sources.write_text(text, encoding="utf-8")
    # when a command names one of them
    result = runner.invoke(app, command)
    # then it stops in one coded line naming the source, instead of doing nothing with status 0
    assert result.exit_code == 2, result.output
    assert f"configuration error (INVALID_SOURCES_FILE): sources file: {says}" in (
        " ".join(result.output.split()))
    assert not (workdir / "data" / "govhub.db").exists()  # nothing migrated, nothing synced


def test_sync_with_more_than_one_worker_on_sqlite_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sources_never_asked(workdir, monkeypatch)
    result = runner.invoke(app, ["sync", "--workers", "2"])
    assert result.exit_code == 2
    assert "(INVALID_SETTING)" in result.output and "needs PostgreSQL" in result.output


def test_sync_with_a_rules_file_that_does_not_load_names_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sources_never_asked(workdir, monkeypatch)
    rules = workdir / "rules.toml"
    rules.write_text("[[rule]]\nid = 1\n", encoding="utf-8")
    monkeypatch.setenv("GOVHUB_RISK_RULES_FILE", str(rules))
    for command in (["sync"], ["sync", "--workers", "2"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "configuration error (INVALID_RISK_RULES)" in result.output
        assert "GOVHUB_RISK_RULES_FILE" in result.output
    assert not (workdir / "data" / "govhub.db").exists()  # nothing migrated, nothing synced


def test_risk_regrade_regrades_and_refuses_a_rules_file_that_does_not_load(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = runner.invoke(app, ["risk", "regrade"])  # a fresh database: nothing to grade
    assert done.exit_code == 0, done.output
    assert "regraded 0 records" in done.output
    rules = workdir / "rules.toml"
    rules.write_text("[[rule]]\nid = 1\n", encoding="utf-8")
    monkeypatch.setenv("GOVHUB_RISK_RULES_FILE", str(rules))
    refused = runner.invoke(app, ["risk", "regrade"])
    assert refused.exit_code == 2, refused.output
    assert "configuration error (INVALID_RISK_RULES)" in refused.output


@pytest.mark.parametrize(
    ("variable", "text", "code"),
    [
        ("GOVHUB_DEADLINE_RULES_FILE", "[[rule]]\nid = 1\n", "INVALID_DEADLINE_RULES"),
        ("GOVHUB_DEADLINE_RULES_FILE", "not toml = = \n", "INVALID_DEADLINE_RULES"),
        ("GOVHUB_CALENDAR_OVERRIDES_FILE", "[[rule]]\nid = 1\n", "INVALID_CALENDAR_OVERRIDES"),
        ("GOVHUB_RISK_RULES_FILE", "[[rule]]\nid = 1\n", "INVALID_RISK_RULES"),
        ("GOVHUB_CALENDAR_OVERRIDES_FILE", "override = [1]\n", "INVALID_CALENDAR_OVERRIDES"),
        ("GOVHUB_DEADLINE_RULES_FILE", "# 时限\n".encode("gbk"), "INVALID_DEADLINE_RULES"),
        ("GOVHUB_RISK_RULES_FILE", "# 风险\n".encode("gbk"), "INVALID_RISK_RULES"),
    ],
)
@pytest.mark.parametrize("command", [["sync"], ["serve", "--port", "9"], ["demo", "--port", "9"]])
def test_a_rules_file_that_does_not_load_is_one_coded_line_before_anything_runs(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, text: str | bytes,
    code: str, command: list[str],
) -> None:
    _sources_never_asked(workdir, monkeypatch)
    rules = workdir / "rules.toml"
    if isinstance(text, bytes):  # a file saved in another encoding (GBK)
        rules.write_bytes(text)
    else:
        rules.write_text(text, encoding="utf-8")
    monkeypatch.setenv(variable, str(rules))
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert f"configuration error ({code}): {variable}: " in result.output
    assert "Traceback" not in result.output
    assert not (workdir / "data" / "govhub.db").exists()  # nothing migrated, nothing started


@pytest.mark.parametrize(
    ("variable", "code"),
    [
        ("GOVHUB_SOURCES_FILE", "INVALID_SOURCES_FILE"),
        ("GOVHUB_RISK_RULES_FILE", "INVALID_RISK_RULES"),
        ("GOVHUB_DEADLINE_RULES_FILE", "INVALID_DEADLINE_RULES"),
        ("GOVHUB_CALENDAR_OVERRIDES_FILE", "INVALID_CALENDAR_OVERRIDES"),
    ],
)
def test_a_file_saved_in_gbk_is_one_coded_line_asking_for_utf8(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, code: str
) -> None:
    # given a file saved by an editor in GBK, as Chinese Windows does, a comment in Chinese
    _sources_never_asked(workdir, monkeypatch)
    saved = workdir / "saved-in-gbk.toml"
    saved.write_bytes("# 三门峡市 时限\n".encode("gbk"))
    monkeypatch.setenv(variable, str(saved))
    # when sync starts
    result = runner.invoke(app, ["sync"])
    # then it stops in one coded line that names the file and asks for UTF-8
    assert result.exit_code == 2, result.output
    assert f"configuration error ({code})" in result.output
    assert str(saved) in result.output and "UTF-8" in result.output
    assert "Traceback" not in result.output
    assert not (workdir / "data" / "govhub.db").exists()  # nothing migrated, nothing synced


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GOVHUB_MATTER_OPEN_KINDS", "GRID_EVENT,PETITON"),
        ("GOVHUB_MATTER_OPEN_CATEGORIES", "neighbour"),
        ("GOVHUB_MATTER_OPEN_STATUSES", "OPEN"),
    ],
)
@pytest.mark.parametrize("command", [["sync"], ["serve", "--port", "9"], ["demo", "--port", "9"]])
def test_matter_opening_settings_naming_nothing_known_are_one_coded_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
    command: list[str],
) -> None:
    _sources_never_asked(workdir, monkeypatch)
    monkeypatch.setenv(variable, value)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert f"configuration error (INVALID_SETTING): {variable}: " in result.output
    assert "Traceback" not in result.output
    assert not (workdir / "data" / "govhub.db").exists()  # nothing migrated, nothing started


@pytest.mark.parametrize("key", ["/etc/govhub/no-such-key.pem", "not a key", "{\"keys\": 1}"])
@pytest.mark.parametrize("command", [["serve", "--port", "9"], ["demo", "--port", "9"]])
def test_a_jwt_public_key_that_does_not_load_is_one_coded_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, key: str, command: list[str]
) -> None:
    # a key that does not load would refuse every token, each process ready all the same
    _sources_never_asked(workdir, monkeypatch)
    monkeypatch.setenv("GOVHUB_JWT_PUBLIC_KEY", key)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "configuration error (INVALID_SETTING): GOVHUB_JWT_PUBLIC_KEY is neither" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert not (workdir / "data" / "govhub.db").exists()  # nothing migrated, nothing started


def test_audit_verify_reports_a_truncated_tail(workdir: Path, pii_key: bytes) -> None:
    # given an embedded database with a chain of five rows and a checkpoint written at the end
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    try:
        asyncio.run(_chain_with_checkpoint(workdir))
        intact = runner.invoke(app, ["audit", "verify"])
        assert intact.exit_code == 0 and "audit chain intact: 5 rows" in intact.stdout
        # when the newest two rows are deleted
        with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
            connection.execute("DELETE FROM audit_log WHERE id > 3")
        # then verify fails, saying how many rows are missing
        result = runner.invoke(app, ["audit", "verify"])
        assert result.exit_code == 1
        assert "newest 2 rows" in result.stdout and "row 5" in result.stdout  # the verdict
    finally:  # the CLI installed the dev keys process-wide: give the test keys back
        configure_pii(pii_key)
        configure_audit_key(None)


def test_a_database_refuses_a_pii_key_that_did_not_seal_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, pii_key: bytes
) -> None:
    try:
        # given a database first used with one key (the dev key generated into ./data)
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        assert runner.invoke(app, ["migrate"]).exit_code == 0  # the same key, again: fine
        # when a command starts with another key
        other = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        monkeypatch.setenv("GOVHUB_PII_KEY", other)
        for command in (["migrate"], ["report", "--region", "411200", "--period", "2026-01"]):
            result = runner.invoke(app, command)
            # then it stops, saying so, and nothing of the key appears
            assert result.exit_code == 2, (command, result.output)
            assert "PII_KEY_MISMATCH" in result.output and other not in result.output
    finally:
        configure_pii(pii_key)
        configure_audit_key(None)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [(["--scale", "0"], "--scale"), (["--truth", "/nonexistent/dir/t.json"], "no directory"),
     (["--truth", "."], "is a directory")],
)
def test_the_sandbox_refuses_a_bad_option_before_starting(
    workdir: Path, arguments: list[str], says: str
) -> None:
    result = runner.invoke(app, ["sandbox", *arguments])
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_a_truth_file_that_cannot_be_written_is_named_not_the_ports(workdir: Path) -> None:
    # given a truth path that leads nowhere (a link to a directory that is not there)
    truth = workdir / "truth.json"
    truth.symlink_to("/nonexistent/dir/truth.json")
    # when the sandbox is started with it
    result = runner.invoke(app, ["sandbox", "--base-port", "0", "--scale", "50",
                                 "--truth", str(truth)])
    # then the one line says the truth could not be written there, and why
    assert result.exit_code == 2, result.output
    assert f"cannot write the ground truth to {truth}: No such file or directory" in (
        " ".join(result.output.split()))
    assert "cannot start the sandbox" not in result.output


def test_the_sandbox_written_to_a_log_gives_each_address_and_credential_whole(
    workdir: Path,
) -> None:
    # given the sandbox started with its output going to a file, not a terminal
    log = workdir / "sandbox.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "sandbox", "--base-port", "0", "--scale", "60"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": ""})
        try:
            deadline = time.monotonic() + 60
            while b"Press Ctrl-C" not in log.read_bytes() and process.poll() is None:
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.1)
            printed = log.read_text(encoding="utf-8")
            # then each system's base URL stands whole on its line and answers as that system
            urls = dict(re.findall(r"(POLICE_110|GRID|MEDIATION|PETITION|COURT)\W+"
                                   r"(http://127\.0\.0\.1:\d+)\s", printed))
            assert sorted(urls) == sorted(s.value for s in SourceSystem), printed
            for system, url in urls.items():
                with httpx.Client() as client:
                    assert client.get(f"{url}/_sandbox/control").json()["system"] == system
            # and so does each credential, to be copied into the sources file
            for credentials in DEFAULT_CREDENTIALS.values():
                for key, value in credentials.items():
                    assert f"{key}={value}" in printed, printed
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


@pytest.mark.parametrize("command", ["demo", "sandbox"])
def test_an_unknown_profile_is_refused_before_anything_starts(
    workdir: Path, command: str
) -> None:
    result = runner.invoke(app, [command, "--profile", "nasty", "--port", "0"]
                           if command == "demo" else [command, "--profile", "nasty"])

    assert result.exit_code == 2, result.output
    assert "--profile" in result.output and "hostile" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (workdir / "data").exists()


@pytest.mark.parametrize(("command", "said"), [
    (["sandbox", "--base-port", "65533"], "cannot start the sandbox on 127.0.0.1:65533–65537"),
    (["demo", "--port", "0", "--sandbox-port", "65533"],
     "cannot start the demo: the sandbox on 127.0.0.1:65533–65537"),
])
def test_sandbox_ports_past_65535_are_refused_in_one_line(
    workdir: Path, command: list[str], said: str
) -> None:
    result = runner.invoke(app, command)

    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        f"{said}: ports end at 65535: the base port must be 0 (free ports) or 1–65531"]
    assert not (workdir / "data").exists()


def test_a_hub_port_past_65535_is_refused_in_one_line(workdir: Path) -> None:
    result = runner.invoke(app, ["demo", "--port", "70000", "--sandbox-port", "0"])

    assert result.exit_code == 2, result.output
    said = [line for line in result.output.splitlines() if "cannot start the demo" in line]
    assert said == ["cannot start the demo: the hub's port 70000 is outside 0–65535"]


def test_demo_with_a_sandbox_port_taken_names_the_sandbox_ports(workdir: Path) -> None:
    # given the sandbox's first port held by another program
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        # when the demo is asked to start its sandbox there
        result = runner.invoke(app, ["demo", "--port", "0", "--sandbox-port", str(port),
                                     "--scale", "20"])
    # then it names the five ports it wanted, in one line
    assert result.exit_code == 2, result.output
    said = [line for line in result.output.splitlines() if "cannot start the demo" in line]
    assert said == [f"cannot start the demo: the sandbox on 127.0.0.1:{port}–{port + 4}: "
                    "Address already in use"]  # fmt: skip


def test_demo_on_a_taken_port_stops_before_it_starts_anything(workdir: Path) -> None:
    # given the hub's port held by another program
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        # when the demo is asked to serve on it
        started = time.monotonic()
        result = runner.invoke(app, ["demo", "--port", str(port), "--sandbox-port", "0"])
    # then it says so in one line, with status 2, before the sandbox, a migration or a sync
    assert result.exit_code == 2, result.output
    said = [line for line in result.output.splitlines() if "cannot start the demo" in line]
    assert said == [f"cannot start the demo: the hub's port 127.0.0.1:{port} is not free: "
                    "Address already in use"]  # fmt: skip
    assert not (workdir / "data" / "govhub.db").exists()
    assert not (workdir / "data" / "sources.toml").exists()
    assert time.monotonic() - started < 10  # no world generated, nothing synced


@pytest.mark.parametrize("kind", ["linking", "risk"])
def test_eval_scores_nothing_it_cannot_match(workdir: Path, pii_key: bytes, kind: str) -> None:
    truth = workdir / "truth.json"
    record = {"system": "COURT", "key": "K1", "matter": "M1", "storyline": "contract"}
    try:
        # a file that is not a ground truth is refused, saying why
        truth.write_text("{}", encoding="utf-8")
        result = runner.invoke(app, ["eval", kind, "--truth", str(truth)])
        assert result.exit_code == 2, result.output
        # (on stderr, as errors are: stdout carries scores only)
        assert "truth file error" in result.stderr and "records" in result.stderr
        assert result.stdout == ""
        # a database that holds none of the truth's records scores nothing, not 1.0000
        truth.write_text(json.dumps({"records": [record]}), encoding="utf-8")
        result = runner.invoke(app, ["eval", kind, "--truth", str(truth)])
        assert result.exit_code == 1, result.output
        assert "nothing to score" in result.stderr and "1.0000" not in result.output
        assert result.stdout == ""
    finally:
        configure_pii(pii_key)
        configure_audit_key(None)


def test_a_database_that_cannot_be_opened_is_one_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, pii_key: bytes
) -> None:
    monkeypatch.setenv("GOVHUB_DATABASE_URL", "postgresql+asyncpg://govhub:pa55word@127.0.0.1:9/x")
    for command in (["migrate"], ["audit", "verify"]):
        try:
            result = runner.invoke(app, command)
        finally:
            configure_pii(pii_key)
            configure_audit_key(None)
        assert result.exit_code == 2, (command, result.output)
        assert "database error: cannot open" in result.output, command
        assert "pa55word" not in result.output and "Traceback" not in result.output


@pytest.mark.postgres
def test_a_database_schema_that_does_not_exist_is_one_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, pii_key: bytes
) -> None:
    url = os.environ.get("GOVHUB_TEST_DATABASE_URL")
    if not url:
        service_missing("PostgreSQL not configured: set GOVHUB_TEST_DATABASE_URL")
        return
    monkeypatch.setenv("GOVHUB_DATABASE_URL", url)
    monkeypatch.setenv("GOVHUB_DATABASE_SCHEMA", "govhub_never_created")
    for command in (["migrate"], ["audit", "verify"]):
        try:
            result = runner.invoke(app, command)
        finally:
            configure_pii(pii_key)
            configure_audit_key(None)
        assert result.exit_code == 2, (command, result.output)
        assert "has no schema govhub_never_created: create it, or correct " \
            "GOVHUB_DATABASE_SCHEMA" in result.output, command
        assert "Traceback" not in result.output


def test_audit_verify_on_a_database_behind_the_migrations_says_to_migrate(
    workdir: Path, pii_key: bytes
) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0013'")
    try:
        result = runner.invoke(app, ["audit", "verify"])
    finally:
        configure_pii(pii_key)
        configure_audit_key(None)
    assert result.exit_code == 2, result.output
    assert "govhub migrate" in result.output and "0013" in result.output


async def _chain_with_checkpoint(workdir: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'data' / 'govhub.db'}")
    try:
        events = [
            AuditEvent(
                principal=f"u{n}",
                role="admin",
                org=None,
                operation="Op",
                document_hash=None,
                variables=None,
                record_ids=None,
                purpose=None,
                outcome="OK",
                duration_ms=1.0,
                occurred_at=datetime.now(UTC),
            )
            for n in range(5)
        ]
        async with session_factory(engine).begin() as session:
            await append_events(session, events)
        async with session_factory(engine)() as session:
            sink = CheckpointFile(workdir / "data" / "audit-checkpoints.jsonl")
            await write_checkpoint(session, sink)
    finally:
        await engine.dispose()


def test_the_demos_port_is_held_against_a_competitor_that_reuses_addresses() -> None:
    # given the hub's port taken for the demo
    with bind_socket("127.0.0.1", 0) as held:
        port = held.getsockname()[1]
        # when another program binds it with SO_REUSEADDR, as servers commonly do
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as competitor:
            competitor.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # then the port is not free for it
            with pytest.raises(OSError) as refused:
                competitor.bind(("127.0.0.1", port))
    assert refused.value.errno == errno.EADDRINUSE


def test_demo_on_a_host_that_does_not_resolve_says_so(workdir: Path) -> None:
    result = runner.invoke(app, ["demo", "--host", "no-such-host.invalid", "--port", "0",
                                 "--sandbox-port", "0"])
    assert result.exit_code == 2, result.output
    said = [line for line in result.output.splitlines() if "cannot start the demo" in line]
    assert len(said) == 1 and "no-such-host.invalid cannot be resolved" in said[0], said
    assert "not free" not in result.output
    assert not (workdir / "data" / "govhub.db").exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.20.30.40"])  # noqa: S104 -- refused
def test_serve_in_dev_refuses_an_interface_others_reach(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    # given the development environment (devToken mints any role), asked to serve on the network
    monkeypatch.setenv("GOVHUB_ENV", "dev")
    result = runner.invoke(app, ["serve", "--host", host, "--port", "9"])
    assert result.exit_code == 2, result.output
    said = [line for line in result.output.splitlines() if "configuration error" in line]
    assert said == [
        f"configuration error (INVALID_SETTING): GOVHUB_ENV=dev serves on a loopback interface "
        f"only, not {host}: in dev anyone who reaches the hub mints a token for any role "
        f"(devToken); set GOVHUB_ENV=prod, with its keys, to serve on {host}"
    ]
    assert not (workdir / "data" / "govhub.db").exists()  # nothing migrated, nothing started


def test_the_token_command_refuses_a_lifetime_past_the_maximum(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVHUB_JWT_MAX_LIFETIME_HOURS", "2")
    result = runner.invoke(app, ["token", "--role", "center_staff", "--region", "411200",
                                 "--ttl", str(3 * 3600)])  # fmt: skip
    assert result.exit_code == 2
    said = "the lifetime must be at most 7200 seconds (GOVHUB_JWT_MAX_LIFETIME_HOURS)"
    assert said in result.output


@pytest.mark.parametrize("command", [["serve", "--port", "9"], ["demo", "--port", "9"]])
def test_an_audit_checkpoint_file_that_cannot_be_written_is_one_coded_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    # given a checkpoint file under a path that is a file, not a directory
    blocker = workdir / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("GOVHUB_AUDIT_CHECKPOINT_FILE", str(blocker / "checkpoints.jsonl"))
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    said = [line for line in result.output.splitlines() if "configuration error" in line]
    assert len(said) == 1 and said[0].startswith(
        f"configuration error (INVALID_SETTING): GOVHUB_AUDIT_CHECKPOINT_FILE "
        f"{blocker / 'checkpoints.jsonl'} cannot be written: "
    ), result.output
    assert not (workdir / "data" / "govhub.db").exists()  # nothing migrated, nothing started


def test_deadletter_list_gives_times_in_beijing_time_with_their_offset(workdir: Path) -> None:
    # given a dead letter last seen at 16:30 UTC (stored as UTC): 00:30 the next day in Beijing
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    with sqlite3.connect(workdir / "data" / "govhub.db") as connection:
        connection.execute(
            "INSERT INTO dead_letters (source, source_key, error_code, reason, raw, attempts,"
            " first_seen_at, last_seen_at) VALUES ('COURT', '(2026)豫1202民初1号',"
            " 'MISSING_FIELD', 'cause is missing', 'sealed', 1, '2026-11-30 16:30:00.000000',"
            " '2026-11-30 16:30:00.000000')")

    result = runner.invoke(app, ["deadletter", "list"], env={"COLUMNS": "250"})

    # then it is listed on the Beijing day and hour, the offset saying so
    assert result.exit_code == 0, result.output
    assert "2026-12-01 00:30+08:00" in result.stdout
    assert "16:30" not in result.stdout
