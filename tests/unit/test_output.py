"""CLI output stays readable off a terminal: in a log file no table header is cut."""

from __future__ import annotations

import io

import pytest
import typer

from connectors.sync import RunResult
from domain.enums import SourceSystem
from hub.output import LOG_WIDTH, output_console, refuse_configuration
from hub.sync_cli import summary_table

HEADERS = ("source", "status", "fetched", "inserted", "updated", "unchanged", "deleted",
           "dead letters", "retries", "error")  # fmt: skip


def test_summary_table_in_a_log_file_keeps_every_header_whole() -> None:
    # given a console writing to a file (no terminal), as `govhub demo > demo.log` does
    log_file = io.StringIO()
    console = output_console(file=log_file)
    results = [RunResult(source=source, status="SUCCEEDED", fetched=95) for source in SourceSystem]
    results[0].error = "source answered 503 three times"
    # when the first-sync summary is printed
    console.print(summary_table(results))
    # then it is laid out wide enough: every header whole, no ellipsis
    text = log_file.getvalue()
    assert console.width >= LOG_WIDTH
    assert "…" not in text
    for header in HEADERS:
        assert header in text, header
    assert "source answered 503 three times" in text


def test_a_long_configuration_error_is_one_line_off_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a message longer than a log file's width, naming a deep path
    path = "/srv/govhub/config/" + "nested/" * 30 + "deadline-rules.toml"
    message = f"GOVHUB_DEADLINE_RULES_FILE: {path}: rule [[rule]] 3 has no key 'days'"
    # when the command stops on it
    with pytest.raises(typer.Exit) as stopped:
        refuse_configuration("INVALID_DEADLINE_RULES", message)
    # then stderr holds exactly one line, the message whole
    assert stopped.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"configuration error (INVALID_DEADLINE_RULES): {message}"]
