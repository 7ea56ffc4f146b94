"""How often the lighter path hands a field back to graphql-core, and why (回退计数).

A hand-back is never wrong — graphql-core then runs the field from the start — but it costs
the time the path exists to save, and one of kind ``unexpected`` is a defect of the path
itself. The hub counts them as ``govhub_fast_path_hand_backs_total{reason}`` (told through
:func:`on_hand_back`); the first hand-back of each query document is logged once (no
variables, no values), so a slow page can be traced to the field that leaves the path.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from enum import StrEnum

import structlog

log = structlog.get_logger(__name__)

_LOGGED_DOCUMENTS = 1024
"""How many documents' first hand-back are remembered (least recently seen are forgotten)."""


class HandBack(StrEnum):
    FALLBACK = "fallback"
    """A value the compiled reader could not settle exactly (an error, a value still loading,
    an unexpected type): expected now and then; graphql-core reports what it always would."""
    UNEXPECTED = "unexpected"
    """An exception of the path itself while compiling or reading: a defect, logged with its
    traceback; the request is answered by the general path."""


_counts: Counter[HandBack] = Counter()
_logged: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()
_listeners: list[Callable[[HandBack], None]] = []


def on_hand_back(listener: Callable[[HandBack], None]) -> None:
    """Call ``listener`` with the reason of every hand-back from now on: the hub counts
    them in Prometheus, which adds up every serving process's counts (these are one's)."""
    _listeners.append(listener)


def hand_back_counts() -> dict[HandBack, int]:
    """Hand-backs since the process started, per reason (every reason present)."""
    with _lock:
        return {reason: _counts[reason] for reason in HandBack}


def document_key(body: str | None) -> str:
    """A short, stable name for a query document (its text is not logged)."""
    if body is None:
        return "unknown"
    return hashlib.blake2b(body.encode(), digest_size=6).hexdigest()


def record_hand_back(
    reason: HandBack,
    *,
    document: str,
    operation: str | None,
    type_name: str,
    field: str,
    error: BaseException | None = None,
) -> None:
    """Count one hand-back; log it when it is the document's first (always, if unexpected)."""
    with _lock:
        _counts[reason] += 1
        first = document not in _logged
        if first:
            _logged[document] = None
            if len(_logged) > _LOGGED_DOCUMENTS:
                _logged.popitem(last=False)
        else:
            _logged.move_to_end(document)
    for listener in _listeners:
        listener(reason)
    if reason is HandBack.UNEXPECTED:
        log.error(
            "fast_path_failed",
            document=document,
            operation=operation,
            type=type_name,
            field=field,
            error=type(error).__name__ if error is not None else None,
            exc_info=error,
        )
    elif first:
        log.info(
            "fast_path_hand_back",
            document=document,
            operation=operation,
            type=type_name,
            field=field,
        )
