"""How ``sync --workers N`` deals the sources to its processes, and what the command hears
from them (hub.sync_workers)."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import cast

import pytest

from connectors.sync import RunResult
from domain.enums import SourceSystem as S
from domain.risk import lexicon
from hub.risk import risk_config
from hub.settings import Settings
from hub.sync_workers import (
    _follow,
    _Sender,
    _Share,
    _start_method,
    prepare_forks,
    share_sources,
    workers_problem,
)

FILE_ORDER = [S.MEDIATION, S.GRID, S.POLICE_110, S.PETITION, S.COURT]


def test_a_first_load_deals_the_sources_round_in_file_order() -> None:
    assert share_sources(FILE_ORDER, {}, 2) == [
        [S.MEDIATION, S.POLICE_110, S.COURT],
        [S.GRID, S.PETITION],
    ]


def test_the_heaviest_go_first_each_onto_the_lightest_process() -> None:
    weights = {S.MEDIATION: 4000, S.GRID: 5000, S.POLICE_110: 7000, S.PETITION: 1000,
               S.COURT: 3000}  # fmt: skip
    shares = share_sources(FILE_ORDER, weights, 2)
    assert shares == [[S.POLICE_110, S.COURT], [S.GRID, S.MEDIATION, S.PETITION]]
    assert [sum(weights[s] for s in share) for share in shares] == [10000, 10000]


def test_never_more_processes_than_sources_nor_an_empty_one() -> None:
    assert share_sources([S.COURT, S.GRID], {}, 8) == [[S.COURT], [S.GRID]]
    assert share_sources(FILE_ORDER, {S.GRID: 10}, 1) == [[S.GRID, S.MEDIATION, S.POLICE_110,
                                                           S.PETITION, S.COURT]]  # fmt: skip
    assert share_sources([], {}, 2) == []


def test_several_workers_need_postgresql() -> None:
    sqlite = Settings(database_url="sqlite+aiosqlite:///govhub.db")
    postgres = Settings(database_url="postgresql+asyncpg://hub@db/govhub")
    assert workers_problem(sqlite, 1) is None
    assert "needs PostgreSQL" in (workers_problem(sqlite, 2) or "")
    assert workers_problem(postgres, 4) is None


class _Ended:
    """A worker process that has ended well."""

    exitcode = 0

    def join(self) -> None:
        pass


def test_a_workers_log_lines_reach_the_command_beside_its_results() -> None:
    # given a worker whose log stream and results share its pipe
    reading, writing = multiprocessing.Pipe(duplex=False)
    sender = _Sender(writing)
    logger = logging.getLogger("test.sync_worker")
    handler = logging.StreamHandler(sender)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("police source slow")
        sender.send(RunResult(source=S.POLICE_110, status="SUCCEEDED", fetched=3))
        logger.warning("done")
    finally:
        logger.removeHandler(handler)
    writing.close()
    # when the command follows it
    said: list[str] = []
    reported: list[RunResult] = []
    results: dict[S, RunResult] = {}
    share = _Share(cast(BaseProcess, _Ended()), [S.POLICE_110], reading)
    _follow([share], results, reported.append, say=said.append)
    # then the lines are said in order, and the result reported, not taken for a line
    assert said == ["police source slow\n", "done\n"]
    assert [(r.source, r.status, r.fetched) for r in reported] == [(S.POLICE_110, "SUCCEEDED", 3)]
    assert results[S.POLICE_110].status == "SUCCEEDED"


def test_workers_are_forked_only_from_a_process_running_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a fork copies the locks other threads hold: with another thread, a fresh interpreter
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert _start_method().get_start_method() == "spawn"
    finally:
        release.set()
        other.join()
    # the command's own process, one thread once its loop has ended: forked
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert _start_method().get_start_method() == "fork"


def test_the_risk_matcher_is_built_before_the_fork_for_the_workers_to_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('include_defaults = true\ndisable = ["words.threat"]\n', encoding="utf-8")
    settings = Settings(database_url="postgresql+asyncpg://hub@db/govhub", risk_rules_file=rules)
    monkeypatch.setattr(lexicon, "_MATCHERS", {})
    monkeypatch.setattr(lexicon, "_BY_WORDS", {})
    built: list[object] = []
    original = lexicon.LexiconMatcher.__init__

    def counted(self: lexicon.LexiconMatcher, words: lexicon.Lexicon) -> None:
        built.append(self)
        original(self, words)

    monkeypatch.setattr(lexicon.LexiconMatcher, "__init__", counted)
    prepare_forks(settings, [S.POLICE_110])
    assert len(built) == 1
    # a worker loads the rules file again, as its own sync does: the same matcher serves it
    assert lexicon.matcher_for(risk_config(settings).rules.lexicon) is built[0]
    assert len(built) == 1
