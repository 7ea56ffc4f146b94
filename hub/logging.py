"""Structured logging (structlog): JSON in prod, readable in dev, never plaintext PII.

Every event passes through :func:`redact_pii`, which masks anything shaped like a resident
ID number or a mainland phone number — a last line of defence behind the rule that code
does not log such values in the first place.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from domain.masking import mask_text

__all__ = ["configure_logging", "mask_text", "redact_pii"]

def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(v) for v in value]
    return value


def redact_pii(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        event_dict[key] = _mask_value(value)
    return event_dict


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now (test capture and daemons replace it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


_CURRENT_STDERR: Any = _CurrentStderr()


_configured = False


def configure_logging(
    *,
    json: bool,
    level: int = logging.INFO,
    streams: tuple[Any, ...] = (_CURRENT_STDERR,),
    force: bool = False,
) -> None:
    """Route structlog and the standard library's loggers (uvicorn, alembic) through one
    redacting formatter. Idempotent: the first configuration of a process wins unless
    ``force`` (tests configure once, with an extra stream that collects every line)."""
    global _configured  # one logging set-up per process, like logging.basicConfig
    if _configured and not force:
        return
    _configured = True
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_pii,
            renderer,
        ],
    )
    root = logging.getLogger()
    root.handlers[:] = []
    for stream in streams:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
