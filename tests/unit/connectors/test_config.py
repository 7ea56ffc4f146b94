"""The sources file: defaults, and errors that name the offending key."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import load_sources, parse_sources
from connectors.errors import SourcesFileError
from domain.enums import SourceSystem

GOOD = """
[sources.COURT]
base_url = "http://127.0.0.1:9105/"
page_size = 50
credentials = { client_id = "govhub", client_secret = "s3cret" }
retry = { attempts = 3 }

[sources.GRID]
base_url = "http://127.0.0.1:9102"
enabled = false
"""


def test_a_good_file_parses_with_defaults() -> None:
    sources = parse_sources(GOOD)
    court = sources[SourceSystem.COURT]
    assert court.url == "http://127.0.0.1:9105"
    assert court.page_size == 50
    assert court.retry.attempts == 3 and court.retry.total_seconds == 60
    assert court.breaker.threshold == 3
    assert not sources[SourceSystem.GRID].enabled


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ('[sources.COURT]\nbase_url = "http://x"\npage_size = 0\n', "sources.COURT.page_size"),
        ('[sources.COURT]\nbase_url = "http://x"\nretyr = {}\n', "sources.COURT.retyr"),
        ('[sources.FAX]\nbase_url = "http://x"\n', "sources.FAX"),
        ("[sources.COURT]\npage_size = 5\n", "sources.COURT.base_url"),
        ('[sources.COURT]\nbase_url = "not a url"\n', "sources.COURT.base_url"),
        ("[sources.COURT\n", "not valid TOML"),
    ],
)
def test_a_bad_file_is_rejected_naming_the_key(document: str, named: str) -> None:
    with pytest.raises(SourcesFileError, match=named.replace(".", r"\.")):
        parse_sources(document)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourcesFileError, match="cannot read sources file"):
        load_sources(tmp_path / "absent.toml")


def test_a_file_notepad_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    # given the file saved as "UTF-8 with BOM", with a comment in Chinese
    path = tmp_path / "sources.toml"
    path.write_bytes(("# 法院\n" + GOOD).encode("utf-8-sig"))
    # then it loads as the same file without the mark does
    assert load_sources(path)[SourceSystem.COURT].page_size == 50
