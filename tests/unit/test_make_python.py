"""The interpreter make builds .venv from (`make python` prints it): the first of
PYTHON_CANDIDATES that is Python 3.11 or newer and can make a venv, else python3; PYTHON, when
given, as it is."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _chosen(*assignments: str) -> str:
    assert MAKE is not None
    done = subprocess.run(  # noqa: S603 -- make with this test's own assignments
        [MAKE, "-s", "--no-print-directory", "-C", str(ROOT), "python", *assignments],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip()


def _interpreter(path: Path, *, version: tuple[int, int] = (3, 11), venv: bool = True) -> Path:
    """A stand-in interpreter: it runs make's check (``-c CODE``) as one of ``version`` would,
    with or without the venv module."""
    path.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.version_info = {version!r}\n"
        + ("" if venv else "sys.modules['venv'] = None\n")
        + "assert sys.argv[1] == '-c'\n"
        "exec(sys.argv[2])\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def test_the_first_candidate_that_qualifies_is_chosen(tmp_path: Path) -> None:
    old = _interpreter(tmp_path / "old", version=(3, 10))
    bare = _interpreter(tmp_path / "bare", venv=False)
    good = _interpreter(tmp_path / "good")
    later = _interpreter(tmp_path / "later")
    missing = tmp_path / "missing"
    candidates = f"PYTHON_CANDIDATES={missing} {old} {bare} {good} {later}"
    assert _chosen(candidates) == str(good)


def test_python3_when_no_candidate_qualifies(tmp_path: Path) -> None:
    old = _interpreter(tmp_path / "old", version=(3, 9))
    assert _chosen(f"PYTHON_CANDIDATES={old} {tmp_path / 'missing'}") == "python3"


def test_a_given_python_is_taken_as_it_is(tmp_path: Path) -> None:
    good = _interpreter(tmp_path / "good")
    assert _chosen(f"PYTHON_CANDIDATES={good}", "PYTHON=/opt/python/bin/python3.12") == (
        "/opt/python/bin/python3.12"
    )


def test_the_distributions_python_is_tried_first() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PYTHON_CANDIDATES ?= /usr/bin/python3 python3" in makefile
