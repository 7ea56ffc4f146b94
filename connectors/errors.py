"""The connector error tree (连接器错误).

Foreign exceptions (httpx, lxml, csv, json) are converted at the boundary into this tree and
chained with ``raise ... from exc``. Only :class:`TemporarySourceError` is ever retried.

    ConnectorError
    ├── SourceError                  a call to a source failed
    │   ├── TemporarySourceError     worth retrying (with backoff)
    │   │   ├── SourceTimeout        connect/read timeout
    │   │   ├── SourceConnectionError  refused, reset, DNS
    │   │   ├── SourceServerError    HTTP 5xx, SOAP Server fault
    │   │   └── SourceRateLimited    HTTP 429 (``retry_after`` seconds when given)
    │   ├── SourceAuthError          401/403 that a fresh credential did not cure
    │   ├── SourceRequestRejected    any other 4xx, SOAP Client fault: our request is wrong
    │   └── SourceResponseError      a page we cannot read at all (not one bad record)
    ├── BreakerOpen                  the source's circuit breaker refuses calls for now
    └── SourcesFileError             the sources file (TOML) is invalid; names the key

    RecordError                      one record cannot be mapped → dead letter, never the batch
"""

from __future__ import annotations

from domain.enums import SourceSystem
from domain.masking import mask_text


class ConnectorError(Exception):
    """Base of every connector failure."""


class SourceError(ConnectorError):
    """A call to a source failed."""

    def __init__(self, source: SourceSystem, message: str) -> None:
        # Sources quote our requests and their data back; never let an identifier through.
        super().__init__(f"{source.value}: {mask_text(message)}")
        self.source = source


class TemporarySourceError(SourceError):
    """A failure that may pass: retried with backoff; a request that still fails once its
    retries are spent counts once toward its source's breaker."""


class SourceTimeout(TemporarySourceError):
    """The source did not answer in time."""


class SourceConnectionError(TemporarySourceError):
    """The connection was refused, reset or could not be made."""


class SourceServerError(TemporarySourceError):
    """The source answered 5xx (or a SOAP Server fault)."""


class SourceRateLimited(TemporarySourceError):
    """The source answered 429; ``retry_after`` is how long it asked us to wait."""

    def __init__(self, source: SourceSystem, message: str, retry_after: float | None) -> None:
        super().__init__(source, message)
        self.retry_after = retry_after


class SourceAuthError(SourceError):
    """Credentials were refused even after refreshing them."""


class SourceRequestRejected(SourceError):
    """A 4xx other than 401/429: retrying the same request cannot help."""


class SourceResponseError(SourceError):
    """The response as a whole could not be read (not XML, not JSON, wrong encoding)."""


class BreakerOpen(ConnectorError):
    """The circuit breaker (熔断器) is open: calls are refused until the cool-down ends."""

    def __init__(
        self, source: SourceSystem, retry_in: float, *, trial_under_way: bool = False
    ) -> None:
        if trial_under_way:
            super().__init__(f"{source.value}: circuit half-open, its one trial call under way")
        else:
            super().__init__(f"{source.value}: circuit open, next try in {retry_in:.0f}s")
        self.source = source
        self.retry_in = retry_in


class SourcesFileError(ConnectorError):
    """The sources file is missing, unreadable or invalid; the message names the key."""


class RecordError(ConnectorError):
    """One source record cannot be mapped; it goes to ``dead_letters`` with this code.

    Codes: ``MISSING_FIELD``, ``INVALID_ID_NUMBER``, ``INVALID_PHONE``, ``INVALID_DATE``,
    ``INVALID_CODE``, ``INVALID_CASE_NUMBER``, ``BAD_ENCODING``, ``MALFORMED``,
    ``FIELD_TOO_LONG`` (an identifier or code longer than its column: ``db.fit``).
    The message never carries personal information.
    """

    def __init__(self, code: str, message: str, *, key: str | None = None) -> None:
        message = mask_text(message)
        super().__init__(f"{code}: {message}")
        self.code = code
        self.reason = message
        self.key = key


_CODES: tuple[tuple[type[ConnectorError], str], ...] = (
    (SourceTimeout, "TIMEOUT"), (SourceConnectionError, "CONNECTION"),
    (SourceRateLimited, "RATE_LIMITED"), (SourceServerError, "SERVER_ERROR"),
    (SourceAuthError, "AUTH"), (SourceRequestRejected, "REJECTED"),
    (SourceResponseError, "BAD_RESPONSE"), (BreakerOpen, "BREAKER_OPEN"),
    (SourcesFileError, "INVALID_SOURCES_FILE"),
)


def error_code(error: BaseException) -> str:
    """A short, stable code for a failed call: a sync run's error and a write-back's
    ``last_error_code`` begin with it (``ERROR`` for anything this tree does not name)."""
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return "ERROR"
