"""A throwaway copy of govhub's packages, edited, checked by a fresh interpreter.

Used to prove an extension recipe of docs/extending.md: the copy gets exactly the edits the
recipe lists, and a script run against the copy checks every derived registry picked them up.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "schema", "resolvers", "domain", "connectors", "db", "sandbox", "console")

Edits = dict[str, list[tuple[str, str]]]
"""path → (anchor, replacement) pairs; an anchor must occur exactly once. An empty anchor
creates the file with the replacement as its text."""


def check_edited_copy(tmp_path: Path, edits: Edits, check: str, marker: str) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for path, changes in edits.items():
        target = tmp_path / path
        if changes and changes[0][0] == "":
            target.write_text(changes[0][1], encoding="utf-8")
            continue
        text = target.read_text(encoding="utf-8")
        for anchor, replacement in changes:
            assert text.count(anchor) == 1, f"{path}: anchor {anchor!r} moved"
            text = text.replace(anchor, replacement)
        target.write_text(text, encoding="utf-8")
    result = subprocess.run(  # noqa: S603 -- the test's own interpreter on its own script
        [sys.executable, "-c", check],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONSAFEPATH": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert marker in result.stdout
