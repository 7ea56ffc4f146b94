"""The metrics of ``serve --workers N`` (多进程指标): one directory, every process's figures.

Each worker process records its metrics in files of a directory private to this ``serve``
(``GOVHUB_METRICS_DIR``), and ``/metrics``, whichever worker takes the scrape, answers with
their sums (:func:`hub.metrics.exposed_registry`). The directory is emptied when ``serve``
starts, so an earlier run's counts are never added in, and a worker that exits is marked dead
in it, so the live gauges (``govhub_serving_processes``) drop it while the counters keep what
it counted. One ``serve`` per directory: two would add up, and empty, each other's files (a
running worker goes on writing to a file emptied away, its figures gone from ``/metrics``),
so the ``serve`` that empties it holds a lock on it while it runs and another is refused.

prometheus_client decides where a process keeps its values when it is first imported, from
``PROMETHEUS_MULTIPROC_DIR``. The ``serve`` process has imported it long before (the CLI's
modules use it), but uvicorn starts its workers as fresh interpreters (``spawn``) which
inherit the environment as it is when they start: :func:`serve_workers` sets the variable
before the first one does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from socket import socket

import uvicorn
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.supervisors import Multiprocess

from hub.metrics import MULTIPROCESS_DIR_VARIABLE
from hub.settings import SettingsError

_METRIC_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_\d+\.db")
"""The files prometheus_client writes in a multiprocess directory (``counter_4711.db``):
the only ones govhub removes there, whatever else the directory holds."""

_held: dict[Path, int] = {}
"""The metrics directories this process's ``serve`` holds: each one's descriptor, locked."""


def fresh_metrics_dir(directory: Path) -> Path:
    """``directory``, created (readable by this user only), held by this process until
    :func:`release_metrics_dir` and emptied of metric files; :class:`SettingsError` naming
    ``GOVHUB_METRICS_DIR`` when it cannot be written or another ``serve`` holds it."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        _hold(directory.resolve())
        clear_metric_files(directory)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".writable-"):
            pass
    except OSError as exc:
        raise SettingsError(
            f"GOVHUB_METRICS_DIR {directory} cannot be written: {exc.strerror or exc}"
        ) from exc
    return directory.resolve()


def _hold(directory: Path) -> None:
    lock = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)  # the directory itself: no lock file
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(lock)
        raise SettingsError(
            f"GOVHUB_METRICS_DIR {directory} is in use by another running serve: "
            "one serve per directory"
        ) from exc
    except OSError:
        os.close(lock)
        raise
    _held[directory] = lock


def release_metrics_dir(directory: Path) -> None:
    """Let another ``serve`` have ``directory`` (this one has stopped)."""
    lock = _held.pop(directory.resolve(), None)
    if lock is not None:
        os.close(lock)  # the lock goes with it


def clear_metric_files(directory: Path) -> None:
    for path in directory.iterdir():
        if _METRIC_FILE.fullmatch(path.name):
            path.unlink(missing_ok=True)


class MetricsSupervisor(Multiprocess):
    """uvicorn's supervisor of the workers, which also marks each worker it retires (one that
    died and was replaced, one stopped by ``SIGHUP``'s restart or ``SIGTTOU``) dead in the
    metrics directory."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket], metrics_dir: Path) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir

    def keep_subprocess_alive(self) -> None:
        self._retiring(super().keep_subprocess_alive)

    def handle_signals(self) -> None:
        self._retiring(super().handle_signals)

    def _retiring(self, step: Callable[[], None]) -> None:
        before = self._pids()
        step()
        for pid in before - self._pids():
            mark_process_dead(pid, str(self.metrics_dir))  # type: ignore[no-untyped-call]  # untyped upstream

    def _pids(self) -> set[int]:
        return {process.pid for process in self.processes if process.pid is not None}


def serve_workers(config: uvicorn.Config, metrics_dir: Path) -> None:
    """Serve ``config``'s app from ``config.workers`` processes on one socket, as
    ``uvicorn.run`` does, their metrics kept in ``metrics_dir`` (see :func:`fresh_metrics_dir`)."""
    os.environ[MULTIPROCESS_DIR_VARIABLE] = str(metrics_dir)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            MetricsSupervisor(config, [config.bind_socket()], metrics_dir).run()
    finally:
        clear_metric_files(metrics_dir)
        release_metrics_dir(metrics_dir)
