"""The sources file (数据源配置, TOML at ``GOVHUB_SOURCES_FILE``).

One table per source, keyed by its ``SourceSystem`` name::

    [sources.COURT]
    base_url = "http://127.0.0.1:9105"
    schedule_seconds = 60
    page_size = 100
    timeout_seconds = 10
    credentials = { client_id = "govhub", client_secret = "..." }
    retry = { attempts = 5, total_seconds = 60 }
    breaker = { threshold = 3, cooldown_seconds = 30 }

Unknown keys are errors (a typo must not silently fall back to a default); every error names
the offending key, e.g. ``sources.COURT.page_size: Input should be greater than 0``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from connectors.errors import SourcesFileError
from connectors.retry import RetrySettings
from domain.enums import SourceSystem
from domain.rulefiles import read_utf8


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Strict):
    attempts: int = Field(5, ge=1, le=20)
    total_seconds: float = Field(60.0, gt=0)
    initial_wait: float = Field(0.5, ge=0)
    max_wait: float = Field(20.0, gt=0)
    jitter: float = Field(0.5, ge=0)

    def to_settings(self) -> RetrySettings:
        return RetrySettings(
            attempts=self.attempts,
            total_seconds=self.total_seconds,
            initial_wait=self.initial_wait,
            max_wait=self.max_wait,
            jitter=self.jitter,
        )


class BreakerConfig(_Strict):
    """The source's circuit breaker (``connectors.breaker``): it opens after ``threshold``
    requests in a row failed with all their retries spent, for ``cooldown_seconds``."""

    threshold: int = Field(3, ge=1)
    cooldown_seconds: float = Field(30.0, gt=0)


class SourceConfig(_Strict):
    base_url: HttpUrl
    enabled: bool = True
    schedule_seconds: float = Field(60.0, gt=0)
    page_size: int = Field(100, gt=0, le=1000)
    timeout_seconds: float = Field(10.0, gt=0)
    credentials: dict[str, str] = Field(default_factory=dict)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)

    @property
    def url(self) -> str:
        return str(self.base_url).rstrip("/")

    def credential(self, source: SourceSystem, name: str) -> str:
        """A required credential, or a :class:`SourcesFileError` naming the missing key."""
        value = self.credentials.get(name)
        if not value:
            raise SourcesFileError(f"sources.{source.value}.credentials.{name} is required")
        return value


class SourcesFile(_Strict):
    sources: dict[SourceSystem, SourceConfig]


def parse_sources(
    document: str, *, origin: str = "sources file"
) -> dict[SourceSystem, SourceConfig]:
    """Parse TOML text; raise :class:`SourcesFileError` naming the offending key."""
    try:
        data = tomllib.loads(document)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesFileError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return SourcesFile.model_validate(data).sources
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise SourcesFileError(f"{origin}: {problems}") from exc


def load_sources(path: Path) -> dict[SourceSystem, SourceConfig]:
    try:
        text = read_utf8(path, SourcesFileError)
    except OSError as exc:
        raise SourcesFileError(f"cannot read sources file {path}: {exc.strerror}") from exc
    return parse_sources(text, origin=str(path))
