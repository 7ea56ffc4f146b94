"""Reading a GBK CSV export row by row, so one row's broken bytes never cost the file.

Each physical line is decoded on its own (GBK never uses CR, LF, comma or quote as a trail
byte, so lines can be split before decoding); undecodable bytes become lone surrogates that
mark their row as broken. The ``csv`` module then joins lines of quoted multi-line cells as
usual, and each row keeps the exact bytes it came from.
"""

from __future__ import annotations

import base64
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field

ENCODING = "gbk"


@dataclass(slots=True)
class CsvRow:
    """One data row: its cells by header name, the bytes it was read from, what broke."""

    cells: dict[str, str]
    source_bytes: bytes
    undecodable: list[str] = field(default_factory=list)
    """Columns whose bytes are not valid GBK (their text is then backslash-escaped)."""
    problem: str | None = None

    def raw_base64(self) -> str:
        return base64.b64encode(self.source_bytes).decode("ascii")


class CsvHeaderError(ValueError):
    """The header row is missing or unreadable."""


def _has_surrogate(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)


def _escaped(text: str) -> str:
    """Broken bytes as ``\\xff`` text (JSON- and UTF-8-safe), readable parts as decoded."""
    return text.encode(ENCODING, "surrogateescape").decode(ENCODING, "backslashreplace")


def read_rows(content: bytes) -> tuple[list[str], Iterator[CsvRow]]:
    """The header and an iterator of rows of a GBK CSV document."""
    consumed: list[bytes] = []

    def lines() -> Iterator[str]:
        for line in content.splitlines(keepends=True):
            consumed.append(line)
            yield line.decode(ENCODING, "surrogateescape")

    reader = csv.reader(lines())
    header = next(reader, None)
    if header is None or not any(header) or any(map(_has_surrogate, header)):
        raise CsvHeaderError("no readable header row")
    header = [name.strip() for name in header]
    consumed.clear()

    def rows() -> Iterator[CsvRow]:
        for cells in reader:
            source_bytes = b"".join(consumed)
            consumed.clear()
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            row = CsvRow(cells={}, source_bytes=source_bytes)
            for name, cell in zip(header, cells, strict=False):
                if _has_surrogate(cell):
                    row.undecodable.append(name)
                    cell = _escaped(cell)
                row.cells[name] = cell
            if row.undecodable:
                row.problem = f"bytes that are not valid GBK in {', '.join(row.undecodable)}"
            elif len(cells) != len(header):
                row.problem = f"row has {len(cells)} cells, the header {len(header)}"
            for extra, cell in enumerate(cells[len(header) :]):
                row.cells[f"_extra{extra}"] = _escaped(cell)
            yield row

    return header, rows()
