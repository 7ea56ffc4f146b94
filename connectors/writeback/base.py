"""What a writer is: send one write to its target, and (where the target has no idempotency)
find it again by the reference stamped into it.

Exactly-once *effect* per target, by the target's own means:

* ``idempotent`` writers (court: ``Idempotency-Key``; petition: a re-upload replaces the row)
  may simply send again after an unknown outcome;
* the others stamp the write's reference into a field the target keeps (mediation
  ``externalRef``, grid ``bizNo``, 110 ``BZ``) and ``find`` it by reading back before any
  resend.

Errors are those of :mod:`connectors.errors`: ``SourceRequestRejected`` means the target
refused the write (never retried); ``TemporarySourceError`` means the outcome is unknown
unless the writer is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from connectors.breaker import CircuitBreaker
from connectors.config import SourceConfig
from connectors.http import SourceClient
from connectors.retry import RetrySettings
from db.outbox import ClaimedWrite
from domain.enums import SourceSystem


@dataclass(frozen=True, slots=True)
class Delivery:
    """The target's acknowledgement: its own id for the write (if it gives one) and answer."""

    target_ref: str | None
    response: dict[str, Any] = field(default_factory=dict)


class Writer(Protocol):
    target: SourceSystem
    idempotent: bool

    async def send(self, write: ClaimedWrite) -> Delivery:
        """Send once; raise from ``connectors.errors`` on failure."""

    async def find(self, write: ClaimedWrite) -> Delivery | None:
        """The write as the target holds it, found by its reference; None when absent."""


SEND_ONCE = RetrySettings(attempts=1)
"""Sends of a non-idempotent write are never retried inside the call: after a timeout the
outcome is unknown and only a read-back may decide whether to send again."""


def clients(
    source: SourceSystem, config: SourceConfig, http: httpx.AsyncClient,
    breaker: CircuitBreaker, auth: Any, *, idempotent: bool,
) -> tuple[SourceClient, SourceClient]:
    """(the client for sends, the client for read-backs) sharing one connection pool and breaker."""
    retry = config.retry.to_settings()
    send = SourceClient(source, http, auth=auth, retry=retry if idempotent else SEND_ONCE,
                        breaker=breaker)
    read = SourceClient(source, http, auth=auth, retry=retry, breaker=breaker)
    return send, read


def json_object(response: httpx.Response, source: SourceSystem, what: str) -> dict[str, Any]:
    from connectors.errors import SourceResponseError

    try:
        body = response.json()
    except ValueError as exc:
        raise SourceResponseError(source, f"{what}: answer is not JSON") from exc
    if not isinstance(body, dict):
        raise SourceResponseError(source, f"{what}: answer is not an object")
    return body
