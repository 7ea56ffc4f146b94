"""Terminal output of the CLI (命令行输出): the same tables on a terminal and in a log file.

Rich sizes a console to the terminal; without one (``govhub demo > demo.log``, a container's
log, CI) it falls back to 80 columns and cuts table headers to ``sour… stat…``. Off a terminal
the console is wide enough for govhub's tables instead, and their columns never shrink below
their headers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domain.calendar import SHANGHAI

LOG_WIDTH = 160
"""Columns a console writes when it is not a terminal (no line is padded to it)."""


def output_console(*, stderr: bool = True, file: IO[str] | None = None) -> Console:
    """A console on stderr (or ``file``): the terminal's width, else :data:`LOG_WIDTH`.

    Progress, logs and errors go to stderr; a command's result — its tables, what it did —
    to stdout (``stderr=False``), so ``govhub sync > summary.txt`` keeps the summary and
    leaves the progress lines on the terminal."""
    console = Console(stderr=stderr, file=file)
    if not console.is_terminal:
        console.width = max(console.width, LOG_WIDTH)
    return console


def readable_table(title: str, headers: tuple[str, ...]) -> Table:
    """A table whose columns are never narrower than their headers."""
    table = Table(title=title)
    for header in headers:
        table.add_column(header, min_width=len(header))
    return table


def refuse_configuration(code: str, message: str) -> NoReturn:
    """Stop a command on a configuration error (配置错误): one line on stderr with the error's
    code (``ConfigErrorCode``) and what is wrong, exit status 2."""
    # soft_wrap: one line however long; Rich would break it at the console's width
    output_console().print(f"[red]configuration error[/red] ({code}): {escape(message)}",
                           soft_wrap=True)
    raise typer.Exit(2)


def beijing_time(moment: datetime, clock: str = "%H:%M:%S") -> str:
    """An instant as the centre reads it, with its offset: ``2026-11-30 18:00:00+08:00``
    (the API's times carry +08:00 too). The database hands back UTC, naive from SQLite."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(SHANGHAI)
    return f"{local:%Y-%m-%d} {local.strftime(clock)}+08:00"
